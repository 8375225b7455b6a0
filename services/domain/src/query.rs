//! What the services ask the store, and what they get back: filters, pages, search matches and
//! stance comparisons, with the scoring rules that are domain knowledge rather than storage.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::model::{EntityKind, EntitySummary, Government, Mention, Statement};

/// A request for one page: at most `size` items, resuming after an opaque position that the
/// store produced for the previous page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub size: usize,
    pub resume_after: Option<Vec<u8>>,
}

/// One page of results, with the position to resume from when more remain.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ArticleFilter {
    pub entity_id: Option<String>,
    pub government_code: Option<String>,
    pub published_after: Option<Date>,
    pub published_before: Option<Date>,
    pub source: Option<String>,
}

impl ArticleFilter {
    /// Whether an article's date lies in the filter's range; undated articles only pass an
    /// unbounded range.
    pub fn admits_date(&self, date: Option<Date>) -> bool {
        date_in_range(date, self.published_after, self.published_before)
    }
}

pub fn date_in_range(date: Option<Date>, after: Option<Date>, before: Option<Date>) -> bool {
    match date {
        None => after.is_none() && before.is_none(),
        Some(date) => after.is_none_or(|a| a <= date) && before.is_none_or(|b| date <= b),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatementFilter {
    pub government_code: Option<String>,
    pub speaker_entity_id: Option<String>,
    pub target_entity_id: Option<String>,
    pub article_id: Option<String>,
}

impl StatementFilter {
    pub fn admits(&self, statement: &Statement) -> bool {
        self.government_code
            .as_ref()
            .is_none_or(|code| statement.governments.iter().any(|g| &g.code == code))
            && self
                .speaker_entity_id
                .as_ref()
                .is_none_or(|id| statement.speaker.entity_id.as_ref() == Some(id))
            && self
                .target_entity_id
                .as_ref()
                .is_none_or(|id| statement.targets.iter().any(|t| &t.entity_id == id))
    }
}

/// A statement together with the article it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredStatement {
    pub article_id: String,
    pub published: Option<Date>,
    pub statement: Statement,
}

/// A mention together with where it was found.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMention {
    pub article_id: String,
    pub mention: Mention,
    pub sentence: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntitySearch {
    pub query: String,
    pub kinds: Vec<EntityKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MatchType {
    Exact,
    Prefix,
    Fuzzy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntityMatch {
    pub summary: EntitySummary,
    pub match_type: MatchType,
    pub matched_alias: String,
    /// In (0, 1]: higher is better.
    pub score: f32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StanceQuery {
    pub target_entity_id: String,
    /// Empty means every government.
    pub government_codes: Vec<String>,
    pub published_after: Option<Date>,
    pub published_before: Option<Date>,
    /// Lower-case words; a statement qualifies when its text holds at least one.
    pub topic_words: Vec<String>,
    pub max_evidence: usize,
}

impl StanceQuery {
    /// Whether the query narrows statements beyond (target, government), so that the stored
    /// per-pair aggregates cannot answer it alone.
    pub fn is_narrowed(&self) -> bool {
        self.published_after.is_some()
            || self.published_before.is_some()
            || !self.topic_words.is_empty()
    }

    pub fn admits_text(&self, text: &str) -> bool {
        if self.topic_words.is_empty() {
            return true;
        }
        let lower = text.to_lowercase();
        self.topic_words
            .iter()
            .any(|word| lower.contains(word.as_str()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StanceLabel {
    Supports,
    Opposes,
    Mixed,
    Neutral,
}

/// Running totals of one government's distinct statements about one target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StanceTally {
    pub statement_count: u32,
    pub positive_sum: f32,
    pub negative_sum: f32,
}

impl StanceTally {
    pub fn add(&mut self, polarity: f32) {
        self.statement_count += 1;
        if polarity >= 0.0 {
            self.positive_sum += polarity;
        } else {
            self.negative_sum += -polarity;
        }
    }

    pub fn remove(&mut self, polarity: f32) {
        self.statement_count = self.statement_count.saturating_sub(1);
        if polarity >= 0.0 {
            self.positive_sum = (self.positive_sum - polarity).max(0.0);
        } else {
            self.negative_sum = (self.negative_sum + polarity).max(0.0);
        }
        if self.statement_count == 0 {
            *self = StanceTally::default();
        }
    }

    /// Mean polarity in [-1, 1].
    pub fn score(&self) -> f32 {
        if self.statement_count == 0 {
            return 0.0;
        }
        ((self.positive_sum - self.negative_sum) / self.statement_count as f32).clamp(-1.0, 1.0)
    }

    /// OPPOSES or SUPPORTS when the mean leans clearly; MIXED when there is clear weight on both
    /// sides that cancels out; NEUTRAL otherwise.
    pub fn label(&self) -> StanceLabel {
        const LEAN: f32 = 0.15;
        let score = self.score();
        if score <= -LEAN {
            StanceLabel::Opposes
        } else if score >= LEAN {
            StanceLabel::Supports
        } else if self.positive_sum >= 0.5 && self.negative_sum >= 0.5 {
            StanceLabel::Mixed
        } else {
            StanceLabel::Neutral
        }
    }
}

/// A distinct statement about a target: the same words by the same speaker, with every article
/// that reported them. The statement and the article ids are shared: a store that holds them in
/// memory hands out a reference to them rather than a copy.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub statement: Arc<StoredStatement>,
    pub polarity: f32,
    pub source_article_ids: Arc<[String]>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StanceRow {
    pub government: Government,
    pub tally: StanceTally,
    pub evidence: Vec<Evidence>,
}

impl StanceRow {
    /// The row lent as a store lends its own rows.
    pub fn lend(&self) -> LentStanceRow<'_> {
        LentStanceRow {
            government: &self.government,
            tally: self.tally,
            evidence: self.evidence.iter().map(Evidence::lend).collect(),
        }
    }
}

impl Evidence {
    pub fn lend(&self) -> LentEvidence<'_> {
        LentEvidence {
            statement: &self.statement,
            polarity: self.polarity,
            source_article_ids: &self.source_article_ids,
        }
    }
}

/// A [`StanceRow`] lent by the store that holds its values: a stance page written while the
/// store lends it copies no government and takes no reference count per evidence (two runtime
/// threads counting the same shared statements moved each count's cache line between cores).
#[derive(Clone, Debug, PartialEq)]
pub struct LentStanceRow<'a> {
    pub government: &'a Government,
    pub tally: StanceTally,
    pub evidence: Vec<LentEvidence<'a>>,
}

impl LentStanceRow<'_> {
    pub fn to_row(&self) -> StanceRow {
        StanceRow {
            government: self.government.clone(),
            tally: self.tally,
            evidence: self
                .evidence
                .iter()
                .map(LentEvidence::to_evidence)
                .collect(),
        }
    }
}

/// An [`Evidence`] lent by the store that holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LentEvidence<'a> {
    pub statement: &'a Arc<StoredStatement>,
    pub polarity: f32,
    pub source_article_ids: &'a Arc<[String]>,
}

impl LentEvidence<'_> {
    pub fn to_evidence(&self) -> Evidence {
        Evidence {
            statement: Arc::clone(self.statement),
            polarity: self.polarity,
            source_article_ids: Arc::clone(self.source_article_ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_scores_and_labels() {
        let mut tally = StanceTally::default();
        tally.add(-0.8);
        tally.add(-0.4);
        assert!((tally.score() + 0.6).abs() < 1e-6);
        assert_eq!(tally.label(), StanceLabel::Opposes);
        tally.add(0.8);
        tally.add(0.6);
        assert_eq!(tally.label(), StanceLabel::Mixed);
        tally.remove(0.8);
        tally.remove(0.6);
        tally.remove(-0.8);
        tally.remove(-0.4);
        assert_eq!(tally, StanceTally::default());
        assert_eq!(tally.label(), StanceLabel::Neutral);
    }

    #[test]
    fn date_ranges() {
        let d = |s: &str| s.parse::<Date>().ok();
        assert!(date_in_range(
            d("2020-01-05"),
            d("2020-01-01"),
            d("2020-01-31")
        ));
        assert!(!date_in_range(
            d("2020-02-05"),
            d("2020-01-01"),
            d("2020-01-31")
        ));
        assert!(!date_in_range(None, d("2020-01-01"), None));
        assert!(date_in_range(None, None, None));
    }
}
