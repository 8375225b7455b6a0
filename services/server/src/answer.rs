//! Answers encoded once, straight from what the store returns. Built as
//! `pb::CompareStancesResponse`, a page of 20 rows x 3 evidence copied about 900 strings into
//! the wire types (the store shares its evidence statements), and prost computed every nested
//! message's length once per enclosing message; a full `pb::Article` copied the article id
//! into every mention and statement. [`stance_answer`] and [`article_answer`] write the same
//! bytes from the store's values in one pass: a nested message's length is written ahead in
//! the bytes it most likely takes and corrected once its body is written (the body moves in
//! the rare case it took another width), so no pass computes lengths first.
//!
//! The wire layouts written here are `communique.v1.CompareStancesResponse` and
//! `GetArticleResponse` as prost encodes them (fields in tag order, proto3 defaults left out);
//! the tests compare them byte for byte with the encoding of the responses that
//! `communique_grpc::convert` builds from the same values.

use std::fmt;
use std::marker::PhantomData;

use communique_domain::query::{LentEvidence, LentStanceRow, StoredStatement};
use communique_domain::{Date, EntitySummary, Government, Mention, Span, Statement};
use communique_grpc::convert::{
    act_to_pb, date_source_to_pb, entity_kind_to_pb, label_to_pb, statement_kind_to_pb,
    text_field_to_pb,
};
use communique_proto::v1 as pb;
use communique_store::StoredArticle;
use prost::Message;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{DecodeContext, WireType, encoded_len_varint, skip_field};

use crate::statement_wires::{StatementWires, WireLookup};

/// Every field number written here is below 16: its key is one byte.
const KEY_LEN: usize = 1;

/// More than a statement message takes besides its text, for reserving an answer's bytes.
const STATEMENT_BYTES: usize = 320;

/// The bytes of gRPC's message prefix: a compression flag, then the length (big-endian u32).
const MESSAGE_PREFIX_LEN: usize = 5;

/// The wire bytes of an `M`, written once; as a `Message` it only encodes (tonic's buffer gets
/// them in one copy: prost would put each byte of a varint into it as a slice copy). They are
/// written after room for gRPC's message prefix, so that [`Encoded::into_framed`] hands them to
/// the connection as they are (`routes.rs`), without the copy into tonic's buffer.
pub struct Encoded<M> {
    /// [`MESSAGE_PREFIX_LEN`] bytes of room, then the message.
    framed: Vec<u8>,
    message: PhantomData<fn() -> M>,
}

impl<M: Message + Default> Encoded<M> {
    /// A generated message, encoded.
    pub fn new(message: &M) -> Encoded<M> {
        let mut buf = prefixed(message.encoded_len());
        message.encode_raw(&mut buf);
        Encoded::from_prefixed(buf)
    }

    /// The message these bytes encode, for a caller that wants the generated type.
    pub fn decode(&self) -> Result<M, prost::DecodeError> {
        M::decode(self.message_bytes())
    }
}

impl<M> Encoded<M> {
    /// `buf` as [`prefixed`] began it, the message written after the room for the prefix.
    fn from_prefixed(buf: Vec<u8>) -> Encoded<M> {
        Encoded {
            framed: buf,
            message: PhantomData,
        }
    }

    fn message_bytes(&self) -> &[u8] {
        self.framed.get(MESSAGE_PREFIX_LEN..).unwrap_or_default()
    }

    /// The message as gRPC frames it (uncompressed): the prefix, then the message, in the same
    /// buffer. `Err` gives it back when it is longer than `max_message_bytes` (for tonic's
    /// encoder to refuse, as the generated servers do) or than the prefix can say.
    pub fn into_framed(mut self, max_message_bytes: usize) -> Result<Bytes, Encoded<M>> {
        let len = self.message_bytes().len();
        let len = match u32::try_from(len) {
            Ok(prefix_len) if len <= max_message_bytes => prefix_len,
            _ => return Err(self),
        };
        let mut prefix = [0u8; MESSAGE_PREFIX_LEN];
        prefix[1..].copy_from_slice(&len.to_be_bytes());
        match self.framed.get_mut(..MESSAGE_PREFIX_LEN) {
            Some(room) => room.copy_from_slice(&prefix),
            None => return Err(self),
        }
        Ok(Bytes::from(self.framed))
    }
}

