//! An in-memory copy of the small index kinds that search and stance comparison scan on every
//! request: the alias entries, the stance tallies, the evidence ranking, the claims (each with
//! its evidence statement) and the entity records, with each entity's ranking fields decoded. Walking sled for them cost most of those RPCs (page-cache
//! lookups, LRU bookkeeping, key copies per entry); a `BTreeMap` walk of the same keys in the
//! same order is a fraction of it, and gives the same answers by construction.
//!
//! Two indexes live only here (schema 3), derived from stored records: the phonetic entries of
//! each alias entry, and the near-duplicate bands of each original article's signature. Stored,
//! they were 40% of the keys an ingest wrote. A third since schema 5: the evidence ranking,
//! derived from each claim's polarity as the claim comes, goes or changes.
//!
//! The mirror is loaded at open and updated from each batch's writes when the batch is staged,
//! under the store's writer lock, before sled applies it (a batch sled fails to apply makes the
//! store load the mirror again). The writer reads the aggregates it changes from here; a
//! reader may see the mirror a batch ahead of a sled read it makes next, and every such read
//! already tolerates a record that has gone.
//!
//! Memory: a few tens of MB for the 29,389-article corpus (about 260,000 entries, 12 MB of them
//! the claims as stored, 2.6 MB the entity records; a writer also holds each original article's
//! bands and 256-byte signature, about 7.5 MB); it grows with the number of distinct names,
//! claims and original articles, not with article text. Claims and entity records are here
//! because a stance page reads up to page size x evidence claims and a search page its
//! entities, and a sled point read cost more than decoding the record.
//!
//! The stance kinds (tallies, evidence ranking, claims) are held decoded, per target and
//! government, each claim's evidence statement shared ([`MirroredClaim`]): a stance page of 20
//! rows x 3 evidence decoded 60 statements of about 15 strings each, every request, and found
//! each claim by a lookup among all the mirror's keys. The entity summaries are held decoded
//! too (beside the records, which writers read), and each alias entry's value beside its entry
//! in the length index; each claim also keeps its sorted, distinct source article ids. On the
//! corpus these cost the server about 43 MB more at peak under load: peak RSS 193 MB -> 236 MB
//! under the CompareStances, GetArticle FULL and SearchEntities loads, side by side with the
//! build before them (27 MB of it the decoded stance kinds, about 10 MB the summaries).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use super::*;

/// The key kinds copied whole: scanned by prefix on the read path.
const MIRRORED_KINDS: [u8; 4] = [KIND_ALIAS, KIND_TALLY, KIND_CLAIM, KIND_ENTITY];

#[derive(Default, PartialEq)]
pub(super) struct Mirror {
    /// Full keys (kind byte included) to values, for the alias and entity kinds and the derived
    /// [`KIND_PHONETIC`] entries.
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The stance kinds (tallies, evidence ranking, claims), decoded, by target entity id and
    /// government code: a stance page reads its rows' records without decoding or a key lookup
    /// in `entries` per claim.
    stances: foldhash::HashMap<String, BTreeMap<String, PairStances>>,
    /// Entity id → its record as reads use it, decoded once.
    entities: foldhash::HashMap<String, MirroredEntity>,
    /// Alias keys by (the folded alias's first two characters, its length in bytes): prefix
    /// candidates in the order search ranks them, shortest alias first, so that a search can
    /// stop once its page is full instead of reading every alias the query starts. Each with
    /// its value (the alias as written), so that a candidate needs no lookup in `entries`.
    aliases_by_length: BTreeMap<(String, u16, Vec<u8>), Vec<u8>>,
    /// Band → the original articles whose signatures have it, in id order.
    bands: HashMap<Band, BTreeSet<String>>,
    /// Original article id → its bands, to take them out when it is replaced or deleted, and
    /// its signature, to compare a new article with it without a sled read (which waits while a
    /// batch is applied: a bulk ingest's staging waited on it most of the time).
    article_bands: HashMap<String, (Vec<Band>, Vec<u64>)>,
    /// The ids of the stored articles, loaded with the bands: a writer staging a new article
    /// (the common case in a bulk ingest) then needs no sled read to learn it is new.
    article_ids: HashSet<String>,
    /// Whether the bands are loaded: only writers need them, so a server that only reads never
    /// scans the article records for them (see [`Mirror::load_bands`]).
    bands_loaded: bool,
}

