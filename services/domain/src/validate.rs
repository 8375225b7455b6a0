//! Checks an annotated article before it is stored: it may come from a remote worker over
//! IngestService, so nothing about it is trusted.

use std::collections::HashSet;

use crate::model::{AnnotatedArticle, Article, Span, TextField};
use crate::validate_article_id;

/// Why an annotated article cannot be stored; `field` names the offending field path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidArticle {
    pub field: String,
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> InvalidArticle {
    InvalidArticle {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Longest title accepted, in bytes.
pub const MAX_TITLE_BYTES: usize = 4 * 1024;

impl AnnotatedArticle {
    /// Every reference resolves, every span lies on character boundaries of its text, numbers
    /// are in range, and nothing holds a NUL (the store separates key parts with it).
    pub fn validate(&self) -> Result<(), InvalidArticle> {
        let article = &self.article;
        validate_article_id(&article.id).map_err(|e| invalid("article.id", e.to_string()))?;
        if article.title.trim().is_empty() && article.body.trim().is_empty() {
            return Err(invalid("article", "has neither title nor body"));
        }
        if article.title.len() > MAX_TITLE_BYTES {
            return Err(invalid(
                "article.title",
                format!(
                    "is {} bytes; the limit is {MAX_TITLE_BYTES}",
                    article.title.len()
                ),
            ));
        }
        for (field, value) in [
            ("article.source", article.source.as_deref()),
            ("article.url", article.url.as_deref()),
            ("article.duplicate_of", article.duplicate_of.as_deref()),
        ] {
            if value.is_some_and(|v| v.contains('\0') || v.is_empty()) {
                return Err(invalid(field, "must not be empty or hold NUL characters"));
            }
        }
        let mut entity_ids = HashSet::with_capacity(self.entities.len());
        // Field names are formatted only for an error: a valid article (nearly every one) is
        // checked without an allocation per entity, mention and statement.
        for (index, entity) in self.entities.iter().enumerate() {
            let field = || format!("entities[{index}]");
            require_key_part(|| format!("{}.id", field()), &entity.id)?;
            if entity.name.trim().is_empty() {
                return Err(invalid(format!("{}.name", field()), "must not be empty"));
            }
            if !entity_ids.insert(entity.id.as_str()) {
                return Err(invalid(
                    format!("{}.id", field()),
                    format!("{:?} is listed twice", entity.id),
                ));
            }
            for (a, affiliation) in entity.affiliations.iter().enumerate() {
                require_code(
                    || format!("{}.affiliations[{a}].government_code", field()),
                    &affiliation.government_code,
                )?;
            }
        }
        let known = |field: &dyn Fn() -> String, id: &str| -> Result<(), InvalidArticle> {
            if entity_ids.contains(id) {
                Ok(())
            } else {
                Err(invalid(
                    field(),
                    format!("names entity {id:?}, which `entities` does not define"),
                ))
            }
        };
        for (index, mention) in article.mentions.iter().enumerate() {
            let field = || format!("article.mentions[{index}]");
            known(&|| format!("{}.entity_id", field()), &mention.entity_id)?;
            let text = span_text(article, || format!("{}.span", field()), mention.span)?;
            if text != mention.text {
                return Err(invalid(
                    format!("{}.text", field()),
                    format!("is {:?} but its span covers {text:?}", mention.text),
                ));
            }
        }
        let mut ordinals = HashSet::with_capacity(article.statements.len());
        for (index, statement) in article.statements.iter().enumerate() {
            let field = || format!("article.statements[{index}]");
            if !ordinals.insert(statement.ordinal) {
                return Err(invalid(
                    format!("{}.ordinal", field()),
                    format!("{} is used twice", statement.ordinal),
                ));
            }
            span_text(article, || format!("{}.span", field()), statement.span)?;
            if statement.text.trim().is_empty() {
                return Err(invalid(format!("{}.text", field()), "must not be empty"));
            }
            if let Some(id) = &statement.speaker.entity_id {
                known(&|| format!("{}.speaker.entity_id", field()), id)?;
            }
            if statement.speaker.name.contains('\0') {
                return Err(invalid(format!("{}.speaker.name", field()), "holds NUL"));
            }
            for (g, government) in statement.governments.iter().enumerate() {
                require_code(
                    || format!("{}.governments[{g}].code", field()),
                    &government.code,
                )?;
            }
            for (t, target) in statement.targets.iter().enumerate() {
                known(
                    &|| format!("{}.targets[{t}].entity_id", field()),
                    &target.entity_id,
                )?;
                if !(-1.0..=1.0).contains(&target.polarity) {
                    return Err(invalid(
                        format!("{}.targets[{t}].polarity", field()),
                        format!("{} is outside [-1, 1]", target.polarity),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn span_text(
    article: &Article,
    field: impl FnOnce() -> String,
    span: Span,
) -> Result<&str, InvalidArticle> {
    if span.start > span.end {
        return Err(invalid(field(), "start is after end"));
    }
    article.text_of(span).ok_or_else(|| {
        let name = match span.field {
            TextField::Title => "title",
            TextField::Body => "body",
        };
        invalid(
            field(),
            format!(
                "[{}, {}) is not a range of character boundaries in the {name}",
                span.start, span.end
            ),
        )
    })
}

fn require_key_part(field: impl FnOnce() -> String, value: &str) -> Result<(), InvalidArticle> {
    if value.is_empty() || value.len() > 200 || value.contains('\0') || value.contains('/') {
        return Err(invalid(
            field(),
            format!("{value:?} must be 1 to 200 bytes without NUL or '/'"),
        ));
    }
    Ok(())
}

fn require_code(field: impl FnOnce() -> String, code: &str) -> Result<(), InvalidArticle> {
    if code.is_empty() || code.len() > 16 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            field(),
            format!("{code:?} is not a government code (upper-case letters, e.g. GBR or NATO)"),
        ));
    }
    Ok(())
}
