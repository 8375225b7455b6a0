//! CompareStances and GetArticle answers encoded straight from what the store returns. Built
//! as `pb::CompareStancesResponse`, a page of 20 rows x 3 evidence copied about 900 strings into
//! the wire types (the store shares its evidence statements), and prost computed every nested
//! message's length once per enclosing message; a full `pb::Article` copied the article id
//! into every mention and statement. [`StanceAnswer`] and [`ArticleAnswer`] write the same bytes
//! from the store's values themselves, with each length computed once.
//!
//! The wire layouts written here are `communique.v1.CompareStancesResponse` and
//! `GetArticleResponse` as prost encodes them (fields in tag order, proto3 defaults left out);
//! the tests compare them byte for byte with the encoding of the responses that
//! `communique_grpc::convert` builds from the same values.

use communique_domain::query::{Evidence, StanceRow};
use communique_domain::{Article, Date, Mention, Span, Statement, Target};
use communique_grpc::convert::{
    act_to_pb, article_to_pb, date_source_to_pb, entity_kind_to_pb, label_to_pb, stance_row_to_pb,
    statement_kind_to_pb, text_field_to_pb,
};
use communique_proto::v1 as pb;
use communique_store::StoredArticle;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, encoded_len_varint, skip_field};

/// Every field number written here is below 16: its key is one byte.
const KEY_LEN: usize = 1;

/// A `pb::CompareStancesResponse` held as the store's rows.
#[derive(Debug, Default)]
pub struct StanceAnswer {
    target: Option<pb::Entity>,
    rows: Vec<PlannedRow>,
    next_page_token: String,
    /// The encoded length of the whole answer.
    len: usize,
}

#[derive(Debug)]
struct PlannedRow {
    row: StanceRow,
    /// The encoded length of the row message.
    len: usize,
    /// Per evidence: the encoded lengths of its message and of its statement message.
    evidence: Vec<(usize, usize)>,
}

impl StanceAnswer {
    pub fn new(target: pb::Entity, rows: Vec<StanceRow>, next_page_token: String) -> StanceAnswer {
        let rows: Vec<PlannedRow> = rows.into_iter().map(PlannedRow::new).collect();
        let target_len = target.encoded_len();
        let len = nested_len(target_len)
            + rows.iter().map(|row| nested_len(row.len)).sum::<usize>()
            + string_len(&next_page_token);
        StanceAnswer {
            target: Some(target),
            rows,
            next_page_token,
            len,
        }
    }

    /// The answer as the generated wire type.
    pub fn into_pb(self) -> pb::CompareStancesResponse {
        pb::CompareStancesResponse {
            target: self.target,
            rows: self
                .rows
                .into_iter()
                .map(|planned| stance_row_to_pb(planned.row))
                .collect(),
            next_page_token: self.next_page_token,
        }
    }
}

impl PlannedRow {
    fn new(row: StanceRow) -> PlannedRow {
        let evidence: Vec<(usize, usize)> = row
            .evidence
            .iter()
            .map(|evidence| {
                let statement = statement_len(
                    &evidence.statement.article_id,
                    &evidence.statement.statement,
                );
                let ids: usize = evidence
                    .source_article_ids
                    .iter()
                    .map(|id| KEY_LEN + nested_len_value(id.len()))
                    .sum();
                (nested_len(statement) + ids, statement)
            })
            .collect();
        let government = government_len(&row.government.code, &row.government.name);
        let len = nested_len(government)
            + float_len(row.tally.score())
            + int32_len(label_to_pb(row.tally.label()) as i32)
            + uint32_len(row.tally.statement_count)
            + evidence
                .iter()
                .map(|(len, _)| nested_len(*len))
                .sum::<usize>();
        PlannedRow { row, len, evidence }
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        let row = &self.row;
        key(1, WireType::LengthDelimited, buf);
        varint(
            government_len(&row.government.code, &row.government.name) as u64,
            buf,
        );
        string(1, &row.government.code, buf);
        string(2, &row.government.name, buf);
        float(2, row.tally.score(), buf);
        int32(3, label_to_pb(row.tally.label()) as i32, buf);
        uint32(4, row.tally.statement_count, buf);
        for (evidence, (len, statement_len)) in row.evidence.iter().zip(&self.evidence) {
            key(5, WireType::LengthDelimited, buf);
            varint(*len as u64, buf);
            encode_evidence(evidence, *statement_len, buf);
        }
    }
}