impl Mirror {
    /// Copies the mirrored kinds and the decoded entities out of `tree`; the bands wait for
    /// [`Mirror::load_bands`].
    pub(super) fn load(tree: &sled::Tree) -> Result<Mirror, StoreError> {
        let mut mirror = Mirror::default();
        for kind in MIRRORED_KINDS {
            for entry in tree.scan_prefix([kind]) {
                let (key, value) = entry.map_err(io)?;
                mirror.apply(&key, Some(&value))?;
            }
        }
        Ok(mirror)
    }

    pub(super) fn bands_loaded(&self) -> bool {
        self.bands_loaded
    }

    /// Derives the near-duplicate bands from the stored article records. Called under the
    /// writer lock, before the first batch is staged, so that no write is missed.
    pub(super) fn load_bands(&mut self, tree: &sled::Tree) -> Result<(), StoreError> {
        self.bands_loaded = true;
        for entry in tree.scan_prefix([KIND_ARTICLE]) {
            let (key, value) = entry.map_err(io)?;
            self.apply(&key, Some(&value))?;
        }
        Ok(())
    }

    /// Whether writes to `key` must be applied to the mirror.
    pub(super) fn follows(key: &[u8]) -> bool {
        key.first()
            .is_some_and(|kind| *kind == KIND_ARTICLE || MIRRORED_KINDS.contains(kind))
    }

    /// Applies one write of a staged batch; keys of other kinds are ignored.
    pub(super) fn apply(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let Some((&kind, rest)) = key.split_first() else {
            return Ok(());
        };
        if kind == KIND_ARTICLE {
            if self.bands_loaded {
                let id = std::str::from_utf8(rest).map_err(|_| corrupt_key("article"))?;
                let original_signature = match value {
                    Some(bytes) => {
                        let record: ArticleRecord = decode("article", bytes)?;
                        Some(
                            record
                                .duplicate_of
                                .is_none()
                                .then_some(record.signature)
                                .flatten(),
                        )
                    }
                    None => None,
                };
                self.follow_article(id, original_signature);
            }
        } else if matches!(kind, KIND_TALLY | KIND_CLAIM) {
            let decoded = match value {
                Some(bytes) => Some(match kind {
                    KIND_TALLY => StanceValue::Tally(decode("tally", bytes)?),
                    _ => StanceValue::Claim(MirroredClaim::from(decode::<ClaimRecord>(
                        "claim", bytes,
                    )?)),
                }),
                None => None,
            };
            self.apply_stance(kind, rest, decoded)?;
        } else if MIRRORED_KINDS.contains(&kind) {
            if kind == KIND_ALIAS {
                let (folded, id) = alias_parts(key)?;
                self.apply_phonetic(folded, id, value);
                self.apply_alias_length(folded, key, value);
            } else if kind == KIND_ENTITY {
                let id = std::str::from_utf8(rest).map_err(|_| corrupt_key("entity"))?;
                let entity = match value {
                    Some(bytes) => {
                        let record: EntitySummaryRecord = decode("entity", bytes)?;
                        let head = EntityHead {
                            mention_count: record.mention_count,
                            kind: record.kind,
                        };
                        Some(MirroredEntity {
                            head,
                            summary: summary(record),
                        })
                    }
                    None => None,
                };
                self.follow_entity(id, entity);
            }
            self.follow_entry(key, value);
        }
        Ok(())
    }