/// A buffer for a message of about `capacity` bytes, beginning with room for gRPC's prefix.
fn prefixed(capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(MESSAGE_PREFIX_LEN + capacity);
    buf.resize(MESSAGE_PREFIX_LEN, 0);
    buf
}

impl<M> Default for Encoded<M> {
    fn default() -> Self {
        Encoded::from_prefixed(prefixed(0))
    }
}

impl<M> fmt::Debug for Encoded<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("len", &self.message_bytes().len())
            .finish()
    }
}

impl<M: Send + Sync> Message for Encoded<M> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(self.message_bytes());
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
        self.message_bytes().len()
    }

    fn clear(&mut self) {
        self.framed.truncate(MESSAGE_PREFIX_LEN);
    }
}

/// A `pb::Entity` as `communique_grpc::convert::entity_to_pb` builds it from a summary, encoded
/// (without its field key and length): written from a summary the store lends, a stance
/// target is neither copied out of the store nor into a `pb::Entity` (about 6% of a
/// CompareStances answer's instructions).
pub struct EncodedEntity(Vec<u8>);

impl EncodedEntity {
    pub fn of(summary: &EntitySummary) -> EncodedEntity {
        let entity = &summary.entity;
        let capacity = 64
            + entity.id.len()
            + entity.name.len()
            + entity.aliases.iter().map(|a| 4 + a.len()).sum::<usize>()
            + entity.affiliations.len() * 64;
        let mut buf = Vec::with_capacity(capacity);
        string(1, &entity.id, &mut buf);
        string(2, &entity.name, &mut buf);
        int32(3, entity_kind_to_pb(entity.kind) as i32, &mut buf);
        repeated_string(4, &entity.aliases, &mut buf);
        for affiliation in &entity.affiliations {
            nested(5, 1, &mut buf, |buf| {
                string(1, &affiliation.government_code, buf);
                string(2, &affiliation.role, buf);
                if let Some(start) = affiliation.start {
                    encode_date(3, start, buf);
                }
                if let Some(end) = affiliation.end {
                    encode_date(4, end, buf);
                }
            });
        }
        uint32(6, summary.article_count, &mut buf);
        uint32(7, summary.mention_count, &mut buf);
        string(
            8,
            entity.government_code.as_deref().unwrap_or_default(),
            &mut buf,
        );
        EncodedEntity(buf)
    }

    /// The entity as message field `tag`.
    fn write(&self, tag: u32, buf: &mut Vec<u8>) {
        key(tag, WireType::LengthDelimited, buf);
        varint(self.0.len() as u64, buf);
        buf.extend_from_slice(&self.0);
    }
}