fn encode_evidence(evidence: &Evidence, statement_len: usize, buf: &mut Vec<u8>) {
    key(1, WireType::LengthDelimited, buf);
    varint(statement_len as u64, buf);
    encode_statement(
        &evidence.statement.article_id,
        &evidence.statement.statement,
        buf,
    );
    for id in &evidence.source_article_ids {
        key(2, WireType::LengthDelimited, buf);
        varint(id.len() as u64, buf);
        buf.extend_from_slice(id.as_bytes());
    }
}

/// `pb::Statement` as `communique_grpc::convert::statement_to_pb` builds it.
fn statement_len(article_id: &str, statement: &Statement) -> usize {
    let id_len = article_id.len() + 1 + decimal_len(statement.ordinal);
    let speaker = string_len(statement.speaker.entity_id.as_deref().unwrap_or_default())
        + string_len(&statement.speaker.name);
    let span = int32_len(text_field_to_pb(statement.span.field) as i32)
        + uint32_len(statement.span.start)
        + uint32_len(statement.span.end);
    KEY_LEN
        + nested_len_value(id_len)
        + string_len(article_id)
        + string_len(&statement.text)
        + int32_len(statement_kind_to_pb(statement.kind) as i32)
        + nested_len(speaker)
        + statement
            .governments
            .iter()
            .map(|g| nested_len(government_len(&g.code, &g.name)))
            .sum::<usize>()
        + statement
            .targets
            .iter()
            .map(|t| nested_len(target_len(t)))
            .sum::<usize>()
        + int32_len(act_to_pb(statement.act) as i32)
        + nested_len(span)
}

fn encode_statement(article_id: &str, statement: &Statement, buf: &mut Vec<u8>) {
    // The id, `<article id>/<ordinal>`, as `Statement::id` formats it.
    let mut digits = [0u8; 10];
    let ordinal = decimal(statement.ordinal, &mut digits);
    key(1, WireType::LengthDelimited, buf);
    varint((article_id.len() + 1 + ordinal.len()) as u64, buf);
    buf.extend_from_slice(article_id.as_bytes());
    buf.push(b'/');
    buf.extend_from_slice(ordinal);
    string(2, article_id, buf);
    string(3, &statement.text, buf);
    int32(4, statement_kind_to_pb(statement.kind) as i32, buf);
    let speaker_id = statement.speaker.entity_id.as_deref().unwrap_or_default();
    key(5, WireType::LengthDelimited, buf);
    varint(
        (string_len(speaker_id) + string_len(&statement.speaker.name)) as u64,
        buf,
    );
    string(1, speaker_id, buf);
    string(2, &statement.speaker.name, buf);
    for government in &statement.governments {
        key(6, WireType::LengthDelimited, buf);
        varint(
            government_len(&government.code, &government.name) as u64,
            buf,
        );
        string(1, &government.code, buf);
        string(2, &government.name, buf);
    }
    for target in &statement.targets {
        key(7, WireType::LengthDelimited, buf);
        varint(target_len(target) as u64, buf);
        string(1, &target.entity_id, buf);
        string(2, &target.name, buf);
        float(3, target.polarity, buf);
    }
    int32(8, act_to_pb(statement.act) as i32, buf);
    encode_span(9, &statement.span, buf);
}

fn span_len(span: &Span) -> usize {
    int32_len(text_field_to_pb(span.field) as i32) + uint32_len(span.start) + uint32_len(span.end)
}

fn encode_span(tag: u32, span: &Span, buf: &mut Vec<u8>) {
    key(tag, WireType::LengthDelimited, buf);
    varint(span_len(span) as u64, buf);
    int32(1, text_field_to_pb(span.field) as i32, buf);
    uint32(2, span.start, buf);
    uint32(3, span.end, buf);
}

