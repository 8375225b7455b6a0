//! Every key in the store. One sled tree holds all records; the first byte of a key says what
//! kind of record it is. Kind bytes are never reused: a retired kind stays reserved here.
//! Key parts are joined with a NUL byte (validation keeps NUL out of ids, codes and sources),
//! numbers are big-endian so byte order is numeric order, and dates are inverted so that a
//! forward scan lists newest first.

use communique_domain::Date;

/// Store-wide metadata (schema version).
pub const KIND_STORE_META: u8 = 0x00;
/// article id → article metadata.
pub const KIND_ARTICLE: u8 = 0x01;
/// article id → date, body, mentions and statements.
pub const KIND_ARTICLE_CONTENT: u8 = 0x02;
// The article indexes (0x03-0x06) name positions in an ordered list of articles: an index
// kind, a part (none for the date index), an inverted date, an article id. Until schema 3 each
// position was a key of its own; since schema 4 the positions of one part and date are stored
// together as posting blocks (0x14-0x17, see `postings.rs`), and these kinds only lay out the
// positions that page tokens hold, which are unchanged.
/// inverted date, article id → ().
pub const KIND_ARTICLE_BY_DATE: u8 = 0x03;
/// entity id, inverted date, article id → how the article refers to the entity (role bits).
pub const KIND_ARTICLE_BY_ENTITY: u8 = 0x04;
/// government code, inverted date, article id → ().
pub const KIND_ARTICLE_BY_GOVERNMENT: u8 = 0x05;
/// source, inverted date, article id → ().
pub const KIND_ARTICLE_BY_SOURCE: u8 = 0x06;
/// entity id → entity record with counts.
pub const KIND_ENTITY: u8 = 0x07;
/// folded alias, entity id → the alias as written.
pub const KIND_ALIAS: u8 = 0x08;
/// phonetic skeleton, entity id, folded alias → the alias as written. Since schema 3 these
/// keys exist only in the in-memory mirror, derived from the alias entries; never stored.
pub const KIND_PHONETIC: u8 = 0x09;
// 0x0A (mention records with their sentences) and 0x0B-0x0E (statement records and their
// government, speaker and target indexes) were retired in schema 2: mentions and statements are
// read from the article content, found through the article indexes.
/// target entity id, government code, claim hash → claim (distinct statement) with its sources.
pub const KIND_CLAIM: u8 = 0x10;
/// target entity id, government code → stance tally.
pub const KIND_TALLY: u8 = 0x11;
/// target entity id, government code, inverted strength, claim hash → (). Since schema 5 these
/// keys exist only in the in-memory mirror, derived from the claims; never stored, and deleted
/// by the schema 4 → 5 migration.
pub const KIND_EVIDENCE_RANK: u8 = 0x12;
/// Retired in schema 3 (bands are derived in memory from the article records); reserved, and
/// deleted by the schema 2 → 3 migration. Was: band number, band hash, article id → ().
pub const KIND_DUPLICATE_BAND: u8 = 0x13;
/// inverted date, block number → posting block: the articles of [`KIND_ARTICLE_BY_DATE`] with
/// that date written by one batch.
pub const KIND_DATE_POSTINGS: u8 = 0x14;
/// entity id, inverted date, block number → posting block of [`KIND_ARTICLE_BY_ENTITY`].
pub const KIND_ENTITY_POSTINGS: u8 = 0x15;
/// government code, inverted date, block number → posting block of
/// [`KIND_ARTICLE_BY_GOVERNMENT`].
pub const KIND_GOVERNMENT_POSTINGS: u8 = 0x16;
/// source, inverted date, block number → posting block of [`KIND_ARTICLE_BY_SOURCE`].
pub const KIND_SOURCE_POSTINGS: u8 = 0x17;

/// The article index kinds and the kinds their posting blocks are stored under.
pub const ARTICLE_INDEXES: [(u8, u8); 4] = [
    (KIND_ARTICLE_BY_DATE, KIND_DATE_POSTINGS),
    (KIND_ARTICLE_BY_ENTITY, KIND_ENTITY_POSTINGS),
    (KIND_ARTICLE_BY_GOVERNMENT, KIND_GOVERNMENT_POSTINGS),
    (KIND_ARTICLE_BY_SOURCE, KIND_SOURCE_POSTINGS),
];

/// The kind an article index's posting blocks are stored under; `None` for other kinds.
pub fn postings_kind(index_kind: u8) -> Option<u8> {
    ARTICLE_INDEXES
        .iter()
        .find(|(index, _)| *index == index_kind)
        .map(|(_, postings)| *postings)
}

pub const SEPARATOR: u8 = 0x00;

/// Builds a key from a kind byte and parts.
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    pub fn new(kind: u8) -> KeyBuilder {
        let mut bytes = Vec::with_capacity(48);
        bytes.push(kind);
        KeyBuilder(bytes)
    }

    /// A text part followed by the separator.
    pub fn text(mut self, part: &str) -> KeyBuilder {
        self.0.extend_from_slice(part.as_bytes());
        self.0.push(SEPARATOR);
        self
    }

    /// A text part with no separator after it: the last part of a key.
    pub fn last_text(mut self, part: &str) -> KeyBuilder {
        self.0.extend_from_slice(part.as_bytes());
        self
    }

    pub fn date(mut self, date: Option<Date>) -> KeyBuilder {
        self.0.extend_from_slice(&inverted_date(date));
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Newest first: later dates give smaller keys; undated articles sort last.
pub fn inverted_date(date: Option<Date>) -> [u8; 4] {
    let value = match date {
        Some(date) => (i64::from(i32::MAX) - i64::from(date.days_since_epoch())) as u32,
        None => u32::MAX,
    };
    value.to_be_bytes()
}

/// The part of a key after `prefix_len` bytes, split at separators.
pub fn split_parts(key: &[u8], prefix_len: usize) -> Vec<&[u8]> {
    key.get(prefix_len..)
        .map(|rest| rest.split(|&b| b == SEPARATOR).collect())
        .unwrap_or_default()
}

/// The smallest key greater than every key starting with `prefix`, for range ends.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    // Only an all-0xFF prefix gets here, and every key starts with a kind byte below 0xFF.
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_dates_sort_first_and_undated_last() {
        let d = |s: &str| s.parse::<Date>().ok();
        assert!(inverted_date(d("2020-01-06")) < inverted_date(d("2020-01-05")));
        assert!(inverted_date(d("1987-01-01")) < inverted_date(None));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(&[1, 2]), vec![1, 3]);
        assert_eq!(prefix_end(&[1, 0xFF]), vec![2]);
        assert_eq!(prefix_end(&[1, 0xFF, 0xFF]), vec![2]);
    }
}
