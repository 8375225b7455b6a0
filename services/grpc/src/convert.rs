//! Conversions between the wire types (communique.v1) and the domain. Domain-to-wire builds
//! every field; wire-to-domain (IngestService) destructures every field without `..`, so a new
//! proto field fails to compile until it is handled here.

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

pub fn entity_kind_to_pb(kind: domain::EntityKind) -> pb::EntityKind {
    use domain::EntityKind as K;
    match kind {
        K::Person => pb::EntityKind::Person,
        K::Country => pb::EntityKind::Country,
        K::IntergovernmentalOrganization => pb::EntityKind::IntergovernmentalOrganization,
        K::Organization => pb::EntityKind::Organization,
        K::Location => pb::EntityKind::Location,
        K::Other => pb::EntityKind::Other,
    }
}

pub fn entity_kind_from_pb(field: &str, value: i32) -> Result<domain::EntityKind, ServiceError> {
    use domain::EntityKind as K;
    match pb::EntityKind::try_from(value) {
        Ok(pb::EntityKind::Person) => Ok(K::Person),
        Ok(pb::EntityKind::Country) => Ok(K::Country),
        Ok(pb::EntityKind::IntergovernmentalOrganization) => Ok(K::IntergovernmentalOrganization),
        Ok(pb::EntityKind::Organization) => Ok(K::Organization),
        Ok(pb::EntityKind::Location) => Ok(K::Location),
        Ok(pb::EntityKind::Other) => Ok(K::Other),
        Ok(pb::EntityKind::Unspecified) | Err(_) => Err(ServiceError::invalid(
            field,
            format!(
                "{value} is not an entity kind: use ENTITY_KIND_PERSON, ENTITY_KIND_COUNTRY, ..."
            ),
        )),
    }
}

fn span_to_pb(span: domain::Span) -> pb::TextSpan {
    pb::TextSpan {
        field: match span.field {
            domain::TextField::Title => pb::TextField::Title,
            domain::TextField::Body => pb::TextField::Body,
        } as i32,
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
    let text_field = match pb::TextField::try_from(text_field) {
        Ok(pb::TextField::Title) => domain::TextField::Title,
        Ok(pb::TextField::Body) => domain::TextField::Body,
        _ => {
            return Err(ServiceError::invalid(
                format!("{field}.field"),
                "must be TEXT_FIELD_TITLE or TEXT_FIELD_BODY",
            ));
        }
    };
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

fn act_to_pb(act: domain::Act) -> pb::StatementAct {
    use domain::Act as A;
    match act {
        A::Assert => pb::StatementAct::Assert,
        A::Criticize => pb::StatementAct::Criticize,
        A::Condemn => pb::StatementAct::Condemn,
        A::Appeal => pb::StatementAct::Appeal,
        A::Threaten => pb::StatementAct::Threaten,
        A::Warn => pb::StatementAct::Warn,
        A::Praise => pb::StatementAct::Praise,
        A::Support => pb::StatementAct::Support,
        A::Justify => pb::StatementAct::Justify,
        A::Reject => pb::StatementAct::Reject,
        A::ExpressConcern => pb::StatementAct::ExpressConcern,
    }
}

fn act_from_pb(field: &str, value: i32) -> Result<domain::Act, ServiceError> {
    use domain::Act as A;
    Ok(match pb::StatementAct::try_from(value) {
        Ok(pb::StatementAct::Assert) => A::Assert,
        Ok(pb::StatementAct::Criticize) => A::Criticize,
        Ok(pb::StatementAct::Condemn) => A::Condemn,
        Ok(pb::StatementAct::Appeal) => A::Appeal,
        Ok(pb::StatementAct::Threaten) => A::Threaten,
        Ok(pb::StatementAct::Warn) => A::Warn,
        Ok(pb::StatementAct::Praise) => A::Praise,
        Ok(pb::StatementAct::Support) => A::Support,
        Ok(pb::StatementAct::Justify) => A::Justify,
        Ok(pb::StatementAct::Reject) => A::Reject,
        Ok(pb::StatementAct::ExpressConcern) => A::ExpressConcern,
        Ok(pb::StatementAct::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid(
                field,
                format!("{value} is not a statement act"),
            ));
        }
    })
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
        kind: match kind {
            domain::StatementKind::Direct => pb::StatementKind::Direct,
            domain::StatementKind::Indirect => pb::StatementKind::Indirect,
        } as i32,
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
        Some(domain::PublishedDate { date, source }) => (
            Some(date_to_pb(date)),
            match source {
                domain::DateSource::Metadata => pb::DateSource::Metadata,
                domain::DateSource::DateLine => pb::DateSource::DateLine,
                domain::DateSource::Byline => pb::DateSource::Byline,
                domain::DateSource::Text => pb::DateSource::Text,
            },
        ),
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
                 }| pb::Evidence {
                    statement: Some(statement_to_pb(&statement.article_id, statement.statement)),
                    source_article_ids,
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
            source: match pb::DateSource::try_from(date_source) {
                Ok(pb::DateSource::Metadata) => domain::DateSource::Metadata,
                Ok(pb::DateSource::DateLine) => domain::DateSource::DateLine,
                Ok(pb::DateSource::Byline) => domain::DateSource::Byline,
                Ok(pb::DateSource::Text) => domain::DateSource::Text,
                _ => {
                    return Err(ServiceError::invalid(
                        "article.date_source",
                        "is required with published_date",
                    ));
                }
            },
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
                kind: match pb::StatementKind::try_from(kind) {
                    Ok(pb::StatementKind::Direct) => domain::StatementKind::Direct,
                    Ok(pb::StatementKind::Indirect) => domain::StatementKind::Indirect,
                    _ => {
                        return Err(ServiceError::invalid(
                            format!("{field}.kind"),
                            "must be DIRECT or INDIRECT",
                        ));
                    }
                },
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
