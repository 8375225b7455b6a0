//! The article indexes as posting blocks (schema 4). An index position is `index kind, part,
//! inverted date, article id` (see `keys.rs`); the positions sharing everything but the id (a
//! *group*: an entity's articles of one day) are stored as blocks, each the group's articles
//! written by one batch, sorted by id, under `postings kind, part, inverted date, block
//! number`. One key per entity and day and batch instead of one per entity and article: the
//! corpus ingest wrote 222,000 index keys one by one, and sled's cost is per key.
//!
//! Reads list positions exactly as the one-key-per-position layout did (a day's blocks are
//! merged into id order), so answers and page positions are unchanged. A block is written
//! whole when its batch is staged and never grows; removing an article rewrites the block that
//! holds it (found by reading the group's few blocks), deleting the block once empty.

use std::collections::VecDeque;

use super::*;

/// One article in a posting block: its id and, in the entity index, how the article refers to
/// the entity (role bits; 0 in the other indexes).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct Posting {
    pub(super) article_id: String,
    pub(super) role: u8,
}

/// The bytes of an inverted date in an index position or block key.
const DATE_LEN: usize = 4;
/// The bytes of a block number.
const BLOCK_NUMBER_LEN: usize = 8;

/// The group part of an index position: the kind, the part with its separator and the inverted
/// date, without the article id. `None` for a malformed position.
pub(super) fn group_of_position(position: &[u8]) -> Option<&[u8]> {
    let (&kind, rest) = position.split_first()?;
    let part_len = if kind == KIND_ARTICLE_BY_DATE {
        0
    } else {
        rest.iter().position(|&b| b == SEPARATOR)? + 1
    };
    position.get(..1 + part_len + DATE_LEN)
}

/// The key of block `number` of a group.
pub(super) fn block_key(group: &[u8], number: u64) -> Result<Vec<u8>, StoreError> {
    let (&kind, rest) = group
        .split_first()
        .ok_or_else(|| corrupt_key("article index"))?;
    let postings = postings_kind(kind).ok_or_else(|| corrupt_key("article index"))?;
    let mut key = Vec::with_capacity(group.len() + BLOCK_NUMBER_LEN);
    key.push(postings);
    key.extend_from_slice(rest);
    key.extend_from_slice(&number.to_be_bytes());
    Ok(key)
}

/// The prefix of every block key of a group (or of every group starting with `positions`).
pub(super) fn blocks_prefix(positions: &[u8]) -> Result<Vec<u8>, StoreError> {
    let (&kind, rest) = positions
        .split_first()
        .ok_or_else(|| corrupt_key("article index"))?;
    let postings = postings_kind(kind).ok_or_else(|| corrupt_key("article index"))?;
    Ok([&[postings][..], rest].concat())
}

/// A key and the value to write under it.
type Entry = (Vec<u8>, Vec<u8>);

/// The entries that store each group's postings as a new block, sorted by id, under block
/// `number`, and the meta entry recording `number` as the last block written.
pub(super) fn new_blocks(
    groups: BTreeMap<Vec<u8>, Vec<Posting>>,
    number: u64,
) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::with_capacity(groups.len() + 1);
    for (group, mut block) in groups {
        block.sort_unstable();
        entries.push((block_key(&group, number)?, encode_block(&block)?));
    }
    entries.push((
        meta_key(META_LAST_BLOCK_NUMBER),
        encode("last block number", &number)?,
    ));
    Ok(entries)
}

pub(super) fn encode_block(postings: &[Posting]) -> Result<Vec<u8>, StoreError> {
    encode("posting block", &postings)
}

pub(super) fn decode_block(bytes: &[u8]) -> Result<Vec<Posting>, StoreError> {
    decode("posting block", bytes)
}