/// A `pb::CompareStancesResponse` with `target`, these rows and `next_page_token`.
pub fn stance_answer(
    target: &EncodedEntity,
    rows: &[LentStanceRow<'_>],
    next_page_token: &str,
    statements: &StatementWires,
) -> Encoded<pb::CompareStancesResponse> {
    // More than the answer takes, so that the vector does not grow (a copy of all written so
    // far): an evidence is its text and about 180 bytes more (ids, names, keys, numbers).
    let capacity = 256
        + target.0.len()
        + 64 * rows.len()
        + rows
            .iter()
            .flat_map(|row| &row.evidence)
            .map(|evidence| STATEMENT_BYTES + evidence.statement.statement.text.len())
            .sum::<usize>();
    let mut buf = prefixed(capacity);
    target.write(1, &mut buf);
    statements.answer(encode_evidence_statement, |statements| {
        for row in rows {
            nested(2, 2, &mut buf, |buf| encode_row(row, statements, buf));
        }
    });
    string(3, next_page_token, &mut buf);
    Encoded::from_prefixed(buf)
}

fn encode_row(row: &LentStanceRow<'_>, statements: &mut WireLookup<'_>, buf: &mut Vec<u8>) {
    encode_government(1, row.government, buf);
    float(2, row.tally.score(), buf);
    int32(3, label_to_pb(row.tally.label()) as i32, buf);
    uint32(4, row.tally.statement_count, buf);
    for evidence in &row.evidence {
        nested(5, 2, buf, |buf| encode_evidence(evidence, statements, buf));
    }
}

fn encode_evidence(
    evidence: &LentEvidence<'_>,
    statements: &mut WireLookup<'_>,
    buf: &mut Vec<u8>,
) {
    statements.write(evidence.statement, buf);
    for id in evidence.source_article_ids.iter() {
        key(2, WireType::LengthDelimited, buf);
        varint(id.len() as u64, buf);
        buf.extend_from_slice(id.as_bytes());
    }
}

/// `pb::Evidence`'s `statement` field, as [`StatementWires`] keeps it.
fn encode_evidence_statement(stored: &StoredStatement, buf: &mut Vec<u8>) {
    nested(1, 2, buf, |buf| {
        encode_statement(&stored.article_id, &stored.statement, buf);
    });
}

/// `pb::Statement` as `communique_grpc::convert::statement_to_pb` builds it.
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
        encode_government(6, government, buf);
    }
    for target in &statement.targets {
        key(7, WireType::LengthDelimited, buf);
        varint(
            (string_len(&target.entity_id) + string_len(&target.name) + float_len(target.polarity))
                as u64,
            buf,
        );
        string(1, &target.entity_id, buf);
        string(2, &target.name, buf);
        float(3, target.polarity, buf);
    }
    int32(8, act_to_pb(statement.act) as i32, buf);
    encode_span(9, &statement.span, buf);
}

fn encode_span(tag: u32, span: &Span, buf: &mut Vec<u8>) {
    let field = text_field_to_pb(span.field) as i32;
    key(tag, WireType::LengthDelimited, buf);
    varint(
        (int32_len(field) + uint32_len(span.start) + uint32_len(span.end)) as u64,
        buf,
    );
    int32(1, field, buf);
    uint32(2, span.start, buf);
    uint32(3, span.end, buf);
}

/// `pb::Mention` as `communique_grpc::convert::mention_to_pb` builds it for a full article:
/// the article's id, no sentence.
fn encode_mention(article_id: &str, mention: &Mention, buf: &mut Vec<u8>) {
    string(1, &mention.entity_id, buf);
    string(2, &mention.entity_name, buf);
    int32(3, entity_kind_to_pb(mention.kind) as i32, buf);
    string(4, &mention.text, buf);
    encode_span(5, &mention.span, buf);
    string(6, article_id, buf);
}

/// `pb::Date` as `communique_grpc::convert::date_to_pb` builds it.
fn encode_date(tag: u32, date: Date, buf: &mut Vec<u8>) {
    let fields = [date.year(), date.month() as i32, date.day() as i32];
    key(tag, WireType::LengthDelimited, buf);
    varint(fields.into_iter().map(int32_len).sum::<usize>() as u64, buf);
    for (field, value) in (1..).zip(fields) {
        int32(field, value, buf);
    }
}

fn repeated_string(tag: u32, values: &[String], buf: &mut Vec<u8>) {
    for value in values {
        key(tag, WireType::LengthDelimited, buf);
        varint(value.len() as u64, buf);
        buf.extend_from_slice(value.as_bytes());
    }
}

/// A `pb::GetArticleResponse` with the article in the view `article_to_pb` gives: a basic one
/// without body, mentions and statements.
pub fn article_answer(stored: &StoredArticle, full: bool) -> Encoded<pb::GetArticleResponse> {
    let a = &stored.article;
    let (capacity, width) = if full {
        // The body and the statements' text are most of a full article.
        let text = a.body.len()
            + a.statements
                .iter()
                .map(|statement| statement.text.len())
                .sum::<usize>();
        let size = text + 96 * a.mentions.len() + STATEMENT_BYTES * a.statements.len() + 1024;
        (size, encoded_len_varint(text as u64))
    } else {
        (512, 2)
    };
    let mut buf = prefixed(capacity);
    nested(1, width, &mut buf, |buf| encode_article(stored, full, buf));
    Encoded::from_prefixed(buf)
}