/// `pb::Mention` as `communique_grpc::convert::mention_to_pb` builds it for a full article:
/// the article's id, no sentence.
fn mention_len(article_id: &str, mention: &Mention) -> usize {
    string_len(&mention.entity_id)
        + string_len(&mention.entity_name)
        + int32_len(entity_kind_to_pb(mention.kind) as i32)
        + string_len(&mention.text)
        + nested_len(span_len(&mention.span))
        + string_len(article_id)
}

fn encode_mention(article_id: &str, mention: &Mention, buf: &mut Vec<u8>) {
    string(1, &mention.entity_id, buf);
    string(2, &mention.entity_name, buf);
    int32(3, entity_kind_to_pb(mention.kind) as i32, buf);
    string(4, &mention.text, buf);
    encode_span(5, &mention.span, buf);
    string(6, article_id, buf);
}

/// `pb::Date` as `communique_grpc::convert::date_to_pb` builds it.
fn date_fields(date: Date) -> [i32; 3] {
    [date.year(), date.month() as i32, date.day() as i32]
}

fn date_len(date: Date) -> usize {
    date_fields(date).into_iter().map(int32_len).sum()
}

fn encode_date(tag: u32, date: Date, buf: &mut Vec<u8>) {
    key(tag, WireType::LengthDelimited, buf);
    varint(date_len(date) as u64, buf);
    for (field, value) in (1..).zip(date_fields(date)) {
        int32(field, value, buf);
    }
}

fn repeated_string_len(values: &[String]) -> usize {
    values
        .iter()
        .map(|value| KEY_LEN + nested_len_value(value.len()))
        .sum()
}

fn repeated_string(tag: u32, values: &[String], buf: &mut Vec<u8>) {
    for value in values {
        key(tag, WireType::LengthDelimited, buf);
        varint(value.len() as u64, buf);
        buf.extend_from_slice(value.as_bytes());
    }
}

/// A `pb::GetArticleResponse` held as the stored article.
#[derive(Debug, Default)]
pub struct ArticleAnswer {
    article: Option<StoredArticle>,
    full: bool,
    /// The encoded length of each mention message.
    mention_lens: Vec<usize>,
    /// The encoded length of each statement message.
    statement_lens: Vec<usize>,
    /// The encoded length of the article message.
    article_len: usize,
}

impl ArticleAnswer {
    /// The article in the view `article_to_pb` gives: a basic one without body, mentions and
    /// statements.
    pub fn new(mut stored: StoredArticle, full: bool) -> ArticleAnswer {
        if !full {
            stored.article.body = String::new();
            stored.article.mentions = Vec::new();
            stored.article.statements = Vec::new();
        }
        let a = &stored.article;
        let mention_lens: Vec<usize> = a
            .mentions
            .iter()
            .map(|mention| mention_len(&a.id, mention))
            .collect();
        let statement_lens: Vec<usize> = a
            .statements
            .iter()
            .map(|statement| statement_len(&a.id, statement))
            .collect();
        let published = a.published.as_ref().map_or(0, |published| {
            nested_len(date_len(published.date))
                + int32_len(date_source_to_pb(published.source) as i32)
        });
        let article_len = string_len(&a.id)
            + string_len(&a.title)
            + string_len(a.url.as_deref().unwrap_or_default())
            + string_len(a.source.as_deref().unwrap_or_default())
            + repeated_string_len(&a.authors)
            + published
            + string_len(&a.content_hash)
            + uint32_len(stored.mention_count)
            + uint32_len(stored.statement_count)
            + repeated_string_len(&stored.government_codes)
            + string_len(&a.body)
            + mention_lens
                .iter()
                .map(|len| nested_len(*len))
                .sum::<usize>()
            + statement_lens
                .iter()
                .map(|len| nested_len(*len))
                .sum::<usize>()
            + string_len(a.duplicate_of.as_deref().unwrap_or_default());
        ArticleAnswer {
            article: Some(stored),
            full,
            mention_lens,
            statement_lens,
            article_len,
        }
    }

    /// The answer as the generated wire type.
    pub fn into_pb(self) -> pb::GetArticleResponse {
        let full = self.full;
        pb::GetArticleResponse {
            article: self.article.map(|stored| article_to_pb(stored, full)),
        }
    }