    /// Applies one put of a staged batch whose record the writer still holds decoded: as
    /// [`Mirror::apply`] with the value `bytes` (the record's encoding), without decoding what
    /// was just encoded (`Mirror::apply` was about a sixth of a bulk ingest's staging thread).
    pub(super) fn apply_staged(
        &mut self,
        key: &[u8],
        bytes: &[u8],
        record: StagedRecord,
    ) -> Result<(), StoreError> {
        let Some((&kind, rest)) = key.split_first() else {
            return Ok(());
        };
        let text = |record| std::str::from_utf8(rest).map_err(|_| corrupt_key(record));
        match (kind, record) {
            (KIND_ARTICLE, StagedRecord::Article { original_signature }) => {
                if self.bands_loaded {
                    self.follow_article(text("article")?, Some(original_signature));
                }
            }
            (KIND_ENTITY, StagedRecord::Entity(record)) => {
                let entity = MirroredEntity {
                    head: EntityHead {
                        mention_count: record.mention_count,
                        kind: record.kind,
                    },
                    summary: summary(EntitySummaryRecord {
                        mention_count: record.mention_count,
                        kind: record.kind,
                        article_count: record.article_count,
                        entity: record.entity,
                        // In key order, as the record's encoding lists them.
                        observed_aliases: record.observed_aliases.into_iter().collect(),
                    }),
                };
                self.follow_entity(text("entity")?, Some(entity));
                self.follow_entry(key, Some(bytes));
            }
            (KIND_CLAIM, StagedRecord::Claim(record)) => {
                let claim = StanceValue::Claim(MirroredClaim::from(record));
                self.apply_stance(kind, rest, Some(claim))?;
            }
            (KIND_TALLY, StagedRecord::Tally(record)) => {
                self.apply_stance(kind, rest, Some(StanceValue::Tally(record)))?;
            }
            // A record of another kind than its key's: the encoding is what is stored.
            _ => self.apply(key, Some(bytes))?,
        }
        Ok(())
    }

    /// An article stored (`Some`, with its signature when it is an original) or deleted.
    fn follow_article(&mut self, id: &str, stored: Option<Option<Vec<u64>>>) {
        self.remove_bands(id);
        match stored {
            Some(original_signature) => {
                self.article_ids.insert(id.to_owned());
                if let Some(signature) = original_signature {
                    let bands = signature_bands(&signature);
                    for band in &bands {
                        self.bands.entry(*band).or_default().insert(id.to_owned());
                    }
                    self.article_bands.insert(id.to_owned(), (bands, signature));
                }
            }
            None => {
                self.article_ids.remove(id);
            }
        }
    }

    fn follow_entity(&mut self, id: &str, entity: Option<MirroredEntity>) {
        match entity {
            Some(entity) => {
                self.entities.insert(id.to_owned(), entity);
            }
            None => {
                self.entities.remove(id);
            }
        }
    }

    fn follow_entry(&mut self, key: &[u8], value: Option<&[u8]>) {
        match value {
            Some(bytes) => {
                self.entries.insert(key.to_vec(), bytes.to_vec());
            }
            None => {
                self.entries.remove(key);
            }
        }
    }

    /// Applies one write of a stance kind: `target, NUL, code` (a tally), then `NUL, claim
    /// hash` (a claim, which brings or takes its evidence rank entry with it).
    fn apply_stance(
        &mut self,
        kind: u8,
        rest: &[u8],
        value: Option<StanceValue>,
    ) -> Result<(), StoreError> {
        let record = if kind == KIND_TALLY { "tally" } else { "claim" };
        let (target, after_target) = split_once(rest).ok_or_else(|| corrupt_key(record))?;
        let (code, after_code) = if kind == KIND_TALLY {
            (after_target, &[][..])
        } else {
            split_once(after_target).ok_or_else(|| corrupt_key(record))?
        };
        let text = |bytes| std::str::from_utf8(bytes).map_err(|_| corrupt_key(record));
        let (target, code) = (text(target)?, text(code)?);
        let Some(value) = value else {
            let Some(pairs) = self.stances.get_mut(target) else {
                return Ok(());
            };
            let Some(pair) = pairs.get_mut(code) else {
                return Ok(());
            };
            if kind == KIND_TALLY {
                pair.tally = None;
            } else {
                pair.set_claim(text(after_code)?, None);
            }
            // Emptied entries go, so that a mirror that followed the writes equals one loaded
            // afresh.
            if pair.is_empty() {
                pairs.remove(code);
                if pairs.is_empty() {
                    self.stances.remove(target);
                }
            }
            return Ok(());
        };
        // Checked before the entry is made, so that a bad key leaves no empty entry.
        enum Decoded<'k> {
            Tally(TallyRecord),
            Claim(&'k str, MirroredClaim),
        }
        let decoded = match (kind, value) {
            (KIND_TALLY, StanceValue::Tally(tally)) => Decoded::Tally(tally),
            (KIND_CLAIM, StanceValue::Claim(claim)) => Decoded::Claim(text(after_code)?, claim),
            _ => {
                return Err(StoreError::Corrupt {
                    record,
                    detail: "a value of another kind than its key".into(),
                });
            }
        };
        let pairs = match self.stances.get_mut(target) {
            Some(pairs) => pairs,
            None => self.stances.entry(target.to_owned()).or_default(),
        };
        let pair = match pairs.get_mut(code) {
            Some(pair) => pair,
            None => pairs.entry(code.to_owned()).or_default(),
        };
        match decoded {
            Decoded::Tally(tally) => pair.tally = Some(tally),
            Decoded::Claim(hash, claim) => pair.set_claim(hash, Some(Arc::new(claim))),
        }
        Ok(())
    }