fn encode_article(stored: &StoredArticle, full: bool, buf: &mut Vec<u8>) {
    let a = &stored.article;
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
    if full {
        string(12, &a.body, buf);
        for mention in &a.mentions {
            nested(13, 1, buf, |buf| encode_mention(&a.id, mention, buf));
        }
        for statement in &a.statements {
            nested(14, 2, buf, |buf| encode_statement(&a.id, statement, buf));
        }
    }
    string(15, a.duplicate_of.as_deref().unwrap_or_default(), buf);
}

/// A message field `tag` whose body `write` writes. Its length is written ahead in `width`
/// bytes, the width it most likely takes; a body of another width is moved to fit.
fn nested(tag: u32, width: usize, buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    key(tag, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.resize(at + width, 0);
    write(buf);
    let end = buf.len();
    let len = end - at - width;
    let needed = encoded_len_varint(len as u64);
    if needed > width {
        buf.resize(end + needed - width, 0);
        buf.copy_within(at + width..end, at + needed);
    } else if needed < width {
        buf.copy_within(at + width..end, at + needed);
        buf.truncate(end + needed - width);
    }
    if let Some(bytes) = buf.get_mut(at..at + needed) {
        // Every byte but the last carries the continuation bit: `needed` is the varint's width.
        let mut value = len as u64;
        for byte in bytes.iter_mut() {
            *byte = (value as u8 & 0x7F) | 0x80;
            value >>= 7;
        }
        if let Some(last) = bytes.last_mut() {
            *last &= 0x7F;
        }
    }
}

/// `pb::Government` as `communique_grpc::convert::government_to_pb` builds it.
fn encode_government(tag: u32, government: &Government, buf: &mut Vec<u8>) {
    key(tag, WireType::LengthDelimited, buf);
    varint(
        (string_len(&government.code) + string_len(&government.name)) as u64,
        buf,
    );
    string(1, &government.code, buf);
    string(2, &government.name, buf);
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

/// A proto3 string field: left out when empty.
fn string_len(value: &str) -> usize {
    if value.is_empty() {
        0
    } else {
        KEY_LEN + encoded_len_varint(value.len() as u64) + value.len()
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

    use communique_domain::query::{Evidence, StanceRow, StanceTally, StoredStatement};
    use communique_domain::{
        Act, DateSource, EntityKind, EntitySummary, Government, PublishedDate, Speaker,
        StatementKind, TextField,
    };
    use communique_domain::{Article, Target};
    use communique_grpc::convert::{article_to_pb, entity_to_pb, stance_row_to_pb};

    use super::*;

    #[test]
    fn a_nested_length_written_in_another_width_is_moved_to_fit() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 20_000] {
            let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut expected = vec![0x0A];
            prost::encoding::encode_varint(len as u64, &mut expected);
            expected.extend_from_slice(&body);
            for width in 1..=3 {
                let mut buf = vec![0xFF];
                nested(1, width, &mut buf, |buf| buf.extend_from_slice(&body));
                assert_eq!(buf.first(), Some(&0xFF));
                assert_eq!(buf.get(1..), Some(expected.as_slice()), "{len} in {width}");
            }
        }
    }

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
        entity_to_pb(target_summary())
    }

    fn target_summary() -> EntitySummary {
        EntitySummary {
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
        }
    }

    #[test]
    fn an_entity_encodes_as_the_message_built_from_the_same_summary() {
        let affiliation = |start, end| communique_domain::Affiliation {
            government_code: "GBR".into(),
            role: "Prime Minister".into(),
            start,
            end,
        };
        let mut full = target_summary();
        full.entity.aliases.push(String::new());
        full.entity.affiliations = vec![
            affiliation(Date::new(2019, 7, 24), Date::new(2022, 9, 6)),
            affiliation(None, None),
            affiliation(Date::new(1, 1, 1), None),
        ];
        full.mention_count = 1 << 20;
        let mut bare = target_summary();
        bare.entity = communique_domain::Entity {
            id: String::new(),
            name: String::new(),
            kind: EntityKind::Country,
            aliases: Vec::new(),
            affiliations: vec![communique_domain::Affiliation {
                government_code: String::new(),
                role: String::new(),
                start: None,
                end: None,
            }],
            government_code: None,
        };
        bare.article_count = 0;
        for summary in [target_summary(), full, bare] {
            let mut written = Vec::new();
            EncodedEntity::of(&summary).write(1, &mut written);
            let expected = pb::CompareStancesResponse {
                target: Some(entity_to_pb(summary)),
                ..Default::default()
            };
            assert_eq!(written, expected.encode_to_vec());
        }
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
        // One store of statement encodings for every case and twice each case: the second
        // answer writes every statement from it.
        let statements = StatementWires::new(1 << 20);
        for (rows, token) in cases {
            let lent: Vec<LentStanceRow<'_>> = rows.iter().map(StanceRow::lend).collect();
            let encoded_target = EncodedEntity::of(&target_summary());
            let answer = stance_answer(&encoded_target, &lent, &token, &statements);
            let again = stance_answer(&encoded_target, &lent, &token, &statements);
            drop(lent);
            assert_eq!(again.encode_to_vec(), answer.encode_to_vec());
            let expected = pb::CompareStancesResponse {
                target: Some(target()),
                rows: rows.into_iter().map(stance_row_to_pb).collect(),
                next_page_token: token,
            };
            let bytes = answer.encode_to_vec();
            assert_eq!(answer.encoded_len(), bytes.len());
            assert_eq!(bytes, expected.encode_to_vec());
            assert_eq!(answer.decode().unwrap(), expected);
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
        let encoded = Encoded::new(&message);
        assert_eq!(encoded.encoded_len(), message.encoded_len());
        assert_eq!(encoded.encode_to_vec(), message.encode_to_vec());
        assert_eq!(encoded.decode().unwrap(), message);
    }

    #[test]
    fn a_framed_answer_is_the_grpc_prefix_then_the_message() {
        for len in [0, 1, 300, 70_000] {
            let message = pb::SearchEntitiesResponse {
                next_page_token: "x".repeat(len),
                ..Default::default()
            };
            let bytes = message.encode_to_vec();
            let framed = Encoded::new(&message).into_framed(bytes.len()).unwrap();
            let length = u32::try_from(bytes.len()).unwrap().to_be_bytes();
            assert_eq!(framed.first(), Some(&0), "not compressed");
            assert_eq!(framed.get(1..5), Some(&length[..]));
            assert_eq!(framed.get(5..), Some(bytes.as_slice()));
        }
    }

    #[test]
    fn an_answer_over_the_message_limit_is_not_framed_but_given_back_whole() {
        let message = pb::SearchEntitiesResponse {
            next_page_token: "x".repeat(300),
            ..Default::default()
        };
        let bytes = message.encode_to_vec();
        let given_back = Encoded::new(&message)
            .into_framed(bytes.len() - 1)
            .unwrap_err();
        assert_eq!(given_back.encode_to_vec(), bytes);
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
                    let answer = article_answer(&article, full);
                    let expected = pb::GetArticleResponse {
                        article: Some(article_to_pb(article, full)),
                    };
                    let bytes = answer.encode_to_vec();
                    assert_eq!(answer.encoded_len(), bytes.len());
                    assert_eq!(bytes, expected.encode_to_vec());
                    assert_eq!(answer.decode().unwrap(), expected);
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
        ("Entity", &[1, 2, 3, 4, 5, 6, 7, 8]),
        ("Affiliation", &[1, 2, 3, 4]),
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