    fn encode_article(&self, stored: &StoredArticle, buf: &mut Vec<u8>) {
        let a: &Article = &stored.article;
        string(1, &a.id, buf);
        string(2, &a.title, buf);
        string(3, a.url.as_deref().unwrap_or_default(), buf);
        string(4, a.source.as_deref().unwrap_or_default(), buf);
        repeated_string(5, &a.authors, buf);
        if let Some(published) = &a.published {
            encode_date(6, published.date, buf);
            int32(7, date_source_to_pb(published.source) as i32, buf);
        }
        string(8, &a.content_hash, buf);
        uint32(9, stored.mention_count, buf);
        uint32(10, stored.statement_count, buf);
        repeated_string(11, &stored.government_codes, buf);
        string(12, &a.body, buf);
        for (mention, len) in a.mentions.iter().zip(&self.mention_lens) {
            key(13, WireType::LengthDelimited, buf);
            varint(*len as u64, buf);
            encode_mention(&a.id, mention, buf);
        }
        for (statement, len) in a.statements.iter().zip(&self.statement_lens) {
            key(14, WireType::LengthDelimited, buf);
            varint(*len as u64, buf);
            encode_statement(&a.id, statement, buf);
        }
        string(15, a.duplicate_of.as_deref().unwrap_or_default(), buf);
    }
}

impl Message for ArticleAnswer {
    /// Written into a vector first, as [`StanceAnswer`]'s.
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if let Some(stored) = &self.article {
            let mut bytes = Vec::with_capacity(self.encoded_len());
            key(1, WireType::LengthDelimited, &mut bytes);
            varint(self.article_len as u64, &mut bytes);
            self.encode_article(stored, &mut bytes);
            buf.put_slice(&bytes);
        }
    }

    /// Only ever encoded: a decoder skips every field.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        if self.article.is_some() {
            nested_len(self.article_len)
        } else {
            0
        }
    }

    fn clear(&mut self) {
        *self = ArticleAnswer::default();
    }
}

fn government_len(code: &str, name: &str) -> usize {
    string_len(code) + string_len(name)
}

fn target_len(target: &Target) -> usize {
    string_len(&target.entity_id) + string_len(&target.name) + float_len(target.polarity)
}

impl Message for StanceAnswer {
    /// Writes the answer into a vector first: tonic's buffer takes each byte of a varint as a
    /// slice copy, a vector pushes it.
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let mut bytes = Vec::with_capacity(self.len);
        if let Some(target) = &self.target {
            prost::encoding::message::encode(1, target, &mut bytes);
        }
        for row in &self.rows {
            key(2, WireType::LengthDelimited, &mut bytes);
            varint(row.len as u64, &mut bytes);
            row.encode(&mut bytes);
        }
        string(3, &self.next_page_token, &mut bytes);
        buf.put_slice(&bytes);
    }

    /// Only ever encoded: a decoder skips every field.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        *self = StanceAnswer::default();
    }
}

/// A generated response, encoded through a vector: prost puts each byte of a varint into
/// tonic's buffer as a slice copy (a `memcpy` call), into a vector as a store. Its length is
/// computed once.
#[derive(Debug, Default)]
pub struct Encoded<M> {
    message: M,
    len: usize,
}

impl<M: Message> Encoded<M> {
    pub fn new(message: M) -> Encoded<M> {
        let len = message.encoded_len();
        Encoded { message, len }
    }
}

impl<M: Message + Default> Message for Encoded<M> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let mut bytes = Vec::with_capacity(self.len);
        self.message.encode_raw(&mut bytes);
        buf.put_slice(&bytes);
    }

    /// Only ever encoded: a decoder skips every field.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        *self = Encoded::default();
    }
}

/// A field key: one byte, every field number written here being below 16.
fn key(tag: u32, wire_type: WireType, buf: &mut Vec<u8>) {
    debug_assert!(tag < 16);
    buf.push(((tag << 3) as u8) | wire_type as u8);
}