    /// The stance records about `target`, by government code (in code order).
    pub(super) fn stances_about(&self, target: &str) -> Option<&BTreeMap<String, PairStances>> {
        self.stances.get(target)
    }

    /// The tally of one (target, government) pair.
    pub(super) fn tally(&self, target: &str, code: &str) -> Option<&TallyRecord> {
        self.stances
            .get(target)
            .and_then(|pairs| pairs.get(code))
            .and_then(|pair| pair.tally.as_ref())
    }

    /// The claim stored under a claim key (`kind, target, NUL, code, NUL, claim hash`).
    pub(super) fn claim(&self, key: &[u8]) -> Result<Option<&MirroredClaim>, StoreError> {
        let rest = key.get(1..).unwrap_or_default();
        let (target, after_target) = split_once(rest).ok_or_else(|| corrupt_key("claim"))?;
        let (code, hash) = split_once(after_target).ok_or_else(|| corrupt_key("claim"))?;
        let text = |bytes| std::str::from_utf8(bytes).map_err(|_| corrupt_key("claim"));
        let (target, code, hash) = (text(target)?, text(code)?, text(hash)?);
        Ok(self
            .stances
            .get(target)
            .and_then(|pairs| pairs.get(code))
            .and_then(|pair| pair.claims.get(hash))
            .map(Arc::as_ref))
    }

    /// The phonetic entries derived from one alias entry (`kind, folded alias, NUL, entity id`
    /// → the alias as written) follow it in and out.
    fn apply_phonetic(&mut self, folded: &str, id: &str, value: Option<&[u8]>) {
        for key in phonetic_keys(folded, id) {
            match value {
                Some(written) => {
                    self.entries.insert(key, written.to_vec());
                }
                None => {
                    self.entries.remove(&key);
                }
            }
        }
    }

    fn apply_alias_length(&mut self, folded: &str, alias_key: &[u8], value: Option<&[u8]>) {
        let entry = (
            length_bucket(folded),
            u16::try_from(folded.len()).unwrap_or(u16::MAX),
            alias_key.to_vec(),
        );
        match value {
            Some(written) => {
                self.aliases_by_length.insert(entry, written.to_vec());
            }
            None => {
                self.aliases_by_length.remove(&entry);
            }
        }
    }

