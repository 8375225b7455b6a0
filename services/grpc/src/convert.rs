//! Conversions between the wire types (communique.v1) and the domain. Domain-to-wire builds
//! every field; wire-to-domain (IngestService) destructures every field without `..`, so a new
//! proto field fails to compile until it is handled here.

use std::sync::Arc;

use communique_domain as domain;
use communique_domain::query::{self, MatchType, StanceLabel};
use communique_proto::v1 as pb;

use crate::error::ServiceError;

pub fn date_to_pb(date: domain::Date) -> pb::Date {
    pb::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// An absent date is `None`; a present one must be a real calendar date.
pub fn date_from_pb(
    field: &str,
    date: Option<pb::Date>,
) -> Result<Option<domain::Date>, ServiceError> {
    let Some(pb::Date { year, month, day }) = date else {
        return Ok(None);
    };
    let (Ok(month), Ok(day)) = (u32::try_from(month), u32::try_from(day)) else {
        return Err(ServiceError::invalid(
            field,
            "month and day must be positive",
        ));
    };
    domain::Date::new(year, month, day)
        .map(Some)
        .ok_or_else(|| {
            ServiceError::invalid(
                field,
                format!("{year:04}-{month:02}-{day:02} is not a calendar date"),
            )
        })
}

/// One table per enum drives both directions, so a variant cannot be mapped one way and
/// forgotten the other. Domain to wire is exhaustive (a new domain variant fails to compile
/// here); wire to domain returns `None` for UNSPECIFIED and unknown numbers, and each caller
/// words its own INVALID_ARGUMENT.
macro_rules! enum_mapping {
    (
        $to_pb:ident, $from_pb:ident,
        $domain:ident::$domain_enum:ident <=> $wire:ident::$wire_enum:ident {
            $($domain_variant:ident <=> $wire_variant:ident),+ $(,)?
        }
    ) => {
        pub fn $to_pb(value: $domain::$domain_enum) -> $wire::$wire_enum {
            match value {
                $($domain::$domain_enum::$domain_variant => $wire::$wire_enum::$wire_variant,)+
            }
        }

        pub fn $from_pb(value: i32) -> Option<$domain::$domain_enum> {
            match $wire::$wire_enum::try_from(value).ok()? {
                $($wire::$wire_enum::$wire_variant => Some($domain::$domain_enum::$domain_variant),)+
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

enum_mapping!(entity_kind_to_pb, entity_kind_from_wire, domain::EntityKind <=> pb::EntityKind {
    Person <=> Person,
    Country <=> Country,
    IntergovernmentalOrganization <=> IntergovernmentalOrganization,
    Organization <=> Organization,
    Location <=> Location,
    Other <=> Other,
});

enum_mapping!(text_field_to_pb, text_field_from_wire, domain::TextField <=> pb::TextField {
    Title <=> Title,
    Body <=> Body,
});

enum_mapping!(act_to_pb, act_from_wire, domain::Act <=> pb::StatementAct {
    Assert <=> Assert,
    Criticize <=> Criticize,
    Condemn <=> Condemn,
    Appeal <=> Appeal,
    Threaten <=> Threaten,
    Warn <=> Warn,
    Praise <=> Praise,
    Support <=> Support,
    Justify <=> Justify,
    Reject <=> Reject,
    ExpressConcern <=> ExpressConcern,
});

enum_mapping!(date_source_to_pb, date_source_from_wire, domain::DateSource <=> pb::DateSource {
    Metadata <=> Metadata,
    DateLine <=> DateLine,
    Byline <=> Byline,
    Text <=> Text,
    Estimated <=> Estimated,
});

enum_mapping!(
    statement_kind_to_pb, statement_kind_from_wire,
    domain::StatementKind <=> pb::StatementKind {
        Direct <=> Direct,
        Indirect <=> Indirect,
    }
);

pub fn entity_kind_from_pb(field: &str, value: i32) -> Result<domain::EntityKind, ServiceError> {
    entity_kind_from_wire(value).ok_or_else(|| {
        ServiceError::invalid(
            field,
            format!(
                "{value} is not an entity kind: use ENTITY_KIND_PERSON, ENTITY_KIND_COUNTRY, ..."
            ),
        )
    })
}

fn span_to_pb(span: domain::Span) -> pb::TextSpan {
    pb::TextSpan {
        field: text_field_to_pb(span.field) as i32,
        start: span.start,
        end: span.end,
    }
}

fn span_from_pb(field: &str, span: Option<pb::TextSpan>) -> Result<domain::Span, ServiceError> {
    let pb::TextSpan {
        field: text_field,
        start,
        end,
    } = span.ok_or_else(|| ServiceError::invalid(field, "is required"))?;
    let text_field = text_field_from_wire(text_field).ok_or_else(|| {
        ServiceError::invalid(
            format!("{field}.field"),
            "must be TEXT_FIELD_TITLE or TEXT_FIELD_BODY",
        )
    })?;
    Ok(domain::Span {
        field: text_field,
        start,
        end,
    })
}

pub fn mention_to_pb(article_id: &str, mention: domain::Mention, sentence: String) -> pb::Mention {
    let domain::Mention {
        entity_id,
        entity_name,
        kind,
        text,
        span,
    } = mention;
    pb::Mention {
        entity_id,
        entity_name,
        kind: entity_kind_to_pb(kind) as i32,
        text,
        span: Some(span_to_pb(span)),
        article_id: article_id.to_owned(),
        sentence,
    }
}

fn act_from_pb(field: &str, value: i32) -> Result<domain::Act, ServiceError> {
    act_from_wire(value)
        .ok_or_else(|| ServiceError::invalid(field, format!("{value} is not a statement act")))
}

pub fn government_to_pb(government: domain::Government) -> pb::Government {
    let domain::Government { code, name } = government;
    pb::Government { code, name }
}

pub fn statement_to_pb(article_id: &str, statement: domain::Statement) -> pb::Statement {
    let id = statement.id(article_id);
    let domain::Statement {
        ordinal: _,
        text,
        kind,
        speaker,
        governments,
        targets,
        act,
        span,
    } = statement;
    pb::Statement {
        id,
        article_id: article_id.to_owned(),
        text,
        kind: statement_kind_to_pb(kind) as i32,
        speaker: Some(pb::Speaker {
            entity_id: speaker.entity_id.unwrap_or_default(),
            name: speaker.name,
        }),
        governments: governments.into_iter().map(government_to_pb).collect(),
        targets: targets
            .into_iter()
            .map(
                |domain::Target {
                     entity_id,
                     name,
                     polarity,
                 }| pb::StatementTarget {
                    entity_id,
                    name,
                    polarity,
                },
            )
            .collect(),
        act: act_to_pb(act) as i32,
        span: Some(span_to_pb(span)),
    }
}

/// An article as the wire shows it; `full` adds body, mentions and statements.
pub fn article_to_pb(stored: communique_store::StoredArticle, full: bool) -> pb::Article {
    let communique_store::StoredArticle {
        article,
        mention_count,
        statement_count,
        government_codes,
    } = stored;
    let domain::Article {
        id,
        title,
        body,
        url,
        source,
        authors,
        published,
        content_hash,
        mentions,
        statements,
        duplicate_of,
    } = article;
    let (published_date, date_source) = match published {
        Some(domain::PublishedDate { date, source }) => {
            (Some(date_to_pb(date)), date_source_to_pb(source))
        }
        None => (None, pb::DateSource::Unspecified),
    };
    let (body, mentions, statements) = if full {
        (
            body,
            mentions
                .into_iter()
                .map(|m| mention_to_pb(&id, m, String::new()))
                .collect(),
            statements
                .into_iter()
                .map(|s| statement_to_pb(&id, s))
                .collect(),
        )
    } else {
        (String::new(), Vec::new(), Vec::new())
    };
    pb::Article {
        title,
        url: url.unwrap_or_default(),
        source: source.unwrap_or_default(),
        authors,
        published_date,
        date_source: date_source as i32,
        content_hash,
        mention_count,
        statement_count,
        government_codes,
        body,
        mentions,
        statements,
        duplicate_of: duplicate_of.unwrap_or_default(),
        id,
    }
}

pub fn entity_to_pb(summary: domain::EntitySummary) -> pb::Entity {
    let domain::EntitySummary {
        entity,
        article_count,
        mention_count,
    } = summary;
    let domain::Entity {
        id,
        name,
        kind,
        aliases,
        affiliations,
        government_code,
    } = entity;
    pb::Entity {
        id,
        name,
        kind: entity_kind_to_pb(kind) as i32,
        aliases,
        affiliations: affiliations
            .into_iter()
            .map(
                |domain::Affiliation {
                     government_code,
                     role,
                     start,
                     end,
                 }| pb::Affiliation {
                    government_code,
                    role,
                    start_date: start.map(date_to_pb),
                    end_date: end.map(date_to_pb),
                },
            )
            .collect(),
        article_count,
        mention_count,
        government_code: government_code.unwrap_or_default(),
    }
}

pub fn match_type_to_pb(match_type: MatchType) -> pb::MatchType {
    match match_type {
        MatchType::Exact => pb::MatchType::Exact,
        MatchType::Prefix => pb::MatchType::Prefix,
        MatchType::Fuzzy => pb::MatchType::Fuzzy,
    }
}

pub fn label_to_pb(label: StanceLabel) -> pb::StanceLabel {
    match label {
        StanceLabel::Supports => pb::StanceLabel::Supports,
        StanceLabel::Opposes => pb::StanceLabel::Opposes,
        StanceLabel::Mixed => pb::StanceLabel::Mixed,
        StanceLabel::Neutral => pb::StanceLabel::Neutral,
    }
}

pub fn stance_row_to_pb(row: query::StanceRow) -> pb::StanceRow {
    let query::StanceRow {
        government,
        tally,
        evidence,
    } = row;
    pb::StanceRow {
        government: Some(government_to_pb(government)),
        score: tally.score(),
        label: label_to_pb(tally.label()) as i32,
        statement_count: tally.statement_count,
        evidence: evidence
            .into_iter()
            .map(
                |query::Evidence {
                     statement,
                     polarity: _,
                     source_article_ids,
                 }| {
                    // The store shares its evidence statements: a copy is made only if it
                    // still does.
                    let statement = Arc::unwrap_or_clone(statement);
                    pb::Evidence {
                        statement: Some(statement_to_pb(
                            &statement.article_id,
                            statement.statement,
                        )),
                        source_article_ids: source_article_ids.to_vec(),
                    }
                },
            )
            .collect(),
    }
}

/// An annotated article sent by a worker over IngestService. Every violation is collected.
pub fn annotated_from_pb(
    request: pb::IngestArticlesRequest,
) -> Result<domain::AnnotatedArticle, ServiceError> {
    let pb::IngestArticlesRequest { article, entities } = request;
    let article = article.ok_or_else(|| ServiceError::invalid("article", "is required"))?;
    let pb::Article {
        id,
        title,
        url,
        source,
        authors,
        published_date,
        date_source,
        content_hash,
        mention_count: _,
        statement_count: _,
        government_codes: _,
        body,
        mentions,
        statements,
        duplicate_of,
    } = article;
    let published = match date_from_pb("article.published_date", published_date)? {
        None => None,
        Some(date) => Some(domain::PublishedDate {
            date,
            source: date_source_from_wire(date_source).ok_or_else(|| {
                ServiceError::invalid("article.date_source", "is required with published_date")
            })?,
        }),
    };
    let content_hash = if content_hash.is_empty() {
        domain::content_hash(&title, &body)
    } else {
        content_hash
    };
    let mentions = mentions
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let pb::Mention {
                entity_id,
                entity_name,
                kind,
                text,
                span,
                article_id: _,
                sentence: _,
            } = m;
            Ok(domain::Mention {
                entity_id,
                entity_name,
                kind: entity_kind_from_pb(&format!("article.mentions[{i}].kind"), kind)?,
                text,
                span: span_from_pb(&format!("article.mentions[{i}].span"), span)?,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let field = format!("article.statements[{i}]");
            let pb::Statement {
                id: _,
                article_id: _,
                text,
                kind,
                speaker,
                governments,
                targets,
                act,
                span,
            } = s;
            let pb::Speaker { entity_id, name } = speaker
                .ok_or_else(|| ServiceError::invalid(format!("{field}.speaker"), "is required"))?;
            Ok(domain::Statement {
                ordinal: i as u32,
                text,
                kind: statement_kind_from_wire(kind).ok_or_else(|| {
                    ServiceError::invalid(format!("{field}.kind"), "must be DIRECT or INDIRECT")
                })?,
                speaker: domain::Speaker {
                    entity_id: (!entity_id.is_empty()).then_some(entity_id),
                    name,
                },
                governments: governments
                    .into_iter()
                    .map(|pb::Government { code, name }| domain::Government { code, name })
                    .collect(),
                targets: targets
                    .into_iter()
                    .map(
                        |pb::StatementTarget {
                             entity_id,
                             name,
                             polarity,
                         }| domain::Target {
                            entity_id,
                            name,
                            polarity,
                        },
                    )
                    .collect(),
                act: act_from_pb(&format!("{field}.act"), act)?,
                span: span_from_pb(&format!("{field}.span"), span)?,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let entities = entities
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let pb::Entity {
                id,
                name,
                kind,
                aliases,
                affiliations,
                article_count: _,
                mention_count: _,
                government_code,
            } = e;
            Ok(domain::Entity {
                id,
                name,
                kind: entity_kind_from_pb(&format!("entities[{i}].kind"), kind)?,
                aliases,
                affiliations: affiliations
                    .into_iter()
                    .enumerate()
                    .map(
                        |(
                            a,
                            pb::Affiliation {
                                government_code,
                                role,
                                start_date,
                                end_date,
                            },
                        )| {
                            let field = format!("entities[{i}].affiliations[{a}]");
                            Ok(domain::Affiliation {
                                government_code,
                                role,
                                start: date_from_pb(&format!("{field}.start_date"), start_date)?,
                                end: date_from_pb(&format!("{field}.end_date"), end_date)?,
                            })
                        },
                    )
                    .collect::<Result<Vec<_>, ServiceError>>()?,
                government_code: (!government_code.is_empty()).then_some(government_code),
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let empty_to_none = |s: String| (!s.is_empty()).then_some(s);
    Ok(domain::AnnotatedArticle {
        article: domain::Article {
            id,
            title,
            body,
            url: empty_to_none(url),
            source: empty_to_none(source),
            authors,
            published,
            content_hash,
            mentions,
            statements,
            duplicate_of: empty_to_none(duplicate_of),
        },
        entities,
    })
}

/// The wire form of an annotated article, for the worker's IngestService client.
pub fn annotated_to_pb(annotated: domain::AnnotatedArticle) -> pb::IngestArticlesRequest {
    let domain::AnnotatedArticle { article, entities } = annotated;
    let stored = communique_store::StoredArticle {
        mention_count: article.mentions.len() as u32,
        statement_count: article.statements.len() as u32,
        government_codes: article.government_codes(),
        article,
    };
    pb::IngestArticlesRequest {
        article: Some(article_to_pb(stored, true)),
        entities: entities
            .into_iter()
            .map(|entity| {
                entity_to_pb(domain::EntitySummary {
                    entity,
                    article_count: 0,
                    mention_count: 0,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every wire number that maps to a domain value maps back to the same number, and exactly
    /// `variants` numbers map (UNSPECIFIED and unknown numbers don't).
    fn assert_round_trip<D: Copy>(
        variants: usize,
        from_wire: fn(i32) -> Option<D>,
        to_wire: fn(D) -> i32,
    ) {
        let mut mapped = 0;
        for number in -1..64 {
            if let Some(value) = from_wire(number) {
                assert_eq!(to_wire(value), number);
                mapped += 1;
            }
        }
        assert_eq!(mapped, variants);
    }

    #[test]
    fn enum_tables_map_both_ways_and_reject_unspecified() {
        assert_round_trip(6, entity_kind_from_wire, |v| entity_kind_to_pb(v) as i32);
        assert_round_trip(2, text_field_from_wire, |v| text_field_to_pb(v) as i32);
        assert_round_trip(11, act_from_wire, |v| act_to_pb(v) as i32);
        assert_round_trip(5, date_source_from_wire, |v| date_source_to_pb(v) as i32);
        assert_round_trip(2, statement_kind_from_wire, |v| {
            statement_kind_to_pb(v) as i32
        });
        assert!(act_from_pb("act", 0).is_err());
        assert!(entity_kind_from_pb("kind", 99).is_err());
    }
}