/// A varint, as `prost::encoding::encode_varint` writes it, pushed byte by byte (prost's puts
/// each byte through `BufMut::put_slice`).
fn varint(mut value: u64, buf: &mut Vec<u8>) {
    while value >= 0x80 {
        buf.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// A length-delimited value of `len` bytes, without its key.
fn nested_len_value(len: usize) -> usize {
    encoded_len_varint(len as u64) + len
}

/// A present message field of `len` bytes.
fn nested_len(len: usize) -> usize {
    KEY_LEN + nested_len_value(len)
}

/// A proto3 string field: left out when empty.
fn string_len(value: &str) -> usize {
    if value.is_empty() {
        0
    } else {
        KEY_LEN + nested_len_value(value.len())
    }
}

fn string(tag: u32, value: &str, buf: &mut Vec<u8>) {
    if !value.is_empty() {
        key(tag, WireType::LengthDelimited, buf);
        varint(value.len() as u64, buf);
        buf.extend_from_slice(value.as_bytes());
    }
}

/// A proto3 float field: left out when zero (as prost compares, so -0.0 too).
fn float_len(value: f32) -> usize {
    if value != 0.0 { KEY_LEN + 4 } else { 0 }
}

fn float(tag: u32, value: f32, buf: &mut Vec<u8>) {
    if value != 0.0 {
        key(tag, WireType::ThirtyTwoBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// A proto3 int32 or enum field: left out when zero; a negative value takes ten bytes.
fn int32_len(value: i32) -> usize {
    if value != 0 {
        KEY_LEN + encoded_len_varint(value as u64)
    } else {
        0
    }
}

fn int32(tag: u32, value: i32, buf: &mut Vec<u8>) {
    if value != 0 {
        key(tag, WireType::Varint, buf);
        varint(value as u64, buf);
    }
}

fn uint32_len(value: u32) -> usize {
    if value != 0 {
        KEY_LEN + encoded_len_varint(u64::from(value))
    } else {
        0
    }
}

fn uint32(tag: u32, value: u32, buf: &mut Vec<u8>) {
    if value != 0 {
        key(tag, WireType::Varint, buf);
        varint(u64::from(value), buf);
    }
}

fn decimal_len(value: u32) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The decimal digits of `value`, written at the end of `digits`.
fn decimal(mut value: u32, digits: &mut [u8; 10]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            *digit = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    digits.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use communique_domain::query::{StanceTally, StoredStatement};
    use communique_domain::{
        Act, DateSource, EntityKind, EntitySummary, Government, PublishedDate, Speaker,
        StatementKind, TextField,
    };
    use communique_grpc::convert::entity_to_pb;

    use super::*;

    fn statement(ordinal: u32, polarity: f32, speaker_id: Option<&str>) -> Statement {
        Statement {
            ordinal,
            text: "We will not \"lament\" his death — ever.".into(),
            kind: if ordinal.is_multiple_of(2) {
                StatementKind::Direct
            } else {
                StatementKind::Indirect
            },
            speaker: Speaker {
                entity_id: speaker_id.map(str::to_owned),
                name: if ordinal == 7 {
                    String::new()
                } else {
                    "Boris Johnson".into()
                },
            },
            governments: (0..ordinal % 3)
                .map(|i| Government {
                    code: format!("G{i}"),
                    name: if i == 1 { String::new() } else { "Gov".into() },
                })
                .collect(),
            targets: vec![
                Target {
                    entity_id: "irn".into(),
                    name: "Iran".into(),
                    polarity,
                },
                Target {
                    entity_id: String::new(),
                    name: "x".repeat(200),
                    polarity: -0.0,
                },
            ],
            act: Act::Condemn,
            span: Span {
                field: if ordinal == 0 {
                    TextField::Title
                } else {
                    TextField::Body
                },
                start: ordinal.wrapping_mul(1000),
                end: ordinal.wrapping_mul(1000).wrapping_add(300),
            },
        }
    }

    fn row(code: &str, tally: StanceTally, evidence: usize) -> StanceRow {
        let polarities = [0.0, -0.75, 1.0, 0.25, -1.0, f32::MIN_POSITIVE];
        StanceRow {
            government: Government {
                code: code.into(),
                name: format!("{code} government"),
            },
            tally,
            evidence: (0..evidence)
                .map(|i| {
                    let ordinal = [0, 1, 7, 9, 10, 99, 100, 12345, u32::MAX][i % 9];
                    Evidence {
                        statement: Arc::new(StoredStatement {
                            article_id: if i == 3 {
                                String::new()
                            } else {
                                format!("article-{i}")
                            },
                            published: Date::new(2020, 1, 5),
                            statement: statement(
                                ordinal,
                                polarities[i % polarities.len()],
                                (i % 2 == 0).then_some("uk-gov"),
                            ),
                        }),
                        polarity: polarities[i % polarities.len()],
                        source_article_ids: (0..i % 4).map(|j| format!("a{j}")).collect(),
                    }
                })
                .collect(),
        }
    }

    fn target() -> pb::Entity {
        entity_to_pb(EntitySummary {
            entity: communique_domain::Entity {
                id: "irn".into(),
                name: "Iran".into(),
                kind: EntityKind::Country,
                aliases: vec!["Islamic Republic of Iran".into(), "Persia".into()],
                affiliations: Vec::new(),
                government_code: Some("IRN".into()),
            },
            article_count: 1234,
            mention_count: 0,
        })
    }

    #[test]
    fn an_answer_encodes_as_the_response_built_from_the_same_rows() {
        let tallies = [
            StanceTally::default(),
            StanceTally {
                statement_count: 3,
                positive_sum: 0.5,
                negative_sum: 2.0,
            },
            StanceTally {
                statement_count: 200,
                positive_sum: 80.0,
                negative_sum: 10.0,
            },
            StanceTally {
                statement_count: 1,
                positive_sum: 0.0,
                negative_sum: 0.0,
            },
        ];
        let cases: Vec<(Vec<StanceRow>, String)> = vec![
            (Vec::new(), String::new()),
            (vec![row("USA", tallies[1], 3)], String::new()),
            (
                (0..25)
                    .map(|i| row(&format!("C{i}"), tallies[i % tallies.len()], i % 12))
                    .collect(),
                "p1.0123456789abcdef.00000003474252".into(),
            ),
            (
                vec![row("", tallies[0], 0), row("EU", tallies[2], 40)],
                String::new(),
            ),
        ];
        for (rows, token) in cases {
            let answer = StanceAnswer::new(target(), rows.clone(), token.clone());
            let expected = pb::CompareStancesResponse {
                target: Some(target()),
                rows: rows.into_iter().map(stance_row_to_pb).collect(),
                next_page_token: token,
            };
            let bytes = answer.encode_to_vec();
            assert_eq!(answer.encoded_len(), bytes.len());
            assert_eq!(bytes, expected.encode_to_vec());
            assert_eq!(answer.into_pb(), expected);
        }
    }

    #[test]
    fn an_encoded_message_is_the_message() {
        let message = pb::SearchEntitiesResponse {
            entities: vec![target(), target()],
            next_page_token: "p1.x.00".into(),
            matches: vec![pb::EntityMatch {
                entity_id: "irn".into(),
                match_type: pb::MatchType::Prefix as i32,
                matched_alias: "iran".into(),
                score: 0.5,
            }],
        };
        let encoded = Encoded::new(message.clone());
        assert_eq!(encoded.encoded_len(), message.encoded_len());
        assert_eq!(encoded.encode_to_vec(), message.encode_to_vec());
    }

    #[test]
    fn varints_are_written_as_prost_writes_them() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            varint(value, &mut ours);
            let mut theirs = Vec::new();
            prost::encoding::encode_varint(value, &mut theirs);
            assert_eq!(ours, theirs);
            assert_eq!(ours.len(), encoded_len_varint(value));
        }
    }

    #[test]
    fn ordinals_are_written_in_decimal() {
        for value in [0, 1, 9, 10, 11, 99, 100, 65_535, 1_000_000, u32::MAX] {
            let mut digits = [0u8; 10];
            let written = decimal(value, &mut digits);
            assert_eq!(written, value.to_string().as_bytes());
            assert_eq!(decimal_len(value), written.len());
        }
    }

    fn stored(published: Option<PublishedDate>, optional: bool) -> StoredArticle {
        let id = "000_d9314bceb94995f8".to_owned();
        StoredArticle {
            article: Article {
                id: id.clone(),
                title: "Boris Johnson finally responds to Iran crisis".into(),
                body: "Body text — with unicode, and\nlines. ".repeat(300),
                url: optional.then(|| "https://example.com/a".into()),
                source: optional.then(|| "theguardian.com".into()),
                authors: if optional {
                    vec!["A. Writer".into(), String::new()]
                } else {
                    Vec::new()
                },
                published,
                content_hash: "abc123".into(),
                mentions: (0..40)
                    .map(|i| Mention {
                        entity_id: if i == 3 {
                            String::new()
                        } else {
                            format!("e{i}")
                        },
                        entity_name: "Iran".into(),
                        kind: [EntityKind::Country, EntityKind::Person, EntityKind::Other][i % 3],
                        text: "Iran".into(),
                        span: Span {
                            field: if i == 0 {
                                TextField::Title
                            } else {
                                TextField::Body
                            },
                            start: (i * 37) as u32,
                            end: (i * 37 + 4) as u32,
                        },
                    })
                    .collect(),
                statements: (0..12)
                    .map(|i| statement(i, [0.0, -0.5, 1.0][i as usize % 3], Some("uk-gov")))
                    .collect(),
                duplicate_of: optional.then(|| "001_original".into()),
            },
            mention_count: if optional { 40 } else { 0 },
            statement_count: 12,
            government_codes: vec!["GBR".into(), "USA".into()],
        }
    }

    #[test]
    fn an_article_answer_encodes_as_the_response_built_from_the_same_article() {
        let dates = [
            None,
            Some(PublishedDate {
                date: Date::new(2020, 1, 5).unwrap(),
                source: DateSource::Metadata,
            }),
            Some(PublishedDate {
                date: Date::new(1, 12, 31).unwrap(),
                source: DateSource::Estimated,
            }),
        ];
        for published in dates {
            for optional in [false, true] {
                for full in [false, true] {
                    let article = stored(published.clone(), optional);
                    let answer = ArticleAnswer::new(article.clone(), full);
                    let expected = pb::GetArticleResponse {
                        article: Some(article_to_pb(article, full)),
                    };
                    let bytes = answer.encode_to_vec();
                    assert_eq!(answer.encoded_len(), bytes.len());
                    assert_eq!(bytes, expected.encode_to_vec());
                    assert_eq!(answer.into_pb(), expected);
                }
            }
        }
    }

    /// Every field, by number, of the messages this file writes by hand: what it writes, and
    /// what it leaves out on purpose. The encoders are checked against prost only for the
    /// fields their test data sets, so a field added in `proto/` would otherwise go missing
    /// from the answers without a failing test.
    const FIELDS_WRITTEN_BY_HAND: &[(&str, &[i32])] = &[
        ("CompareStancesResponse", &[1, 2, 3]),
        ("StanceRow", &[1, 2, 3, 4, 5]),
        ("Evidence", &[1, 2]),
        ("Government", &[1, 2]),
        ("Statement", &[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ("Speaker", &[1, 2]),
        ("StatementTarget", &[1, 2, 3]),
        ("TextSpan", &[1, 2, 3]),
        // 7, `sentence`, is left empty in an article's mentions, as `mention_to_pb` leaves it.
        ("Mention", &[1, 2, 3, 4, 5, 6, 7]),
        ("Date", &[1, 2, 3]),
        ("GetArticleResponse", &[1]),
        (
            "Article",
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        ),
    ];

    #[test]
    fn every_field_of_the_hand_written_messages_is_known_here() {
        let descriptors =
            prost_types::FileDescriptorSet::decode(communique_proto::FILE_DESCRIPTOR_SET).unwrap();
        let messages: Vec<&prost_types::DescriptorProto> = descriptors
            .file
            .iter()
            .filter(|file| file.package() == "communique.v1")
            .flat_map(|file| &file.message_type)
            .collect();
        for (name, known) in FIELDS_WRITTEN_BY_HAND {
            let message = messages
                .iter()
                .find(|message| message.name() == *name)
                .unwrap_or_else(|| panic!("communique.v1.{name} is not in the protos"));
            let mut fields: Vec<i32> = message.field.iter().map(|field| field.number()).collect();
            fields.sort_unstable();
            assert_eq!(
                &fields, known,
                "communique.v1.{name} has fields {fields:?}, answer.rs knows {known:?}: write the \
                 new field in answer.rs (or say why it is left out) and list it here"
            );
        }
    }
}