    /// The alias entries (length in bytes, key, value) that start with `folded` (a folded query
    /// of at least two characters), shortest first. Only entries whose key starts with the query
    /// are looked up: its bucket also holds every other alias with the same first two
    /// characters ("iraq" beside "iran").
    pub(super) fn aliases_by_length<'m>(
        &'m self,
        folded: &'m str,
    ) -> impl Iterator<Item = (u16, &'m [u8], &'m [u8])> + 'm {
        let bucket = length_bucket(folded);
        let start = (
            bucket.clone(),
            u16::try_from(folded.len()).unwrap_or(u16::MAX),
            Vec::new(),
        );
        self.aliases_by_length
            .range(start..)
            .take_while(move |((b, _, _), _)| *b == bucket)
            .filter(|((_, _, key), _)| {
                key.get(1..)
                    .is_some_and(|alias| alias.starts_with(folded.as_bytes()))
            })
            .map(|((_, len, key), value)| (*len, key.as_slice(), value.as_slice()))
    }

    fn remove_bands(&mut self, article_id: &str) {
        let (bands, _) = self.article_bands.remove(article_id).unwrap_or_default();
        for band in bands {
            if let Some(ids) = self.bands.get_mut(&band) {
                ids.remove(article_id);
                if ids.is_empty() {
                    self.bands.remove(&band);
                }
            }
        }
    }

    /// Whether an article with this id is stored (or staged); `None` until the bands are
    /// loaded, when the mirror does not know.
    pub(super) fn holds_article(&self, article_id: &str) -> Option<bool> {
        self.bands_loaded
            .then(|| self.article_ids.contains(article_id))
    }

    /// The stored original articles whose signatures have `band`, in id order.
    pub(super) fn originals_in_band(&self, band: Band) -> impl Iterator<Item = &str> {
        self.bands
            .get(&band)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The near-duplicate signature of a stored original article (one in the bands).
    pub(super) fn original_signature(&self, article_id: &str) -> Option<&[u64]> {
        self.article_bands
            .get(article_id)
            .map(|(_, signature)| signature.as_slice())
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

    /// The value of `key`, which must start with a mirrored kind.
    pub(super) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    pub(super) fn head(&self, entity_id: &str) -> Option<EntityHead> {
        self.entities.get(entity_id).map(|entity| entity.head)
    }

    /// The summary of a stored entity.
    pub(super) fn summary(&self, entity_id: &str) -> Option<&EntitySummary> {
        self.entities.get(entity_id).map(|entity| &entity.summary)
    }

    /// Entries held, for tests and logs.
    pub(super) fn len(&self) -> usize {
        let stances: usize = self
            .stances
            .values()
            .flat_map(BTreeMap::values)
            .map(|pair| usize::from(pair.tally.is_some()) + pair.ranked.len() + pair.claims.len())
            .sum();
        self.entries.len() + self.entities.len() + stances
    }
}

/// The value of a stance kind's write, decoded.
enum StanceValue {
    Tally(TallyRecord),
    Claim(MirroredClaim),
}

/// A record a batch writes, as its writer holds it before encoding it, for
/// [`Mirror::apply_staged`].
pub(super) enum StagedRecord {
    /// An article's near-duplicate signature when it is an original (not a copy), the only
    /// part of its record the mirror keeps.
    Article {
        original_signature: Option<Vec<u64>>,
    },
    Entity(EntityRecord),
    Claim(ClaimRecord),
    Tally(TallyRecord),
}

/// One (target, government) pair's stance records, decoded.
#[derive(Default, PartialEq)]
pub(super) struct PairStances {
    pub(super) tally: Option<TallyRecord>,
    /// The evidence ranking, derived from the claims: (inverted strength, claim hash), in key
    /// order, strongest first, each with its claim, so that a stance page reads its ranked
    /// claims without a lookup by their 64-character hash (about 15% of a CompareStances
    /// page's instructions went to hashing and comparing them).
    pub(super) ranked: BTreeMap<(u16, String), Arc<MirroredClaim>>,
    /// Claim hash → claim, hashed: a writer looks each claim up.
    claims: foldhash::HashMap<String, Arc<MirroredClaim>>,
}

impl PairStances {
    fn is_empty(&self) -> bool {
        self.tally.is_none() && self.claims.is_empty()
    }

    /// Stores (`Some`) or removes the claim under `hash`, and its rank entry with it: a
    /// claim's strength follows its polarity, which changes when an earlier report of it
    /// arrives.
    fn set_claim(&mut self, hash: &str, claim: Option<Arc<MirroredClaim>>) {
        let old = match &claim {
            Some(claim) => self.claims.insert(hash.to_owned(), Arc::clone(claim)),
            None => self.claims.remove(hash),
        };
        let mut key = (0, hash.to_owned());
        if let Some(old) = old {
            key.0 = inverted_strength(old.polarity);
            self.ranked.remove(&key);
        }
        if let Some(claim) = claim {
            key.0 = inverted_strength(claim.polarity);
            self.ranked.insert(key, claim);
        }
    }

    /// The claims in key order (by hash), as a scan of the stored claim keys lists them.
    pub(super) fn claims_in_key_order(&self) -> Vec<&MirroredClaim> {
        let mut claims: Vec<(&String, &MirroredClaim)> = self
            .claims
            .iter()
            .map(|(hash, claim)| (hash, claim.as_ref()))
            .collect();
        claims.sort_unstable_by(|a, b| a.0.cmp(b.0));
        claims.into_iter().map(|(_, claim)| claim).collect()
    }
}

/// An entity record as search and reads use it: the fields search ranks a candidate by, and
/// the summary a read returns (a search page or a stance target is then a copy of it rather
/// than a decode of the record with its observed aliases).
#[derive(PartialEq)]
struct MirroredEntity {
    head: EntityHead,
    summary: EntitySummary,
}

/// A [`ClaimRecord`] as the mirror holds it: its evidence statement shared, already in the form
/// a stance row gives it (with the article of the claim's first source), so that a read takes
/// a reference rather than a copy of its text.
#[derive(Debug, PartialEq)]
pub(super) struct MirroredClaim {
    pub(super) government: Government,
    pub(super) polarity: f32,
    pub(super) sources: Vec<ClaimSource>,
    /// The record's evidence, with the first source's article id (empty when it has none).
    pub(super) evidence: Arc<StoredStatement>,
    /// The distinct articles of `sources`, sorted: the evidence's source list, shared with
    /// the stance rows that give it.
    pub(super) source_ids: Arc<[String]>,
}

impl From<ClaimRecord> for MirroredClaim {
    fn from(record: ClaimRecord) -> MirroredClaim {
        let ClaimRecord {
            government,
            polarity,
            sources,
            evidence:
                StatementRecord {
                    published,
                    statement,
                },
        } = record;
        let article_id = sources
            .first()
            .map(|source| source.article_id.clone())
            .unwrap_or_default();
        let mut source_ids: Vec<String> = sources
            .iter()
            .map(|source| source.article_id.clone())
            .collect();
        source_ids.sort_unstable();
        source_ids.dedup();
        MirroredClaim {
            government,
            polarity,
            sources,
            source_ids: source_ids.into(),
            evidence: Arc::new(StoredStatement {
                article_id,
                published,
                statement,
            }),
        }
    }
}

impl MirroredClaim {
    /// The record as stored, for a writer to change.
    pub(super) fn to_record(&self) -> ClaimRecord {
        ClaimRecord {
            government: self.government.clone(),
            polarity: self.polarity,
            sources: self.sources.clone(),
            evidence: StatementRecord {
                published: self.evidence.published,
                statement: self.evidence.statement.clone(),
            },
        }
    }
}

/// `bytes` split at its first separator.
fn split_once(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == SEPARATOR)?;
    Some((bytes.get(..at)?, bytes.get(at + 1..)?))
}

