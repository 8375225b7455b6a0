//! The annotated article and everything it refers to. These are the types the worker produces,
//! the store keeps, and the service edge converts to and from the wire.

use serde::{Deserialize, Serialize};

use crate::Date;

/// A government is named by a code: ISO 3166-1 alpha-3 for states (GBR, USA, IRN) and a short
/// upper-case code for intergovernmental bodies (NATO, EU, UN).
pub type GovernmentCode = String;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityKind {
    Person,
    Country,
    IntergovernmentalOrganization,
    Organization,
    Location,
    Other,
}

/// Which text of an article an offset points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TextField {
    Title,
    Body,
}

/// A half-open range of UTF-8 byte offsets into one text field of an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub field: TextField,
    pub start: u32,
    pub end: u32,
}

/// How an article's published date was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateSource {
    Metadata,
    DateLine,
    Byline,
    Text,
    /// Worked out from the officials' dated roles, no day being named: right only to within
    /// the period those roles share.
    Estimated,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedDate {
    pub date: Date,
    pub source: DateSource,
}

/// A stored, annotated article.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// The id given by the input, or a content hash; see [`crate::ArticleId`].
    pub id: String,
    pub title: String,
    /// The cleaned text: site furniture removed.
    pub body: String,
    pub url: Option<String>,
    pub source: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<PublishedDate>,
    /// Hex digest of the cleaned title and body; equal hashes mean an unchanged article.
    pub content_hash: String,
    pub mentions: Vec<Mention>,
    pub statements: Vec<Statement>,
    /// Another stored article this one is a syndicated near-copy of.
    pub duplicate_of: Option<String>,
}

impl Article {
    pub fn published_date(&self) -> Option<Date> {
        self.published.as_ref().map(|published| published.date)
    }

    /// The governments that speak in the article, sorted and without repeats.
    pub fn government_codes(&self) -> Vec<GovernmentCode> {
        let mut codes: Vec<GovernmentCode> = self
            .statements
            .iter()
            .flat_map(|statement| statement.governments.iter().map(|g| g.code.clone()))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// The text a span points into; `None` when the span is out of range or not on a char boundary.
    pub fn text_of(&self, span: Span) -> Option<&str> {
        let text = match span.field {
            TextField::Title => &self.title,
            TextField::Body => &self.body,
        };
        text.get(span.start as usize..span.end as usize)
    }
}

/// An annotated article together with the definitions of the entities it refers to: the unit
/// the worker hands to the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotatedArticle {
    pub article: Article,
    /// Every entity that a mention, speaker or target of the article names, once.
    pub entities: Vec<Entity>,
}

/// A span of text linked to an entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub entity_id: String,
    pub entity_name: String,
    pub kind: EntityKind,
    /// The text as it appears in the article.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatementKind {
    /// Quoted words.
    Direct,
    /// Reported speech.
    Indirect,
}

/// What a statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Act {
    Assert,
    Criticize,
    Condemn,
    Appeal,
    Threaten,
    Warn,
    Praise,
    Support,
    Justify,
    Reject,
    ExpressConcern,
}

/// Who made a statement: a known entity, or a description ("a No 10 spokesman").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    pub entity_id: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Government {
    pub code: GovernmentCode,
    pub name: String,
}

/// What or whom a statement is about, and how it leans toward it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub entity_id: String,
    pub name: String,
    /// In [-1, 1]: negative against, positive for.
    pub polarity: f32,
}

/// Words a speaker said, quoted or reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// The statement's position in its article; its id is `<article id>/<ordinal>`.
    pub ordinal: u32,
    pub text: String,
    pub kind: StatementKind,
    pub speaker: Speaker,
    /// Governments the speaker speaks for at the article's date; empty when none.
    pub governments: Vec<Government>,
    pub targets: Vec<Target>,
    pub act: Act,
    pub span: Span,
}

impl Statement {
    pub fn id(&self, article_id: &str) -> String {
        format!("{article_id}/{}", self.ordinal)
    }

    /// The codes of the governments the speaker speaks for, in their order.
    pub fn government_codes(&self) -> Vec<&str> {
        self.governments.iter().map(|g| g.code.as_str()).collect()
    }
}

/// A role in which someone speaks for a government, with its dates.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Affiliation {
    pub government_code: GovernmentCode,
    pub role: String,
    pub start: Option<Date>,
    /// `None` while the role is held.
    pub end: Option<Date>,
}

impl Affiliation {
    /// Whether the role was held on `date` (an unknown start or end is open).
    pub fn holds_on(&self, date: Date) -> bool {
        self.start.is_none_or(|start| start <= date) && self.end.is_none_or(|end| date <= end)
    }
}

/// A person, state, organization or place the articles mention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub kind: EntityKind,
    /// Other names, without the canonical one.
    pub aliases: Vec<String>,
    pub affiliations: Vec<Affiliation>,
    /// For a country or intergovernmental body: the government code it names.
    pub government_code: Option<GovernmentCode>,
}

/// An entity with the counts the store keeps for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub entity: Entity,
    pub article_count: u32,
    pub mention_count: u32,
}

/// Longest sentence returned around a mention, in bytes.
const MAX_SENTENCE_BYTES: usize = 600;

/// The sentence of `text` that holds the byte range [start, end): from the previous sentence end
/// (". ", "! ", "? " or a line break) to the next, trimmed and bounded in length. Returns an
/// empty string for a range that is not on character boundaries.
pub fn sentence_around(text: &str, start: usize, end: usize) -> &str {
    if start > end || text.get(start..end).is_none() {
        return "";
    }
    let bytes = text.as_bytes();
    let is_break = |i: usize| -> bool {
        match bytes.get(i) {
            Some(b'\n') => true,
            Some(b'.' | b'!' | b'?') => bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()),
            _ => false,
        }
    };
    let mut from = start;
    while from > 0 && !is_break(from - 1) && start - from < MAX_SENTENCE_BYTES / 2 {
        from -= 1;
    }
    let mut to = end;
    while to < bytes.len() && !is_break(to) && to - end < MAX_SENTENCE_BYTES / 2 {
        to += 1;
    }
    if to < bytes.len() && is_break(to) && bytes.get(to) != Some(&b'\n') {
        to += 1;
    }
    while !text.is_char_boundary(from) {
        from += 1;
    }
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    text.get(from..to).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_around_a_span() {
        let text = "First one. Then Mr Johnson spoke. Last.\nNew line";
        let start = text.find("Johnson").unwrap();
        assert_eq!(
            sentence_around(text, start, start + 7),
            "Then Mr Johnson spoke."
        );
        let start = text.find("New").unwrap();
        assert_eq!(sentence_around(text, start, start + 3), "New line");
        assert_eq!(sentence_around("é", 1, 2), "");
        assert_eq!(sentence_around("", 0, 0), "");
    }
}
