//! An in-memory copy of the small index kinds that search and stance comparison scan on every
//! request: the alias and phonetic entries, the stance tallies and the evidence ranking, plus
//! the ranking fields of every entity record. Walking sled for them cost most of those RPCs
//! (page-cache lookups, LRU bookkeeping, key copies per entry); a `BTreeMap` walk of the same
//! keys in the same order is a fraction of it, and gives the same answers by construction.
//!
//! The mirror is loaded at open and updated from each batch's writes after sled has applied
//! them, under the store's writer lock. A reader may see the mirror a batch behind or ahead of
//! a sled read it makes next; every such read already tolerates a record that has gone.
//!
//! Memory: about 20 MB for the 29,389-article corpus (about 160,000 entries); it grows with the
//! number of distinct names and claims, not with article text.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use super::*;

/// The key kinds copied whole: scanned by prefix on the read path.
const MIRRORED_KINDS: [u8; 4] = [KIND_ALIAS, KIND_PHONETIC, KIND_TALLY, KIND_EVIDENCE_RANK];

#[derive(Default, PartialEq)]
pub(super) struct Mirror {
    /// Full keys (kind byte included) to values, for [`MIRRORED_KINDS`].
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Entity id → the fields search ranks by.
    heads: HashMap<String, EntityHead>,
}

impl Mirror {
    /// Copies the mirrored kinds and the entity heads out of `tree`.
    pub(super) fn load(tree: &sled::Tree) -> Result<Mirror, StoreError> {
        let mut mirror = Mirror::default();
        for kind in MIRRORED_KINDS.into_iter().chain([KIND_ENTITY]) {
            for entry in tree.scan_prefix([kind]) {
                let (key, value) = entry.map_err(io)?;
                mirror.apply(&key, Some(&value))?;
            }
        }
        Ok(mirror)
    }

    /// Whether writes to `key` must be applied to the mirror.
    pub(super) fn follows(key: &[u8]) -> bool {
        key.first()
            .is_some_and(|kind| *kind == KIND_ENTITY || MIRRORED_KINDS.contains(kind))
    }

    /// Applies one write of a batch sled has applied; keys of other kinds are ignored.
    pub(super) fn apply(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let Some((&kind, rest)) = key.split_first() else {
            return Ok(());
        };
        if kind == KIND_ENTITY {
            let id = std::str::from_utf8(rest).map_err(|_| corrupt_key("entity"))?;
            match value {
                Some(bytes) => {
                    let head: EntityHead = decode("entity", bytes)?;
                    self.heads.insert(id.to_owned(), head);
                }
                None => {
                    self.heads.remove(id);
                }
            }
        } else if MIRRORED_KINDS.contains(&kind) {
            match value {
                Some(bytes) => {
                    self.entries.insert(key.to_vec(), bytes.to_vec());
                }
                None => {
                    self.entries.remove(key);
                }
            }
        }
        Ok(())
    }

    /// The entries whose keys start with `prefix`, in key order (as `sled::Tree::scan_prefix`).
    /// `prefix` must start with a mirrored kind.
    pub(super) fn scan_prefix<'m, 'p>(
        &'m self,
        prefix: &'p [u8],
    ) -> impl Iterator<Item = (&'m [u8], &'m [u8])> + use<'m, 'p> {
        self.entries
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
    }

    pub(super) fn head(&self, entity_id: &str) -> Option<EntityHead> {
        self.heads.get(entity_id).copied()
    }

    /// Entries held, for tests and logs.
    pub(super) fn len(&self) -> usize {
        self.entries.len() + self.heads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity_value(mention_count: u32) -> Vec<u8> {
        let record = EntityRecord {
            mention_count,
            kind: EntityKind::Country,
            article_count: 1,
            entity: Entity {
                id: "irn".into(),
                name: "Iran".into(),
                kind: EntityKind::Country,
                aliases: Vec::new(),
                affiliations: Vec::new(),
                government_code: None,
            },
            observed_aliases: BTreeMap::new(),
        };
        encode("entity", &record).unwrap()
    }

    #[test]
    fn prefix_scans_follow_key_order_and_stop_at_the_prefix() {
        let mut mirror = Mirror::default();
        let alias = |folded: &str, id: &str| {
            KeyBuilder::new(KIND_ALIAS)
                .text(folded)
                .last_text(id)
                .build()
        };
        for (folded, id) in [
            ("iran air", "a"),
            ("iran", "b"),
            ("iraq", "c"),
            ("iran", "a"),
        ] {
            mirror
                .apply(&alias(folded, id), Some(folded.as_bytes()))
                .unwrap();
        }
        // Ignored: not a mirrored kind.
        mirror.apply(&[KIND_ARTICLE, b'x'], Some(b"v")).unwrap();
        let prefix = KeyBuilder::new(KIND_ALIAS).last_text("iran").build();
        let found: Vec<&[u8]> = mirror.scan_prefix(&prefix).map(|(key, _)| key).collect();
        let expected = [
            alias("iran", "a"),
            alias("iran", "b"),
            alias("iran air", "a"),
        ];
        assert_eq!(
            found,
            expected.iter().map(Vec::as_slice).collect::<Vec<_>>()
        );

        mirror.apply(&alias("iran", "b"), None).unwrap();
        assert_eq!(mirror.scan_prefix(&prefix).count(), 2);
        assert_eq!(mirror.len(), 3);
    }

    #[test]
    fn entity_heads_follow_puts_and_deletes() {
        let mut mirror = Mirror::default();
        let key = KeyBuilder::new(KIND_ENTITY).last_text("irn").build();
        mirror.apply(&key, Some(&entity_value(7))).unwrap();
        assert_eq!(mirror.head("irn").map(|h| h.mention_count), Some(7));
        mirror.apply(&key, Some(&entity_value(9))).unwrap();
        assert_eq!(mirror.head("irn").map(|h| h.mention_count), Some(9));
        mirror.apply(&key, None).unwrap();
        assert!(mirror.head("irn").is_none());
        assert!(
            mirror.apply(&key, Some(b"\x01")).is_err(),
            "a bad record is reported"
        );
    }
}