/// The positions of an article index in key order, read from its posting blocks: what a range
/// read of `[lower, upper)` over one key per position gave, each with its value (the role byte
/// in the entity index, else empty).
pub(super) struct IndexPositions {
    blocks: sled::Iter,
    /// The positions' kind and part: a position is this, a block's date, an article id.
    positions_prefix: Vec<u8>,
    /// The blocks' kind and part.
    blocks_prefix_len: usize,
    lower: Bound<Vec<u8>>,
    upper: Vec<u8>,
    with_role: bool,
    /// The first block of the next group, read while finding where a group ends.
    next_block: Option<(sled::IVec, sled::IVec)>,
    ready: VecDeque<(sled::IVec, sled::IVec)>,
    done: bool,
}

impl IndexPositions {
    /// Positions starting with `positions_prefix` (an index kind and its part, with the
    /// separator) from `lower` up to `upper` (excluded).
    pub(super) fn new(
        tree: &sled::Tree,
        positions_prefix: &[u8],
        lower: Bound<Vec<u8>>,
        upper: Vec<u8>,
    ) -> Result<IndexPositions, StoreError> {
        let blocks_prefix = blocks_prefix(positions_prefix)?;
        // Blocks from the lower bound's date on: a position's date follows the prefix.
        let mut start = blocks_prefix.clone();
        if let Bound::Included(position) | Bound::Excluded(position) = &lower
            && let Some(date) = position.get(positions_prefix.len()..)
        {
            start.extend(date.iter().take(DATE_LEN));
        }
        let end = prefix_end(&blocks_prefix);
        Ok(IndexPositions {
            blocks: tree.range(start..end),
            with_role: positions_prefix.first() == Some(&KIND_ARTICLE_BY_ENTITY),
            positions_prefix: positions_prefix.to_vec(),
            blocks_prefix_len: blocks_prefix.len(),
            lower,
            upper,
            next_block: None,
            ready: VecDeque::new(),
            done: false,
        })
    }

    /// Reads the next group's blocks into `ready`, merged into position order; false at the end.
    fn read_group(&mut self) -> Result<bool, StoreError> {
        let first = match self.next_block.take() {
            Some(block) => block,
            None => match self.blocks.next() {
                Some(entry) => entry.map_err(io)?,
                None => return Ok(false),
            },
        };
        let date_of = |key: &[u8]| -> Result<[u8; DATE_LEN], StoreError> {
            if key.len() != self.blocks_prefix_len + DATE_LEN + BLOCK_NUMBER_LEN {
                return Err(corrupt_key("posting block"));
            }
            key.get(self.blocks_prefix_len..self.blocks_prefix_len + DATE_LEN)
                .and_then(|date| date.try_into().ok())
                .ok_or_else(|| corrupt_key("posting block"))
        };
        let date = date_of(&first.0)?;
        let mut postings = decode_block(&first.1)?;
        for entry in self.blocks.by_ref() {
            let (key, value) = entry.map_err(io)?;
            if date_of(&key)? != date {
                self.next_block = Some((key, value));
                break;
            }
            postings.extend(decode_block(&value)?);
        }
        postings.sort_unstable();
        postings.dedup_by(|a, b| a.article_id == b.article_id);
        let mut position = self.positions_prefix.clone();
        position.extend_from_slice(&date);
        let group_len = position.len();
        for posting in postings {
            position.truncate(group_len);
            position.extend_from_slice(posting.article_id.as_bytes());
            let value: &[u8] = if self.with_role { &[posting.role] } else { &[] };
            self.ready.push_back((
                sled::IVec::from(position.as_slice()),
                sled::IVec::from(value),
            ));
        }
        Ok(true)
    }
}

impl Iterator for IndexPositions {
    type Item = Result<(sled::IVec, sled::IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((position, value)) = self.ready.pop_front() {
                if position.as_ref() >= self.upper.as_slice() {
                    self.done = true;
                    self.ready.clear();
                    return None;
                }
                let after_lower = match &self.lower {
                    Bound::Included(lower) => position.as_ref() >= lower.as_slice(),
                    Bound::Excluded(lower) => position.as_ref() > lower.as_slice(),
                    Bound::Unbounded => true,
                };
                if after_lower {
                    return Some(Ok((position, value)));
                }
                continue;
            }
            if self.done {
                return None;
            }
            match self.read_group() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }
}