/// The folded alias and the entity id of an alias key (`kind, folded alias, NUL, entity id`).
fn alias_parts(key: &[u8]) -> Result<(&str, &str), StoreError> {
    let parts = split_parts(key, 1);
    match (parts.first(), parts.get(1)) {
        (Some(folded), Some(id)) => Ok((
            std::str::from_utf8(folded).map_err(|_| corrupt_key("alias"))?,
            std::str::from_utf8(id).map_err(|_| corrupt_key("alias"))?,
        )),
        _ => Err(corrupt_key("alias")),
    }
}

/// The bucket of [`Mirror::aliases_by_length`] a folded alias or query falls in: its first two
/// characters.
fn length_bucket(folded: &str) -> String {
    folded.chars().take(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use communique_domain::{Act, Span, Speaker, StatementKind};

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
        mirror
            .apply(&[KIND_ARTICLE_BY_DATE, b'x'], Some(b"v"))
            .unwrap();
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

        // Each alias entry brings its phonetic entries, and takes them when it goes.
        let has = |mirror: &Mirror, key: &[u8]| mirror.entries.contains_key(key);
        assert!(phonetic_keys("iran", "b").iter().all(|k| has(&mirror, k)));
        mirror.apply(&alias("iran", "b"), None).unwrap();
        assert_eq!(mirror.scan_prefix(&prefix).count(), 2);
        assert!(phonetic_keys("iran", "b").iter().all(|k| !has(&mirror, k)));
        assert!(phonetic_keys("iran", "a").iter().all(|k| has(&mirror, k)));
        let skeleton = KeyBuilder::new(KIND_PHONETIC)
            .text(&phonetic_key("iran"))
            .build();
        let ids: Vec<&[u8]> = mirror
            .scan_prefix(&skeleton)
            .map(|(key, _)| split_parts(key, skeleton.len())[0])
            .collect();
        // "iran" itself, and "iran air" by its word "iran".
        assert_eq!(ids, vec![b"a".as_slice(), b"a".as_slice()]);
    }

    fn article_value(id: &str, signature: Option<Vec<u64>>, duplicate_of: Option<&str>) -> Vec<u8> {
        let record = ArticleRecord {
            id: id.into(),
            title: String::new(),
            url: None,
            source: None,
            authors: Vec::new(),
            published: None,
            content_hash: String::new(),
            duplicate_of: duplicate_of.map(str::to_owned),
            signature,
            mention_count: 0,
            statement_count: 0,
            government_codes: Vec::new(),
            entity_ids: Vec::new(),
        };
        encode("article", &record).unwrap()
    }

    #[test]
    fn bands_hold_stored_originals_only_and_follow_replacements() {
        let mut mirror = Mirror::default();
        mirror
            .apply(
                &KeyBuilder::new(KIND_ARTICLE).last_text("x").build(),
                Some(b"\x01"),
            )
            .unwrap(); // Ignored (not even decoded) until the bands are loaded.
        mirror.bands_loaded = true;
        let signature: Vec<u64> = (0..32).collect();
        let band = signature_bands(&signature)[0];
        let key = |id: &str| KeyBuilder::new(KIND_ARTICLE).last_text(id).build();
        let in_band = |mirror: &Mirror| -> Vec<String> {
            mirror.originals_in_band(band).map(str::to_owned).collect()
        };
        mirror
            .apply(
                &key("b"),
                Some(&article_value("b", Some(signature.clone()), None)),
            )
            .unwrap();
        mirror
            .apply(
                &key("a"),
                Some(&article_value("a", Some(signature.clone()), None)),
            )
            .unwrap();
        // A copy is never a candidate original.
        mirror
            .apply(
                &key("c"),
                Some(&article_value("c", Some(signature.clone()), Some("a"))),
            )
            .unwrap();
        assert_eq!(in_band(&mirror), ["a", "b"]);
        // Replaced by a version with another text: out of the old bands.
        mirror
            .apply(
                &key("a"),
                Some(&article_value("a", Some(vec![99; 32]), None)),
            )
            .unwrap();
        assert_eq!(in_band(&mirror), ["b"]);
        mirror.apply(&key("b"), None).unwrap();
        assert!(in_band(&mirror).is_empty());
        assert!(!mirror.bands.contains_key(&band), "empty bands are dropped");
    }

    #[test]
    fn staged_records_are_followed_as_their_encodings_are() {
        let mut staged = Mirror {
            bands_loaded: true,
            ..Mirror::default()
        };
        let mut decoded = Mirror {
            bands_loaded: true,
            ..Mirror::default()
        };
        let entity_key = KeyBuilder::new(KIND_ENTITY).last_text("irn").build();
        let mut entity: EntityRecord = decode("entity", &entity_value(3)).unwrap();
        entity.observed_aliases = [("Persia".to_owned(), 2), ("Iran".to_owned(), 1)].into();
        let tally = TallyRecord {
            government: Government {
                code: "GBR".into(),
                name: "United Kingdom".into(),
            },
            tally: StanceTally::default(),
        };
        let signature: Vec<u64> = (0..32).collect();
        let writes = [
            (
                KeyBuilder::new(KIND_ARTICLE).last_text("a").build(),
                article_value("a", Some(signature.clone()), None),
                StagedRecord::Article {
                    original_signature: Some(signature),
                },
            ),
            (
                KeyBuilder::new(KIND_ARTICLE).last_text("b").build(),
                article_value("b", Some(vec![7; 32]), Some("a")),
                StagedRecord::Article {
                    original_signature: None,
                },
            ),
            (
                entity_key,
                encode("entity", &entity).unwrap(),
                StagedRecord::Entity(entity),
            ),
            (
                tally_key("irn", "GBR"),
                encode("tally", &tally).unwrap(),
                StagedRecord::Tally(tally),
            ),
        ];
        for (key, bytes, record) in writes {
            staged.apply_staged(&key, &bytes, record).unwrap();
            decoded.apply(&key, Some(&bytes)).unwrap();
        }
        assert!(staged == decoded);
        assert_eq!(staged.len(), 3);
        assert!(staged.holds_article("b") == Some(true));
    }

    fn claim_value(article_id: &str, polarity: f32) -> Vec<u8> {
        let record = ClaimRecord {
            government: Government {
                code: "GBR".into(),
                name: "United Kingdom".into(),
            },
            polarity,
            sources: vec![ClaimSource {
                article_id: article_id.into(),
                ordinal: 0,
                published: None,
            }],
            evidence: StatementRecord {
                published: None,
                statement: Statement {
                    ordinal: 0,
                    text: "words".into(),
                    kind: StatementKind::Direct,
                    speaker: Speaker {
                        entity_id: None,
                        name: String::new(),
                    },
                    governments: Vec::new(),
                    targets: Vec::new(),
                    act: Act::Assert,
                    span: Span {
                        field: TextField::Body,
                        start: 0,
                        end: 0,
                    },
                },
            },
        };
        encode("claim", &record).unwrap()
    }

    #[test]
    fn the_evidence_ranking_follows_the_claims_strongest_first() {
        let claim_key = |hash: &str| {
            KeyBuilder::new(KIND_CLAIM)
                .text("irn")
                .text("GBR")
                .last_text(hash)
                .build()
        };
        // The article of each ranked claim's evidence, in rank order.
        let ranked = |mirror: &Mirror| -> Vec<String> {
            mirror
                .stances_about("irn")
                .and_then(|pairs| pairs.get("GBR"))
                .map(|pair| {
                    pair.ranked
                        .values()
                        .map(|claim| claim.evidence.article_id.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut mirror = Mirror::default();
        mirror
            .apply(&claim_key("h1"), Some(&claim_value("a", -0.5)))
            .unwrap();
        mirror
            .apply(&claim_key("h2"), Some(&claim_value("b", -0.9)))
            .unwrap();
        assert_eq!(ranked(&mirror), ["b", "a"]);
        // An earlier report changed the claim and its polarity: its rank moves, not doubles.
        mirror
            .apply(&claim_key("h1"), Some(&claim_value("c", 1.0)))
            .unwrap();
        assert_eq!(ranked(&mirror), ["c", "b"]);
        mirror.apply(&claim_key("h1"), None).unwrap();
        assert_eq!(ranked(&mirror), ["b"]);
        assert!(mirror.claim(&claim_key("h1")).unwrap().is_none());
        // Equal to a mirror given only what is left.
        let mut fresh = Mirror::default();
        fresh
            .apply(&claim_key("h2"), Some(&claim_value("b", -0.9)))
            .unwrap();
        assert!(mirror == fresh);
        mirror.apply(&claim_key("h2"), None).unwrap();
        assert!(mirror.stances_about("irn").is_none(), "emptied pairs go");
    }

    #[test]
    fn entity_heads_follow_puts_and_deletes() {
        let mut mirror = Mirror::default();
        let key = KeyBuilder::new(KIND_ENTITY).last_text("irn").build();
        mirror.apply(&key, Some(&entity_value(7))).unwrap();
        assert_eq!(mirror.head("irn").map(|h| h.mention_count), Some(7));
        mirror.apply(&key, Some(&entity_value(9))).unwrap();
        assert_eq!(mirror.head("irn").map(|h| h.mention_count), Some(9));
        assert_eq!(mirror.summary("irn").map(|s| s.mention_count), Some(9));
        mirror.apply(&key, None).unwrap();
        assert!(mirror.head("irn").is_none());
        assert!(mirror.summary("irn").is_none());
        assert!(
            mirror.apply(&key, Some(b"\x01")).is_err(),
            "a bad record is reported"
        );
    }
}
