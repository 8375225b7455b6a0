//! A CompareStances answer encoded straight from the store's rows. Built as
//! `pb::CompareStancesResponse`, a page of 20 rows x 3 evidence copied about 900 strings into
//! the wire types (the store shares its evidence statements) and computed every nested
//! message's length once per enclosing message; [`StanceAnswer`] writes the same bytes from the
//! rows themselves, with each length computed once.
//!
//! The wire layout written here is `communique.v1.CompareStancesResponse` as prost encodes it
//! (fields in tag order, proto3 defaults left out); the tests compare it byte for byte with
//! the encoding of the response that `communique_grpc::convert` builds from the same rows.

use communique_domain::query::{Evidence, StanceRow};
use communique_domain::{Statement, Target};
use communique_grpc::convert::{
    act_to_pb, label_to_pb, stance_row_to_pb, statement_kind_to_pb, text_field_to_pb,
};
use communique_proto::v1 as pb;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, encode_varint, encoded_len_varint, skip_field};

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

    fn encode(&self, buf: &mut impl BufMut) {
        let row = &self.row;
        key(1, WireType::LengthDelimited, buf);
        encode_varint(
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
            encode_varint(*len as u64, buf);
            encode_evidence(evidence, *statement_len, buf);
        }
    }
}

fn encode_evidence(evidence: &Evidence, statement_len: usize, buf: &mut impl BufMut) {
    key(1, WireType::LengthDelimited, buf);
    encode_varint(statement_len as u64, buf);
    encode_statement(
        &evidence.statement.article_id,
        &evidence.statement.statement,
        buf,
    );
    for id in &evidence.source_article_ids {
        key(2, WireType::LengthDelimited, buf);
        encode_varint(id.len() as u64, buf);
        buf.put_slice(id.as_bytes());
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

fn encode_statement(article_id: &str, statement: &Statement, buf: &mut impl BufMut) {
    // The id, `<article id>/<ordinal>`, as `Statement::id` formats it.
    let mut digits = [0u8; 10];
    let ordinal = decimal(statement.ordinal, &mut digits);
    key(1, WireType::LengthDelimited, buf);
    encode_varint((article_id.len() + 1 + ordinal.len()) as u64, buf);
    buf.put_slice(article_id.as_bytes());
    buf.put_u8(b'/');
    buf.put_slice(ordinal);
    string(2, article_id, buf);
    string(3, &statement.text, buf);
    int32(4, statement_kind_to_pb(statement.kind) as i32, buf);
    let speaker_id = statement.speaker.entity_id.as_deref().unwrap_or_default();
    key(5, WireType::LengthDelimited, buf);
    encode_varint(
        (string_len(speaker_id) + string_len(&statement.speaker.name)) as u64,
        buf,
    );
    string(1, speaker_id, buf);
    string(2, &statement.speaker.name, buf);
    for government in &statement.governments {
        key(6, WireType::LengthDelimited, buf);
        encode_varint(
            government_len(&government.code, &government.name) as u64,
            buf,
        );
        string(1, &government.code, buf);
        string(2, &government.name, buf);
    }
    for target in &statement.targets {
        key(7, WireType::LengthDelimited, buf);
        encode_varint(target_len(target) as u64, buf);
        string(1, &target.entity_id, buf);
        string(2, &target.name, buf);
        float(3, target.polarity, buf);
    }
    int32(8, act_to_pb(statement.act) as i32, buf);
    let span = &statement.span;
    let field = text_field_to_pb(span.field) as i32;
    key(9, WireType::LengthDelimited, buf);
    encode_varint(
        (int32_len(field) + uint32_len(span.start) + uint32_len(span.end)) as u64,
        buf,
    );
    int32(1, field, buf);
    uint32(2, span.start, buf);
    uint32(3, span.end, buf);
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
            encode_varint(row.len as u64, &mut bytes);
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

fn key(tag: u32, wire_type: WireType, buf: &mut impl BufMut) {
    prost::encoding::encode_key(tag, wire_type, buf);
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

fn string(tag: u32, value: &str, buf: &mut impl BufMut) {
    if !value.is_empty() {
        key(tag, WireType::LengthDelimited, buf);
        encode_varint(value.len() as u64, buf);
        buf.put_slice(value.as_bytes());
    }
}

/// A proto3 float field: left out when zero (as prost compares, so -0.0 too).
fn float_len(value: f32) -> usize {
    if value != 0.0 { KEY_LEN + 4 } else { 0 }
}

fn float(tag: u32, value: f32, buf: &mut impl BufMut) {
    if value != 0.0 {
        key(tag, WireType::ThirtyTwoBit, buf);
        buf.put_f32_le(value);
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

fn int32(tag: u32, value: i32, buf: &mut impl BufMut) {
    if value != 0 {
        key(tag, WireType::Varint, buf);
        encode_varint(value as u64, buf);
    }
}

fn uint32_len(value: u32) -> usize {
    if value != 0 {
        KEY_LEN + encoded_len_varint(u64::from(value))
    } else {
        0
    }
}

fn uint32(tag: u32, value: u32, buf: &mut impl BufMut) {
    if value != 0 {
        key(tag, WireType::Varint, buf);
        encode_varint(u64::from(value), buf);
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
        Act, Date, EntityKind, EntitySummary, Government, Span, Speaker, StatementKind, TextField,
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
    fn ordinals_are_written_in_decimal() {
        for value in [0, 1, 9, 10, 11, 99, 100, 65_535, 1_000_000, u32::MAX] {
            let mut digits = [0u8; 10];
            let written = decimal(value, &mut digits);
            assert_eq!(written, value.to_string().as_bytes());
            assert_eq!(decimal_len(value), written.len());
        }
    }
}
