//! [`ArticleStore`] on sled. One tree, kind-prefixed keys (see `keys.rs`). Each article is
//! written with all its index entries and aggregate changes as one `apply_batch`, which sled
//! applies atomically: after a crash an article is whole or absent. Writes are serialised by a
//! mutex so that the read-modify-write of aggregates sees every earlier write; reads never wait.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, TryLockError};
use std::thread::JoinHandle;

use communique_domain::query::{
    ArticleFilter, EntityMatch, EntitySearch, Evidence, LentEvidence, LentStanceRow, MatchType,
    Page, PageRequest, StanceQuery, StanceRow, StanceTally, StatementFilter, StoredMention,
    StoredStatement,
};
use communique_domain::{
    AnnotatedArticle, Article, Date, Entity, EntityKind, EntitySummary, Government, Mention,
    PublishedDate, Statement, TextField, content_hash, name_similarity, near_duplicate_signature,
    normalize_name, phonetic_key, sentence_around, signature_similarity,
};
use serde::{Deserialize, Serialize};

mod integrity;
mod mirror;
mod postings;

use self::mirror::{Mirror, MirroredClaim, PairStances, StagedRecord};
use self::postings::{IndexPositions, Posting};
use crate::codec::{decode, encode};
use crate::keys::*;
use crate::{ArticleParts, ArticleStore, PutOutcome, StoreError, StoredArticle};

/// The schema this code writes; a store with another version is refused at open.
/// 2: one content record per article (body, mentions, statements) found through the article
/// indexes, instead of per-mention and per-statement records and statement indexes; claims hold
/// their evidence statement; entity records lead with the fields search ranks by.
/// 3: the phonetic index and the near-duplicate bands are no longer stored: they are derived in
/// memory from the alias entries and the article records (see `mirror.rs`), which halves the
/// keys an ingest writes. A schema 2 store is migrated at open by deleting those two kinds.
/// 4: the article indexes (by date, entity, government, source) are stored as posting blocks,
/// one key per index part, day and batch instead of one per article (see `postings.rs`); a
/// schema 3 store is migrated at open by gathering its index entries into blocks.
/// 5: a claim keeps its sources in a fixed order, the earliest report first, and reads (its
/// evidence, polarity and government) as that first source says it, instead of as whichever
/// article was written first. The evidence ranking (one empty-valued key per claim, a tenth of
/// an ingest's writes) is no longer stored: the mirror derives it from the claims (an ingest of
/// the corpus took 0.93x the CPU and 0.92x the peak RSS without those writes). A schema 4 store
/// is migrated at open by reordering its claims and deleting the ranking.
const SCHEMA_VERSION: u32 = 5;
const META_SCHEMA_VERSION: &str = "schema_version";
const META_ARTICLE_COUNT: &str = "article_count";
/// The number of the last posting block written: each batch's blocks take the next one, so
/// that a batch never overwrites another's block of the same group.
const META_LAST_BLOCK_NUMBER: &str = "last_block_number";
/// Prefix matches examined per search: bounds the cost of a one-letter query.
const MAX_PREFIX_CANDIDATES: usize = 512;
/// Spelling-tolerant candidates examined per search.
const MAX_FUZZY_CANDIDATES: usize = 512;
const MIN_FUZZY_SIMILARITY: f32 = 0.6;
/// Most articles staged into one atomic batch: a call with more is written as several batches,
/// each applied while the next is staged. Smaller batches rewrite the aggregates they share
/// (popular entities, tallies) more often: against batches of 1024, batches of 512 made the
/// corpus store 6% larger on disk, batches of 256 14%, and were no faster (measured when
/// staging still read the aggregates from sled, whose reads wait for `apply_batch`).
const ARTICLES_PER_BATCH: usize = 1024;

#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// sled's page cache, in bytes; keep it well below the process's memory limit.
    pub cache_capacity_bytes: u64,
    /// Whether `open` starts loading the in-memory copy of the search and stance indexes at
    /// once, on a thread of its own (a server, which reads it on every search), or leaves it to
    /// the first read or write that needs it (a batch writer: re-ingesting unchanged articles
    /// never does, and the load is 0.7 s of CPU and 180 MB on the corpus).
    pub load_indexes_at_open: bool,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            cache_capacity_bytes: 256 * 1024 * 1024,
            load_indexes_at_open: true,
        }
    }
}

pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    path: PathBuf,
    writer: Arc<Mutex<()>>,
    /// The index kinds read on every search and stance comparison, in memory. Loaded by a
    /// thread started at open (so that opening a large store stays fast; reads that need it
    /// wait for it), or by the first read or write that needs it
    /// ([`StoreOptions::load_indexes_at_open`]). An `Err` holds why it could not be loaded.
    mirror: Arc<OnceLock<Result<RwLock<Mirror>, String>>>,
    mirror_loader: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ArticleRecord {
    id: String,
    title: String,
    url: Option<String>,
    source: Option<String>,
    authors: Vec<String>,
    published: Option<PublishedDate>,
    content_hash: String,
    duplicate_of: Option<String>,
    /// The body's near-duplicate signature, to compare later articles with this one.
    signature: Option<Vec<u64>>,
    mention_count: u32,
    statement_count: u32,
    government_codes: Vec<String>,
    /// Every entity the article refers to, so that a replacement can undo its contributions.
    entity_ids: Vec<String>,
}

/// Everything of an article that only a full read needs: one record, so that writing an
/// article is few keys and reading it whole is two reads.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ContentRecord {
    /// The article's date, which every statement carries when listed.
    published: Option<Date>,
    body: String,
    mentions: Vec<Mention>,
    statements: Vec<Statement>,
}

impl ContentRecord {
    /// The statement numbered `ordinal`, with the article's date, moved out of the record.
    fn into_statement_record(self, ordinal: u32) -> Option<StatementRecord> {
        let published = self.published;
        self.statements
            .into_iter()
            .find(|statement| statement.ordinal == ordinal)
            .map(|statement| StatementRecord {
                published,
                statement,
            })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StatementRecord {
    published: Option<Date>,
    statement: Statement,
}

/// The fields that rank a search match come first ([`EntityHead`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EntityRecord {
    mention_count: u32,
    kind: EntityKind,
    article_count: u32,
    entity: Entity,
    /// Surface forms seen in articles, with how many mentions used each; they become aliases.
    observed_aliases: BTreeMap<String, u32>,
}

/// One distinct statement (same speaker, same words) about a target by a government.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ClaimRecord {
    government: Government,
    polarity: f32,
    sources: Vec<ClaimSource>,
    /// The statement of the first source, kept here so that evidence is one read.
    evidence: StatementRecord,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ClaimSource {
    article_id: String,
    ordinal: u32,
    published: Option<Date>,
}

impl ClaimRecord {
    /// Makes the claim read as `evidence`, the statement of its (new) first source, says it:
    /// the polarity toward `target` and the government `government_code` it gives.
    fn follow_first_source(
        &mut self,
        evidence: StatementRecord,
        target: &str,
        government_code: &str,
    ) {
        let statement = &evidence.statement;
        if let Some(stated) = statement.targets.iter().find(|t| t.entity_id == target) {
            self.polarity = stated.polarity;
        }
        if let Some(government) = statement
            .governments
            .iter()
            .find(|g| g.code.as_str() == government_code)
        {
            self.government = government.clone();
        }
        self.evidence = evidence;
    }
}

/// An [`EntityRecord`] as a read decodes it for a summary: the observed aliases as the list of
/// pairs postcard stores a map as, without building the map (its ordered inserts were most of
/// a search page's cost for popular entities).
#[derive(Debug, Deserialize)]
struct EntitySummaryRecord {
    mention_count: u32,
    /// The same as `entity.kind`.
    kind: EntityKind,
    article_count: u32,
    entity: Entity,
    observed_aliases: Vec<(String, u32)>,
}

/// The fields of an [`EntityRecord`] that search ranks and filters a candidate by.
#[derive(Clone, Copy, Debug, PartialEq)]
struct EntityHead {
    mention_count: u32,
    kind: EntityKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TallyRecord {
    government: Government,
    tally: StanceTally,
}

impl SledStore {
    /// Opens (creating if needed) the store in `path`.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<SledStore, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(options.cache_capacity_bytes)
            .open()
            .map_err(|error| open_error(path, error))?;
        let tree = db.open_tree("communique").map_err(io)?;
        let store = SledStore {
            db,
            tree,
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(())),
            mirror: Arc::new(OnceLock::new()),
            mirror_loader: Mutex::new(None),
        };
        store.check_schema()?;
        if options.load_indexes_at_open {
            let loader = store.start_mirror_loader()?;
            *store
                .mirror_loader
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(loader);
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let key = meta_key(META_SCHEMA_VERSION);
        match self.tree.get(&key).map_err(io)? {
            None => {
                self.tree
                    .insert(key, encode("schema version", &SCHEMA_VERSION)?)
                    .map_err(io)?;
                Ok(())
            }
            Some(bytes) => {
                let version: u32 = decode("schema version", &bytes)?;
                if version == SCHEMA_VERSION {
                    Ok(())
                } else if version == 2 {
                    self.migrate_from_schema_2()?;
                    self.migrate_from_schema_3()?;
                    self.migrate_from_schema_4()
                } else if version == 3 {
                    self.migrate_from_schema_3()?;
                    self.migrate_from_schema_4()
                } else if version == 4 {
                    self.migrate_from_schema_4()
                } else {
                    Err(StoreError::SchemaMismatch {
                        path: self.path.display().to_string(),
                        found: version,
                        expected: SCHEMA_VERSION,
                    })
                }
            }
        }
    }

    /// Schema 2 → 3: deletes the stored phonetic and near-duplicate band entries, now derived
    /// in memory, in bounded batches; the version is written last, so that a migration cut
    /// short is finished by the next open.
    fn migrate_from_schema_2(&self) -> Result<(), StoreError> {
        let removed = self.remove_kinds(&[KIND_PHONETIC, KIND_DUPLICATE_BAND])?;
        // 3, not SCHEMA_VERSION: a store cut off before its schema 3 → 4 step must say so at
        // the next open, or its article indexes would stay unconverted.
        self.finish_migration(3)?;
        tracing::info!(removed, "store migrated from schema 2 to 3");
        Ok(())
    }

    /// Deletes every key of `kinds`, in bounded batches; returns how many.
    fn remove_kinds(&self, kinds: &[u8]) -> Result<usize, StoreError> {
        let mut removed = 0usize;
        for &kind in kinds {
            loop {
                let mut batch = sled::Batch::default();
                let mut keys = 0;
                for entry in self.tree.scan_prefix([kind]).take(10_000) {
                    let (key, _) = entry.map_err(io)?;
                    batch.remove(key);
                    keys += 1;
                }
                if keys == 0 {
                    break;
                }
                self.tree.apply_batch(batch).map_err(io)?;
                removed += keys;
            }
        }
        Ok(removed)
    }

    /// Records `version` as the store's schema and flushes: the last step of a migration, so
    /// that one cut short is run again at the next open.
    fn finish_migration(&self, version: u32) -> Result<(), StoreError> {
        self.tree
            .insert(
                meta_key(META_SCHEMA_VERSION),
                encode("schema version", &version)?,
            )
            .map_err(io)?;
        self.tree.flush().map_err(io)?;
        Ok(())
    }

    /// Schema 3 → 4: gathers each article index's entries into posting blocks, in bounded
    /// batches that write the blocks of some entries and delete those entries atomically; the
    /// version is written last, so that a migration cut short is finished by the next open (a
    /// group cut between two batches is two blocks, which reads merge).
    fn migrate_from_schema_3(&self) -> Result<(), StoreError> {
        let mut converted = 0usize;
        for (index_kind, _) in ARTICLE_INDEXES {
            loop {
                let mut groups: BTreeMap<Vec<u8>, Vec<Posting>> = BTreeMap::new();
                let mut batch = sled::Batch::default();
                let mut entries = 0;
                for entry in self.tree.scan_prefix([index_kind]).take(10_000) {
                    let (position, role) = entry.map_err(io)?;
                    let group = postings::group_of_position(&position)
                        .ok_or_else(|| corrupt_key("article index"))?;
                    let article_id = std::str::from_utf8(&position[group.len()..])
                        .map_err(|_| corrupt_key("article index"))?;
                    groups.entry(group.to_vec()).or_default().push(Posting {
                        article_id: article_id.to_owned(),
                        role: role.first().copied().unwrap_or(0),
                    });
                    batch.remove(position);
                    entries += 1;
                }
                if entries == 0 {
                    break;
                }
                let number = self
                    .read::<u64>("last block number", &meta_key(META_LAST_BLOCK_NUMBER))?
                    .unwrap_or(0)
                    + 1;
                for (key, value) in postings::new_blocks(groups, number)? {
                    batch.insert(key, value);
                }
                self.tree.apply_batch(batch).map_err(io)?;
                converted += entries;
            }
        }
        // 4, not SCHEMA_VERSION: a store cut off before its schema 4 → 5 step must say so.
        self.finish_migration(4)?;
        tracing::info!(converted, "store migrated from schema 3 to 4");
        Ok(())
    }

    /// Schema 4 → 5: puts each claim's sources in their order ([`source_order`]) and makes a
    /// claim whose first source changed read as that source says it, moving its tally with its
    /// polarity (one atomic batch keeps tallies and claims consistent), then deletes the stored
    /// evidence rank entries, now derived in memory from the claims. The version is written
    /// last; a run cut short finds every claim in order and finishes the deletion.
    fn migrate_from_schema_4(&self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut tallies: BTreeMap<Vec<u8>, Option<TallyRecord>> = BTreeMap::new();
        let mut reordered = 0usize;
        for entry in self.tree.scan_prefix([KIND_CLAIM]) {
            let (key, value) = entry.map_err(io)?;
            let mut claim: ClaimRecord = decode("claim", &value)?;
            if claim
                .sources
                .is_sorted_by(|a, b| source_order(a) <= source_order(b))
            {
                continue;
            }
            let first_before = claim.sources.first().cloned();
            claim
                .sources
                .sort_by(|a, b| source_order(a).cmp(&source_order(b)));
            claim.sources.dedup();
            let parts = split_parts(&key, 1);
            let (Some(target), Some(government)) = (
                parts.first().and_then(|p| std::str::from_utf8(p).ok()),
                parts.get(1).and_then(|p| std::str::from_utf8(p).ok()),
            ) else {
                return Err(corrupt_key("claim"));
            };
            if let Some(first) = claim
                .sources
                .first()
                .filter(|f| Some(*f) != first_before.as_ref())
            {
                let content: Option<ContentRecord> =
                    self.read("article content", &content_key(&first.article_id))?;
                let evidence =
                    content.and_then(|content| content.into_statement_record(first.ordinal));
                if let Some(evidence) = evidence {
                    let polarity_before = claim.polarity;
                    claim.follow_first_source(evidence, target, government);
                    if claim.polarity != polarity_before {
                        let key = tally_key(target, government);
                        let tally = match tallies.entry(key) {
                            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                            std::collections::btree_map::Entry::Vacant(entry) => {
                                let stored = self.read("tally", entry.key())?;
                                entry.insert(stored)
                            }
                        };
                        if let Some(record) = tally {
                            record.tally.remove(polarity_before);
                            record.tally.add(claim.polarity);
                        }
                    }
                }
            }
            batch.insert(key, encode("claim", &claim)?);
            reordered += 1;
        }
        for (key, tally) in tallies {
            if let Some(record) = tally {
                batch.insert(key, encode("tally", &record)?);
            }
        }
        self.tree.apply_batch(batch).map_err(io)?;
        let removed = self.remove_kinds(&[KIND_EVIDENCE_RANK])?;
        self.finish_migration(SCHEMA_VERSION)?;
        tracing::info!(reordered, removed, "store migrated from schema 4 to 5");
        Ok(())
    }

    /// The entries of `[lower, upper)` whose keys start with `prefix`: the positions of an
    /// article index (read from its posting blocks), or the keys of a stored kind.
    fn entries(
        &self,
        prefix: &[u8],
        lower: Bound<Vec<u8>>,
        upper: Vec<u8>,
    ) -> Result<Entries, StoreError> {
        if prefix.first().copied().and_then(postings_kind).is_some() {
            return Ok(Box::new(IndexPositions::new(
                &self.tree, prefix, lower, upper,
            )?));
        }
        Ok(Box::new(
            self.tree
                .range::<Vec<u8>, _>((lower, Bound::Excluded(upper)))
                .map(|entry| entry.map_err(io)),
        ))
    }

    fn read<T: for<'de> Deserialize<'de>>(
        &self,
        record: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        self.tree
            .get(key)
            .map_err(io)?
            .map(|bytes| decode(record, &bytes))
            .transpose()
    }

    fn article_record(&self, id: &str) -> Result<Option<ArticleRecord>, StoreError> {
        self.read(
            "article",
            &KeyBuilder::new(KIND_ARTICLE).last_text(id).build(),
        )
    }

    fn content(&self, article_id: &str) -> Result<Option<ContentRecord>, StoreError> {
        self.read("article content", &content_key(article_id))
    }

    fn assemble(
        &self,
        record: ArticleRecord,
        parts: ArticleParts,
    ) -> Result<StoredArticle, StoreError> {
        let (body, mentions, statements) = match parts {
            ArticleParts::Metadata => (String::new(), Vec::new(), Vec::new()),
            ArticleParts::Full => {
                let content = self
                    .content(&record.id)?
                    .ok_or_else(|| StoreError::Corrupt {
                        record: "article content",
                        detail: format!("article {:?} has no content record", record.id),
                    })?;
                (content.body, content.mentions, content.statements)
            }
        };
        Ok(StoredArticle {
            mention_count: record.mention_count,
            statement_count: record.statement_count,
            government_codes: record.government_codes,
            article: Article {
                id: record.id,
                title: record.title,
                body,
                url: record.url,
                source: record.source,
                authors: record.authors,
                published: record.published,
                content_hash: record.content_hash,
                mentions,
                statements,
                duplicate_of: record.duplicate_of,
            },
        })
    }

    /// Iterates keys in `[start, end)` after an optional resume key, up to `limit` accepted items.
    fn page_over<T>(
        &self,
        prefix: &[u8],
        start: Vec<u8>,
        end: Vec<u8>,
        page: &PageRequest,
        mut accept: impl FnMut(&[u8], &[u8]) -> Result<Option<T>, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let lower = match &page.resume_after {
            Some(resume) => {
                if !resume.starts_with(prefix) || resume.as_slice() < start.as_slice() {
                    return Err(StoreError::BadPagePosition);
                }
                Bound::Excluded(resume.clone())
            }
            None => Bound::Included(start),
        };
        let size = page.size.max(1);
        let mut items = Vec::new();
        let mut last_key: Option<Vec<u8>> = None;
        for entry in self.entries(prefix, lower, end)? {
            let (key, value) = entry?;
            if items.len() == size {
                // There is at least one more key: the page ends at the last accepted one.
                return Ok(Page {
                    items,
                    next: last_key,
                });
            }
            if let Some(item) = accept(&key, &value)? {
                items.push(item);
            }
            last_key = Some(key.to_vec());
        }
        Ok(Page { items, next: None })
    }

    /// Pages over items found per index entry (an article) in the keys starting with `prefix`:
    /// `items_of(key, value)` gives an entry's items, empty to pass it by. A position is how
    /// many of an entry's items were returned, then the entry's key.
    fn page_over_articles<T>(
        &self,
        prefix: &[u8],
        page: &PageRequest,
        mut items_of: impl FnMut(&[u8], &[u8]) -> Result<Vec<T>, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let (lower, mut skip) = match &page.resume_after {
            Some(position) => {
                let (returned, key) = position
                    .split_first_chunk::<4>()
                    .ok_or(StoreError::BadPagePosition)?;
                if !key.starts_with(prefix) {
                    return Err(StoreError::BadPagePosition);
                }
                (key.to_vec(), u32::from_be_bytes(*returned) as usize)
            }
            None => (prefix.to_vec(), 0),
        };
        let size = page.size.max(1);
        let mut items = Vec::new();
        for entry in self.entries(prefix, Bound::Included(lower), prefix_end(prefix))? {
            let (key, value) = entry?;
            for (returned, item) in items_of(&key, &value)?.into_iter().enumerate().skip(skip) {
                if items.len() == size {
                    let mut position = (returned as u32).to_be_bytes().to_vec();
                    position.extend_from_slice(&key);
                    return Ok(Page {
                        items,
                        next: Some(position),
                    });
                }
                items.push(item);
            }
            skip = 0;
        }
        Ok(Page { items, next: None })
    }

    /// The keys, records and aggregate changes for adding (`sign` +1) or removing (-1) an
    /// article, gathered into `changes`.
    fn stage(
        &self,
        changes: &mut Changes,
        record: &ArticleRecord,
        content: &ContentRecord,
        entities: &[Entity],
        adding: bool,
    ) -> Result<(), StoreError> {
        let id = record.id.as_str();
        let date = record.published.as_ref().map(|p| p.date);
        let article_key = KeyBuilder::new(KIND_ARTICLE).last_text(id).build();
        let content_key = content_key(id);
        if adding {
            let original_signature = record
                .duplicate_of
                .is_none()
                .then(|| record.signature.clone())
                .flatten();
            changes.put_staged(
                article_key,
                encode("article", record)?,
                StagedRecord::Article { original_signature },
            );
            changes.put(content_key, encode("article content", content)?);
        } else {
            changes.delete(article_key);
            changes.delete(content_key);
        }
        // The article's positions in the article indexes, each a group (the position without the
        // article id) and the role it holds there.
        let mut positions = vec![(KeyBuilder::new(KIND_ARTICLE_BY_DATE).date(date).build(), 0)];
        let mut roles: BTreeMap<&str, u8> = BTreeMap::new();
        if adding {
            for mention in &content.mentions {
                *roles.entry(&mention.entity_id).or_default() |= ROLE_MENTIONED;
            }
            for statement in &content.statements {
                if let Some(speaker) = &statement.speaker.entity_id {
                    *roles.entry(speaker).or_default() |= ROLE_SPEAKER;
                }
                for target in &statement.targets {
                    *roles.entry(&target.entity_id).or_default() |= ROLE_TARGET;
                }
            }
        }
        for entity_id in &record.entity_ids {
            let group = KeyBuilder::new(KIND_ARTICLE_BY_ENTITY)
                .text(entity_id)
                .date(date)
                .build();
            let role = roles.get(entity_id.as_str()).copied().unwrap_or_default();
            positions.push((group, role));
        }
        for code in &record.government_codes {
            positions.push((
                KeyBuilder::new(KIND_ARTICLE_BY_GOVERNMENT)
                    .text(code)
                    .date(date)
                    .build(),
                0,
            ));
        }
        if let Some(source) = &record.source {
            positions.push((
                KeyBuilder::new(KIND_ARTICLE_BY_SOURCE)
                    .text(source)
                    .date(date)
                    .build(),
                0,
            ));
        }
        for (group, role) in positions {
            if adding {
                changes.add_posting(group, id, role);
            } else {
                changes.remove_posting(self, &group, id)?;
            }
        }
        // Only originals are candidates: a later copy is compared with the original it copies.
        // Stored ones are found through the mirror's bands; this batch's through `changes`.
        if adding
            && record.duplicate_of.is_none()
            && let Some(signature) = &record.signature
        {
            for band in signature_bands(signature) {
                changes
                    .bands
                    .entry(band)
                    .or_default()
                    .push((id.to_owned(), signature.clone()));
            }
        }
        for statement in &content.statements {
            self.stage_claims(changes, id, content.published, statement, adding)?;
        }
        // Each entity's surface forms in mention order (their count is its mention count),
        // gathered in one pass: a scan of every mention per entity was quadratic in a long
        // article.
        let mut surface_forms_by_entity: HashMap<&str, Vec<&str>> = HashMap::new();
        for mention in &content.mentions {
            surface_forms_by_entity
                .entry(mention.entity_id.as_str())
                .or_default()
                .push(mention.text.as_str());
        }
        let definitions: HashMap<&str, &Entity> =
            entities.iter().map(|e| (e.id.as_str(), e)).collect();
        for entity_id in &record.entity_ids {
            let surface_forms: &[&str] = surface_forms_by_entity
                .get(entity_id.as_str())
                .map_or(&[], Vec::as_slice);
            let mentions = surface_forms.len() as u32;
            let entity = changes.entity(self, entity_id)?;
            match entity {
                Some(existing) => {
                    if adding {
                        existing.article_count += 1;
                        existing.mention_count += mentions;
                        if let Some(definition) = definitions.get(entity_id.as_str()) {
                            merge_definition(&mut existing.entity, definition);
                        }
                    } else {
                        existing.article_count = existing.article_count.saturating_sub(1);
                        existing.mention_count = existing.mention_count.saturating_sub(mentions);
                    }
                    for &form in surface_forms {
                        let count = existing
                            .observed_aliases
                            .entry(form.to_owned())
                            .or_default();
                        if adding {
                            *count += 1;
                        } else {
                            *count = count.saturating_sub(1);
                        }
                    }
                    existing.observed_aliases.retain(|_, count| *count > 0);
                }
                None if adding => {
                    if let Some(definition) = definitions.get(entity_id.as_str()) {
                        let mut observed: BTreeMap<String, u32> = BTreeMap::new();
                        for &form in surface_forms {
                            *observed.entry(form.to_owned()).or_default() += 1;
                        }
                        *entity = Some(EntityRecord {
                            kind: definition.kind,
                            entity: (*definition).clone(),
                            article_count: 1,
                            mention_count: mentions,
                            observed_aliases: observed,
                        });
                    }
                }
                None => {}
            }
        }
        Ok(())
    }

    fn stage_claims(
        &self,
        changes: &mut Changes,
        article_id: &str,
        published: Option<Date>,
        statement: &Statement,
        adding: bool,
    ) -> Result<(), StoreError> {
        let speaker_key = statement
            .speaker
            .entity_id
            .clone()
            .unwrap_or_else(|| normalize_name(&statement.speaker.name));
        let claim_hash = content_hash(&speaker_key, &normalize_name(&statement.text));
        let source = ClaimSource {
            article_id: article_id.to_owned(),
            ordinal: statement.ordinal,
            published,
        };
        for target in &statement.targets {
            for government in &statement.governments {
                let pair = (target.entity_id.clone(), government.code.clone());
                let claim_key = KeyBuilder::new(KIND_CLAIM)
                    .text(&target.entity_id)
                    .text(&government.code)
                    .last_text(&claim_hash)
                    .build();
                let mut claim = changes.claim(self, &claim_key)?.take();
                let polarity_before = claim.as_ref().map(|c| c.polarity);
                match &mut claim {
                    Some(existing) if adding => {
                        let place = existing
                            .sources
                            .binary_search_by(|s| source_order(s).cmp(&source_order(&source)));
                        if let Err(place) = place {
                            existing.sources.insert(place, source.clone());
                            if place == 0 {
                                // An earlier report: the claim now reads as it does.
                                let evidence = StatementRecord {
                                    published,
                                    statement: statement.clone(),
                                };
                                existing.follow_first_source(evidence, &pair.0, &pair.1);
                            }
                        }
                    }
                    Some(existing) => {
                        if let Some(place) = existing.sources.iter().position(|s| s == &source) {
                            existing.sources.remove(place);
                            if place == 0
                                && let Some(first) = existing.sources.first()
                                && let Some(evidence) =
                                    changes.statement(self, &first.article_id, first.ordinal)?
                            {
                                existing.follow_first_source(evidence, &pair.0, &pair.1);
                            }
                        }
                    }
                    None if adding => {
                        claim = Some(ClaimRecord {
                            government: government.clone(),
                            polarity: target.polarity,
                            sources: vec![source.clone()],
                            evidence: StatementRecord {
                                published,
                                statement: statement.clone(),
                            },
                        });
                    }
                    None => continue,
                }
                let claim = claim.filter(|c| !c.sources.is_empty());
                let polarity_after = claim.as_ref().map(|c| c.polarity);
                *changes.claim(self, &claim_key)? = claim;
                if polarity_before == polarity_after {
                    continue;
                }
                // The claim came, went, or now reads as an earlier source has it: its tally
                // follows (and its evidence rank, in the mirror).
                let tally = changes
                    .tally(self, &pair.0, &pair.1)?
                    .get_or_insert_with(|| TallyRecord {
                        government: government.clone(),
                        tally: StanceTally::default(),
                    });
                if let Some(polarity) = polarity_before {
                    tally.tally.remove(polarity);
                }
                if let Some(polarity) = polarity_after {
                    tally.tally.add(polarity);
                }
            }
        }
        Ok(())
    }
}

impl SledStore {
    /// Writes runs of articles, each run (articles with distinct ids) as one atomic batch, and
    /// puts each article's outcome at its index in `results`. Each batch is applied on a thread
    /// of its own while the next is staged (staging reads through the batch in flight); this
    /// returns once every batch is applied.
    fn write_runs(
        &self,
        runs: Vec<Run>,
        results: &mut [Result<PutOutcome, StoreError>],
    ) -> Result<(), StoreError> {
        self.load_bands_for_writing()?;
        if runs.len() <= 1 {
            // Nothing to overlap with: no thread.
            for run in runs {
                if let Some(writes) = self.stage_run(run, None, results)? {
                    self.apply_writes(&writes)?;
                }
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            // A rendezvous: the next batch is handed over only once the applier is done with
            // the one before, so that at most one batch is in flight while another is staged.
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Arc<Writes>>(0);
            let applier = scope.spawn(move || -> Result<(), StoreError> {
                for writes in receiver {
                    self.apply_writes(&writes)?;
                }
                Ok(())
            });
            let mut staged = Ok(());
            let mut in_flight: Option<Arc<Writes>> = None;
            for run in runs {
                // A run that changed nothing leaves the batch before it in flight.
                match self.stage_run(run, in_flight.clone(), results) {
                    Ok(None) => {}
                    Ok(Some(writes)) => {
                        let writes = Arc::new(writes);
                        if sender.send(Arc::clone(&writes)).is_err() {
                            break; // The applier stopped on an error, which `join` reports.
                        }
                        in_flight = Some(writes);
                    }
                    Err(error) => {
                        staged = Err(error);
                        break;
                    }
                }
            }
            drop(sender);
            let applied = applier
                .join()
                .unwrap_or_else(|_| Err(StoreError::Io("the batch applier panicked".into())));
            applied.and(staged)
        })
    }

    /// Writes a stream of batches as [`ArticleStore::put_articles`] writes each, with one
    /// applier for the whole stream: the first run of a batch is staged while the last run of
    /// the batch before is applied (with a call per batch, a call's first staging and last apply
    /// overlap nothing, a third of a bulk ingest's writer time at two runs a call). `done` gets
    /// each batch's outcomes, in batch order, once its writes are applied, on the applier's
    /// thread, and returns false to stop the stream. Holds the writer lock until `batches`
    /// ends. The `Err` is for failures that stop all writing; the batches handed to `done`
    /// before it stay stored.
    pub fn put_article_batches(
        &self,
        batches: impl Iterator<Item = Vec<AnnotatedArticle>>,
        mut done: impl FnMut(Vec<Result<PutOutcome, StoreError>>) -> bool + Send,
    ) -> Result<(), StoreError> {
        // Waits for the first batch: a stream with nothing to write (an unchanged re-ingest)
        // takes no lock and never loads the bands (a scan of every article record: 0.4 s and
        // 100 MB on the corpus).
        let mut batches = batches.peekable();
        if batches.peek().is_none() {
            return Ok(());
        }
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.load_bands_for_writing()?;
        let written = std::thread::scope(|scope| {
            // A rendezvous, as in `write_runs`: a job is handed over only once the one before
            // is applied, so that the writes in flight are those of the last job sent.
            let (sender, receiver) = std::sync::mpsc::sync_channel::<ApplyJob>(0);
            let applier = scope.spawn(move || -> Result<(), StoreError> {
                for job in receiver {
                    if let Some(writes) = &job.writes {
                        self.apply_writes(writes)?;
                    }
                    if let Some(outcomes) = job.outcomes
                        && !done(outcomes)
                    {
                        break; // The staging side's next send fails, and it stops.
                    }
                }
                Ok(())
            });
            let staged = self.stage_batches(batches, &sender);
            drop(sender);
            let applied = applier
                .join()
                .unwrap_or_else(|_| Err(StoreError::Io("the batch applier panicked".into())));
            applied.and(staged)
        });
        if !matches!(written, Ok(true)) {
            // A run staged but never applied (after a failed apply, or once `done` stopped the
            // stream) left the mirror ahead of sled.
            self.reload_mirror();
        }
        written.map(|_| ())
    }

    /// The staging side of [`SledStore::put_article_batches`]: stages each batch's runs and hands
    /// them to the applier, the last with the batch's outcomes. `Ok(false)` when the applier
    /// stopped before taking a staged run (its own result says why).
    fn stage_batches(
        &self,
        batches: impl Iterator<Item = Vec<AnnotatedArticle>>,
        applier: &std::sync::mpsc::SyncSender<ApplyJob>,
    ) -> Result<bool, StoreError> {
        let mut in_flight: Option<Arc<Writes>> = None;
        for articles in batches {
            let (runs, mut results) = split_runs(articles);
            let mut runs = runs.into_iter().peekable();
            let mut last_writes = None;
            while let Some(run) = runs.next() {
                let writes = self
                    .stage_run(run, in_flight.clone(), &mut results)?
                    .map(Arc::new);
                if runs.peek().is_none() {
                    // Sent below with the outcomes, which the last run completes.
                    last_writes = writes;
                    break;
                }
                // A run that changed nothing leaves the writes before it in flight.
                if let Some(writes) = writes {
                    let job = ApplyJob {
                        writes: Some(Arc::clone(&writes)),
                        outcomes: None,
                    };
                    if applier.send(job).is_err() {
                        return Ok(false);
                    }
                    in_flight = Some(writes);
                }
            }
            let job = ApplyJob {
                writes: last_writes.clone(),
                outcomes: Some(results),
            };
            if applier.send(job).is_err() {
                return Ok(false);
            }
            if let Some(writes) = last_writes {
                in_flight = Some(writes);
            }
        }
        Ok(true)
    }

    /// The stored content hash of an article, for a writer deciding whether to annotate it
    /// again: an id the mirror knows is not stored is answered from memory, without a sled read,
    /// which waits while a batch is applied (a bulk ingest applies one nearly all the time).
    pub fn stored_content_hash(&self, article_id: &str) -> Result<Option<String>, StoreError> {
        if let Some(Ok(mirror)) = self.mirror.get()
            && mirror
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .holds_article(article_id)
                == Some(false)
        {
            return Ok(None);
        }
        self.content_hash(article_id)
    }

    /// Applies one batch's writes atomically. The mirror follows a batch when it is staged; a
    /// batch that fails here leaves the mirror ahead of sled, so it is loaded again.
    fn apply_writes(&self, writes: &Writes) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(value) => batch.insert(key.as_slice(), value.as_slice()),
                None => batch.remove(key.as_slice()),
            }
        }
        let applied = self.tree.apply_batch(batch).map_err(io);
        if applied.is_err() {
            self.reload_mirror();
        }
        applied
    }

    /// Stages articles with distinct ids into one batch's writes, reading through the writes of
    /// the batch `in_flight` (being applied meanwhile), and puts each one's outcome at its index
    /// in `results`. The mirror follows the writes at once, so that the next run finds this
    /// one's originals. `None` when nothing changed.
    fn stage_run(
        &self,
        run: Run,
        in_flight: Option<Arc<Writes>>,
        results: &mut [Result<PutOutcome, StoreError>],
    ) -> Result<Option<Writes>, StoreError> {
        let mut changes = Changes {
            in_flight,
            ..Changes::default()
        };
        let mut inserted = 0u64;
        let mut written = false;
        for (index, annotated) in run {
            let outcome = self.stage_article(&mut changes, annotated)?;
            inserted += u64::from(outcome == PutOutcome::Inserted);
            written |= outcome != PutOutcome::Unchanged;
            if let Some(slot) = results.get_mut(index) {
                *slot = Ok(outcome);
            }
        }
        if inserted > 0 {
            let count_key = meta_key(META_ARTICLE_COUNT);
            let count = changes
                .stored::<u64>(self, "article count", &count_key)?
                .unwrap_or(0)
                + inserted;
            changes.put(count_key, encode("article count", &count)?);
        }
        if !written {
            return Ok(None);
        }
        changes.write_new_blocks(self)?;
        let (writes, mut staged) = changes.into_writes()?;
        // Always loaded here: the writer loaded it first thing (`load_bands_for_writing`).
        if let Some(Ok(mirror)) = self.mirror.get() {
            let mut mirror = mirror.write().unwrap_or_else(|p| p.into_inner());
            for (key, value) in writes.iter().filter(|(key, _)| Mirror::follows(key)) {
                match (value, staged.remove(key)) {
                    (Some(bytes), Some(record)) => mirror.apply_staged(key, bytes, record)?,
                    _ => mirror.apply(key, value.as_deref())?,
                }
            }
        }
        Ok(Some(writes))
    }

    /// Stages one validated article: nothing when its content is unchanged, else the removal of
    /// its old version (if any) and the addition of the new one.
    fn stage_article(
        &self,
        changes: &mut Changes,
        annotated: AnnotatedArticle,
    ) -> Result<PutOutcome, StoreError> {
        let AnnotatedArticle { article, entities } = annotated;
        // A new article needs no sled read (which would wait for the batch being applied).
        let may_be_stored = self.mirror()?.holds_article(&article.id).unwrap_or(true);
        let old: Option<ArticleRecord> = if may_be_stored {
            changes.stored(
                self,
                "article",
                &KeyBuilder::new(KIND_ARTICLE).last_text(&article.id).build(),
            )?
        } else {
            None
        };
        if let Some(old) = &old
            && old.content_hash == article.content_hash
        {
            return Ok(PutOutcome::Unchanged);
        }
        if let Some(old_record) = &old {
            let content = changes
                .stored(self, "article content", &content_key(&old_record.id))?
                .unwrap_or_default();
            self.stage(changes, old_record, &content, &[], false)?;
        }
        let government_codes = article.government_codes();
        let mut entity_ids: BTreeSet<String> = article
            .mentions
            .iter()
            .map(|m| m.entity_id.clone())
            .collect();
        for statement in &article.statements {
            entity_ids.extend(statement.speaker.entity_id.iter().cloned());
            entity_ids.extend(statement.targets.iter().map(|t| t.entity_id.clone()));
        }
        let date = article.published_date();
        let record = ArticleRecord {
            id: article.id.clone(),
            title: article.title,
            url: article.url,
            source: article.source,
            authors: article.authors,
            published: article.published,
            content_hash: article.content_hash,
            duplicate_of: article.duplicate_of,
            signature: near_duplicate_signature(&article.body),
            mention_count: article.mentions.len() as u32,
            statement_count: article.statements.len() as u32,
            government_codes,
            entity_ids: entity_ids.into_iter().collect(),
        };
        let mut record = record;
        if record.duplicate_of.is_none() {
            record.duplicate_of = self.find_original(changes, &record)?;
        }
        let content = ContentRecord {
            published: date,
            body: article.body,
            mentions: article.mentions,
            statements: article.statements,
        };
        self.stage(changes, &record, &content, &entities, true)?;
        Ok(if old.is_some() {
            PutOutcome::Replaced
        } else {
            PutOutcome::Inserted
        })
    }
}

impl SledStore {
    /// The original an article is a syndicated near-copy of: an earlier article (stored, or
    /// earlier in this batch) whose signature shares a band with its own and whose estimated
    /// similarity reaches [`MIN_DUPLICATE_SIMILARITY`].
    fn find_original(
        &self,
        changes: &Changes,
        record: &ArticleRecord,
    ) -> Result<Option<String>, StoreError> {
        let Some(signature) = &record.signature else {
            return Ok(None);
        };
        let similar =
            |other: &[u64]| signature_similarity(signature, other) >= MIN_DUPLICATE_SIMILARITY;
        for band in signature_bands(signature) {
            for (id, other) in changes.bands.get(&band).into_iter().flatten() {
                if id != &record.id && similar(other) {
                    return Ok(Some(id.clone()));
                }
            }
            // The mirror holds the originals as this batch finds them (it follows each run when
            // it is staged), with their signatures.
            let mirror = self.mirror()?;
            for id in mirror
                .originals_in_band(band)
                .take(MAX_DUPLICATE_CANDIDATES)
            {
                // Removed or replaced earlier in this batch: a new version is in `changes.bands`.
                if id == record.id
                    || changes
                        .writes
                        .contains_key(&KeyBuilder::new(KIND_ARTICLE).last_text(id).build())
                {
                    continue;
                }
                if mirror.original_signature(id).is_some_and(similar) {
                    return Ok(Some(id.to_owned()));
                }
            }
        }
        Ok(None)
    }
}

/// Estimated Jaccard similarity of body shingles from which an article counts as a copy.
const MIN_DUPLICATE_SIMILARITY: f32 = 0.8;
/// Signature bands: 8 bands of 4 bins make articles of similarity 0.9 share a band with
/// probability 0.9998, of 0.8 with 0.98, of 0.5 with 0.40 (then ruled out by comparing whole
/// signatures), of 0.2 with 0.013.
const DUPLICATE_BANDS: usize = 8;
/// Articles examined per band: bounds the cost of a band that many texts share.
const MAX_DUPLICATE_CANDIDATES: usize = 16;

/// A signature's bands: (band number, hash of the band's bins).
pub(super) type Band = (u16, u64);

fn signature_bands(signature: &[u64]) -> Vec<Band> {
    let rows = (signature.len() / DUPLICATE_BANDS).max(1);
    signature
        .chunks(rows)
        .zip(0u16..)
        .map(|(band, number)| {
            let mut hash: u64 = 0xcbf29ce484222325;
            for value in band {
                hash = (hash ^ value).wrapping_mul(0x100000001b3);
            }
            (number, hash)
        })
        .collect()
}

/// Strongest first: a larger |polarity| gives a smaller key.
fn inverted_strength(polarity: f32) -> u16 {
    let strength = (polarity.abs().clamp(0.0, 1.0) * 10_000.0) as u16;
    u16::MAX - strength
}

fn merge_definition(existing: &mut Entity, definition: &Entity) {
    for alias in definition.aliases.iter().chain([&definition.name]) {
        if alias != &existing.name && !existing.aliases.contains(alias) {
            existing.aliases.push(alias.clone());
        }
    }
    for affiliation in &definition.affiliations {
        if !existing.affiliations.contains(affiliation) {
            existing.affiliations.push(affiliation.clone());
        }
    }
    if existing.government_code.is_none() {
        existing
            .government_code
            .clone_from(&definition.government_code);
    }
}

/// Validates articles and splits them into runs of distinct ids (each one atomic batch), with
/// a placeholder outcome for each article and the refusal of each invalid one.
fn split_runs(articles: Vec<AnnotatedArticle>) -> (Vec<Run>, Vec<Result<PutOutcome, StoreError>>) {
    let mut results: Vec<Result<PutOutcome, StoreError>> = Vec::with_capacity(articles.len());
    let mut runs: Vec<Run> = Vec::new();
    let mut run: Run = Vec::new();
    let mut run_ids: HashSet<String> = HashSet::new();
    for (index, annotated) in articles.into_iter().enumerate() {
        if let Err(source) = annotated.validate() {
            results.push(Err(StoreError::InvalidArticle {
                article_id: annotated.article.id.clone(),
                source,
            }));
            continue;
        }
        // A second version of an article in the same batch is written after the first, so
        // that it replaces what the first stored.
        if run.len() == ARTICLES_PER_BATCH || !run_ids.insert(annotated.article.id.clone()) {
            runs.push(std::mem::take(&mut run));
            run_ids.clear();
            run_ids.insert(annotated.article.id.clone());
        }
        // A placeholder until the run is written.
        results.push(Ok(PutOutcome::Unchanged));
        run.push((index, annotated));
    }
    if !run.is_empty() {
        runs.push(run);
    }
    (runs, results)
}

/// Articles with distinct ids, with their index in the caller's list.
type Run = Vec<(usize, AnnotatedArticle)>;

/// What [`SledStore::put_article_batches`] hands its applier: a run's writes (`None` when
/// staging it changed nothing) and, with a batch's last run, the batch's outcomes, to report once
/// the writes are applied.
struct ApplyJob {
    writes: Option<Arc<Writes>>,
    outcomes: Option<Vec<Result<PutOutcome, StoreError>>>,
}

/// Entries of a range read, in key order.
type Entries = Box<dyn Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>>>;

/// One batch's writes in key order: a key and its new value, `None` for a removal.
type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Pending writes for a batch of articles, with the aggregate records they read and change
/// cached, so that each aggregate is read and written once per batch and removing an old
/// version and adding the new one compose.
#[derive(Default)]
struct Changes {
    writes: Writes,
    /// The writes of the batch being applied while this one is staged: the store as this
    /// batch finds it is those over what sled holds.
    in_flight: Option<Arc<Writes>>,
    entities: BTreeMap<String, Option<EntityRecord>>,
    /// Entities as they were before this article, to update their alias index entries.
    entities_before: BTreeMap<String, Option<EntityRecord>>,
    claims: BTreeMap<Vec<u8>, Option<ClaimRecord>>,
    tallies: BTreeMap<(String, String), Option<TallyRecord>>,
    /// Articles indexed for near-duplicate detection earlier in this batch: band prefix →
    /// (article id, signature).
    bands: HashMap<Band, Vec<(String, Vec<u64>)>>,
    /// The index positions this batch adds, by group: each group's become one new block.
    new_postings: BTreeMap<Vec<u8>, Vec<Posting>>,
    /// The records of mirrored kinds among `writes`, as staged before encoding, so that the
    /// mirror follows them without decoding (an entry goes when its key is written again).
    staged: StagedRecords,
}

/// Keys written by a batch → their records as staged (see [`Mirror::apply_staged`]).
type StagedRecords = foldhash::HashMap<Vec<u8>, StagedRecord>;

impl Changes {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.forget_staged(&key);
        self.writes.insert(key, Some(value));
    }

    /// A put of `record`, encoded as `value`.
    fn put_staged(&mut self, key: Vec<u8>, value: Vec<u8>, record: StagedRecord) {
        self.staged.insert(key.clone(), record);
        self.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.forget_staged(&key);
        self.writes.insert(key, None);
    }

    fn forget_staged(&mut self, key: &[u8]) {
        if !self.staged.is_empty() {
            self.staged.remove(key);
        }
    }

    fn add_posting(&mut self, group: Vec<u8>, article_id: &str, role: u8) {
        self.new_postings.entry(group).or_default().push(Posting {
            article_id: article_id.to_owned(),
            role,
        });
    }

    /// Removes an article's position from a group: rewrites the block holding it (deletes it
    /// once empty). The group's blocks are read as this batch finds them: stored, then as the
    /// batch in flight and this batch's writes left them.
    fn remove_posting(
        &mut self,
        store: &SledStore,
        group: &[u8],
        article_id: &str,
    ) -> Result<(), StoreError> {
        let prefix = postings::blocks_prefix(group)?;
        let mut blocks: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for entry in store.tree.scan_prefix(&prefix) {
            let (key, value) = entry.map_err(io)?;
            blocks.insert(key.to_vec(), Some(value.to_vec()));
        }
        let end = prefix_end(&prefix);
        for layer in [self.in_flight.as_deref(), Some(&self.writes)]
            .into_iter()
            .flatten()
        {
            for (key, value) in layer.range(prefix.clone()..end.clone()) {
                blocks.insert(key.clone(), value.clone());
            }
        }
        for (key, value) in blocks {
            let Some(bytes) = value else { continue };
            let mut block = postings::decode_block(&bytes)?;
            let before = block.len();
            block.retain(|posting| posting.article_id != article_id);
            if block.len() < before {
                if block.is_empty() {
                    self.delete(key);
                } else {
                    self.put(key, postings::encode_block(&block)?);
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// Writes the positions this batch adds as one block per group, under the next block
    /// number.
    fn write_new_blocks(&mut self, store: &SledStore) -> Result<(), StoreError> {
        if self.new_postings.is_empty() {
            return Ok(());
        }
        let number_key = meta_key(META_LAST_BLOCK_NUMBER);
        let number = self
            .stored::<u64>(store, "last block number", &number_key)?
            .unwrap_or(0)
            + 1;
        for (key, value) in postings::new_blocks(std::mem::take(&mut self.new_postings), number)? {
            self.put(key, value);
        }
        Ok(())
    }

    /// A record as stored before this batch: written or deleted by the batch in flight, or
    /// else as sled holds it.
    fn stored<T: for<'de> Deserialize<'de>>(
        &self,
        store: &SledStore,
        record: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.in_flight.as_ref().and_then(|writes| writes.get(key)) {
            Some(Some(bytes)) => decode(record, bytes).map(Some),
            Some(None) => Ok(None),
            None => store.read(record, key),
        }
    }

    /// A record of a mirrored kind as stored before this batch, from the mirror, which follows
    /// each batch when it is staged (so it holds the batch in flight too): no sled read, which
    /// would wait for the batch being applied.
    fn mirrored<T: for<'de> Deserialize<'de>>(
        store: &SledStore,
        record: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        store
            .mirror()?
            .get(key)
            .map(|bytes| decode(record, bytes))
            .transpose()
    }

    fn entity(
        &mut self,
        store: &SledStore,
        id: &str,
    ) -> Result<&mut Option<EntityRecord>, StoreError> {
        if !self.entities.contains_key(id) {
            let record: Option<EntityRecord> = Self::mirrored(
                store,
                "entity",
                &KeyBuilder::new(KIND_ENTITY).last_text(id).build(),
            )?;
            self.entities_before.insert(id.to_owned(), record.clone());
            self.entities.insert(id.to_owned(), record);
        }
        Ok(self.entities.entry(id.to_owned()).or_default())
    }

    /// A statement as this batch leaves it: written or deleted earlier in the batch, or else as
    /// stored.
    fn statement(
        &self,
        store: &SledStore,
        article_id: &str,
        ordinal: u32,
    ) -> Result<Option<StatementRecord>, StoreError> {
        let key = content_key(article_id);
        let content: Option<ContentRecord> = match self.writes.get(&key) {
            Some(Some(bytes)) => Some(decode("article content", bytes)?),
            Some(None) => None,
            None => self.stored(store, "article content", &key)?,
        };
        Ok(content.and_then(|content| content.into_statement_record(ordinal)))
    }

    fn claim(
        &mut self,
        store: &SledStore,
        key: &[u8],
    ) -> Result<&mut Option<ClaimRecord>, StoreError> {
        if !self.claims.contains_key(key) {
            let record = store.mirror()?.claim(key)?.map(MirroredClaim::to_record);
            self.claims.insert(key.to_vec(), record);
        }
        Ok(self.claims.entry(key.to_vec()).or_default())
    }

    fn tally(
        &mut self,
        store: &SledStore,
        target: &str,
        government: &str,
    ) -> Result<&mut Option<TallyRecord>, StoreError> {
        let pair = (target.to_owned(), government.to_owned());
        if !self.tallies.contains_key(&pair) {
            let record = store.mirror()?.tally(target, government).cloned();
            self.tallies.insert(pair.clone(), record);
        }
        Ok(self.tallies.entry(pair).or_default())
    }

    /// Turns cached aggregates into writes: the batch's every write, with the records of those
    /// the mirror follows as staged.
    fn into_writes(mut self) -> Result<(Writes, StagedRecords), StoreError> {
        for (id, record) in std::mem::take(&mut self.entities) {
            let key = KeyBuilder::new(KIND_ENTITY).last_text(&id).build();
            let after = record.filter(|r| r.article_count > 0);
            // Only the search entries that changed are written: a popular entity's dozens of
            // alias keys stay untouched by each new article that mentions it.
            let old_keys: BTreeMap<Vec<u8>, String> = self
                .entities_before
                .get(&id)
                .and_then(Option::as_ref)
                .map(search_keys_with_alias)
                .unwrap_or_default()
                .into_iter()
                .collect();
            let new_keys: BTreeMap<Vec<u8>, String> = after
                .as_ref()
                .map(search_keys_with_alias)
                .unwrap_or_default()
                .into_iter()
                .collect();
            for old in old_keys.keys().filter(|k| !new_keys.contains_key(*k)) {
                self.delete(old.clone());
            }
            for (new, alias) in new_keys {
                if old_keys.get(&new) != Some(&alias) {
                    self.put(new, alias.into_bytes());
                }
            }
            match after {
                Some(record) => {
                    let value = encode("entity", &record)?;
                    self.put_staged(key, value, StagedRecord::Entity(record));
                }
                None => self.delete(key),
            }
        }
        for (key, record) in std::mem::take(&mut self.claims) {
            match record {
                Some(record) => {
                    let value = encode("claim", &record)?;
                    self.put_staged(key, value, StagedRecord::Claim(record));
                }
                None => self.delete(key),
            }
        }
        for ((target, government), record) in std::mem::take(&mut self.tallies) {
            let key = tally_key(&target, &government);
            match record.filter(|r| r.tally.statement_count > 0) {
                Some(record) => {
                    let value = encode("tally", &record)?;
                    self.put_staged(key, value, StagedRecord::Tally(record));
                }
                None => self.delete(key),
            }
        }
        Ok((self.writes, self.staged))
    }
}

/// The alias index entries of an entity: its name, its aliases and the surface forms seen in
/// articles. (The phonetic entries are derived from them in memory: [`phonetic_keys`].)
fn search_keys_with_alias(record: &EntityRecord) -> Vec<(Vec<u8>, String)> {
    let entity = &record.entity;
    let names: BTreeSet<&str> = std::iter::once(entity.name.as_str())
        .chain(entity.aliases.iter().map(String::as_str))
        .chain(record.observed_aliases.keys().map(String::as_str))
        .collect();
    let mut keys = Vec::new();
    for name in names {
        let folded = normalize_name(name);
        if folded.is_empty() {
            continue;
        }
        keys.push((
            KeyBuilder::new(KIND_ALIAS)
                .text(&folded)
                .last_text(&entity.id)
                .build(),
            name.to_owned(),
        ));
    }
    keys
}

/// The phonetic index keys of one folded alias of an entity: the skeleton of the whole alias
/// and of each word of four letters or more.
fn phonetic_keys(folded: &str, entity_id: &str) -> Vec<Vec<u8>> {
    let mut skeletons: BTreeSet<String> = BTreeSet::new();
    skeletons.insert(phonetic_key(folded));
    for token in folded.split(' ').filter(|t| t.len() >= 4) {
        skeletons.insert(phonetic_key(token));
    }
    skeletons
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|skeleton| {
            KeyBuilder::new(KIND_PHONETIC)
                .text(&skeleton)
                .text(entity_id)
                .last_text(folded)
                .build()
        })
        .collect()
}

fn content_key(article_id: &str) -> Vec<u8> {
    KeyBuilder::new(KIND_ARTICLE_CONTENT)
        .last_text(article_id)
        .build()
}

/// The value of an article-by-entity entry: how the article refers to the entity, so that
/// statements by or about an entity are found from its articles without an index of their own.
const ROLE_MENTIONED: u8 = 1;
const ROLE_SPEAKER: u8 = 2;
const ROLE_TARGET: u8 = 4;

/// The order a claim keeps its sources in: the earliest report first (undated ones last), then
/// by article id and position. The first source gives the claim its evidence and polarity, so
/// that they do not depend on the order in which articles were written.
fn source_order(source: &ClaimSource) -> (bool, Option<Date>, &str, u32) {
    (
        source.published.is_none(),
        source.published,
        &source.article_id,
        source.ordinal,
    )
}

fn tally_key(target: &str, government: &str) -> Vec<u8> {
    KeyBuilder::new(KIND_TALLY)
        .text(target)
        .last_text(government)
        .build()
}

fn meta_key(name: &str) -> Vec<u8> {
    KeyBuilder::new(KIND_STORE_META).last_text(name).build()
}

fn io(error: sled::Error) -> StoreError {
    StoreError::Io(error.to_string())
}

fn open_error(path: &Path, error: sled::Error) -> StoreError {
    let text = error.to_string();
    let locked = match &error {
        sled::Error::Io(io_error) => {
            io_error.kind() == std::io::ErrorKind::WouldBlock || text.contains("lock")
        }
        _ => false,
    };
    if locked {
        StoreError::Locked {
            path: path.display().to_string(),
        }
    } else {
        StoreError::Io(format!(
            "cannot open the store at {}: {text}",
            path.display()
        ))
    }
}

/// Splits an index key tail `inverted date (4 bytes), article id` into the article id.
fn article_id_after_date(key: &[u8], prefix_len: usize) -> Option<String> {
    let tail = key.get(prefix_len + 4..)?;
    String::from_utf8(tail.to_vec()).ok()
}

fn corrupt_key(kind: &'static str) -> StoreError {
    StoreError::Corrupt {
        record: kind,
        detail: "malformed index key".into(),
    }
}

impl SledStore {
    /// Loads the mirror on a thread of its own, holding the writer lock (taken before this
    /// returns) so that no batch is applied before or during the scan.
    fn start_mirror_loader(&self) -> Result<JoinHandle<()>, StoreError> {
        let tree = self.tree.clone();
        let writer = Arc::clone(&self.writer);
        let cell = Arc::clone(&self.mirror);
        let (locked, until_locked) = std::sync::mpsc::sync_channel(0);
        let loader = std::thread::Builder::new()
            .name("store-mirror-loader".into())
            .spawn(move || {
                let _guard = writer.lock().unwrap_or_else(|p| p.into_inner());
                let _ = locked.send(());
                cell.get_or_init(|| load_mirror(&tree));
            })
            .map_err(|error| {
                StoreError::Io(format!("cannot start the index mirror loader: {error}"))
            })?;
        // Writers, which read the mirror's bands, start only after the load.
        let _ = until_locked.recv();
        Ok(loader)
    }

    /// The mirror for reading, once loaded; a poisoned lock only means a writer panicked
    /// between two complete updates. Not loaded yet and no writer at work: loaded here,
    /// holding the writer lock so that no batch is applied during the scan. Whoever holds the
    /// writer lock (the loader started at open, a writer) loads it first thing
    /// ([`SledStore::loaded_mirror_for_writing`]), so waiting for them ends.
    fn mirror(&self) -> Result<RwLockReadGuard<'_, Mirror>, StoreError> {
        let loaded = match self.mirror.get() {
            Some(loaded) => loaded,
            None => match self.writer.try_lock() {
                Err(TryLockError::WouldBlock) => self.mirror.wait(),
                // Held (a poisoned lock too) until the load is done.
                _guard => self.mirror.get_or_init(|| load_mirror(&self.tree)),
            },
        };
        Ok(mirror_or_error(loaded)?
            .read()
            .unwrap_or_else(|p| p.into_inner()))
    }
}

impl SledStore {
    /// Loads the mirror again from sled, bands included, after a batch the mirror had followed
    /// could not be applied.
    fn reload_mirror(&self) {
        let Some(Ok(mirror)) = self.mirror.get() else {
            return;
        };
        let mut mirror = mirror.write().unwrap_or_else(|p| p.into_inner());
        let reloaded = Mirror::load(&self.tree).and_then(|mut fresh| {
            fresh.load_bands(&self.tree)?;
            Ok(fresh)
        });
        match reloaded {
            Ok(fresh) => *mirror = fresh,
            Err(error) => {
                tracing::error!(%error, "cannot reload the index mirror after a failed write: it may list entries the store lacks until the store is reopened");
            }
        }
    }

    /// The mirror, loaded here if nothing loaded it yet, by a writer holding the writer lock
    /// (and so first thing after taking it: a reader finding the lock taken waits for the
    /// load, see [`SledStore::mirror`]).
    fn loaded_mirror_for_writing(&self) -> Result<&RwLock<Mirror>, StoreError> {
        mirror_or_error(self.mirror.get_or_init(|| load_mirror(&self.tree)))
    }

    /// Loads the mirror, and its near-duplicate bands, before the first write (the writer
    /// lock is held by the caller, who calls this first thing).
    fn load_bands_for_writing(&self) -> Result<(), StoreError> {
        let mut mirror = self
            .loaded_mirror_for_writing()?
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if !mirror.bands_loaded() {
            let started = std::time::Instant::now();
            mirror.load_bands(&self.tree)?;
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "near-duplicate bands loaded"
            );
        }
        Ok(())
    }
}

/// A loaded mirror, or why it could not be loaded as the error reads report.
fn mirror_or_error(loaded: &Result<RwLock<Mirror>, String>) -> Result<&RwLock<Mirror>, StoreError> {
    loaded.as_ref().map_err(|reason| StoreError::Corrupt {
        record: "index mirror",
        detail: reason.clone(),
    })
}

/// The mirror of `tree`'s indexes, or why it could not be loaded (logged here).
fn load_mirror(tree: &sled::Tree) -> Result<RwLock<Mirror>, String> {
    let started = std::time::Instant::now();
    match Mirror::load(tree) {
        Ok(mirror) => {
            tracing::info!(
                entries = mirror.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index mirror loaded"
            );
            Ok(RwLock::new(mirror))
        }
        Err(error) => {
            tracing::error!(%error, "cannot load the index mirror: searches and stance comparisons fail until the store is reopened");
            Err(error.to_string())
        }
    }
}

impl Drop for SledStore {
    /// Waits for the mirror loader, which holds a handle on the database: a store reopened
    /// right after this one is dropped must not find it still open.
    fn drop(&mut self) {
        let loader = self
            .mirror_loader
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(loader) = loader {
            let _ = loader.join();
        }
    }
}

impl ArticleStore for SledStore {
    fn put_articles(
        &self,
        articles: Vec<AnnotatedArticle>,
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        // A poisoned lock only means another writer panicked; the store itself is consistent
        // because batches are atomic.
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (runs, mut results) = split_runs(articles);
        self.write_runs(runs, &mut results)?;
        Ok(results)
    }

    fn content_hash(&self, article_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.article_record(article_id)?.map(|r| r.content_hash))
    }

    fn get_article(
        &self,
        article_id: &str,
        parts: ArticleParts,
    ) -> Result<Option<StoredArticle>, StoreError> {
        self.article_record(article_id)?
            .map(|record| self.assemble(record, parts))
            .transpose()
    }

    fn list_articles(
        &self,
        filter: &ArticleFilter,
        parts: ArticleParts,
        page: &PageRequest,
    ) -> Result<Page<StoredArticle>, StoreError> {
        // Drive the scan with the most selective index; check the other filters per article.
        let prefix = if let Some(entity) = &filter.entity_id {
            KeyBuilder::new(KIND_ARTICLE_BY_ENTITY).text(entity).build()
        } else if let Some(code) = &filter.government_code {
            KeyBuilder::new(KIND_ARTICLE_BY_GOVERNMENT)
                .text(code)
                .build()
        } else if let Some(source) = &filter.source {
            KeyBuilder::new(KIND_ARTICLE_BY_SOURCE).text(source).build()
        } else {
            KeyBuilder::new(KIND_ARTICLE_BY_DATE).build()
        };
        let start = match filter.published_before {
            Some(before) => [prefix.as_slice(), &inverted_date(Some(before))].concat(),
            None => prefix.clone(),
        };
        let end = match filter.published_after {
            Some(after) => prefix_end(&[prefix.as_slice(), &inverted_date(Some(after))].concat()),
            None => prefix_end(&prefix),
        };
        let prefix_len = prefix.len();
        self.page_over(&prefix, start, end, page, |key, _| {
            let id = article_id_after_date(key, prefix_len)
                .ok_or_else(|| corrupt_key("article index"))?;
            let Some(record) = self.article_record(&id)? else {
                return Ok(None);
            };
            let date = record.published.as_ref().map(|p| p.date);
            if !filter.admits_date(date)
                || filter
                    .source
                    .as_ref()
                    .is_some_and(|s| record.source.as_ref() != Some(s))
                || filter
                    .government_code
                    .as_ref()
                    .is_some_and(|code| !record.government_codes.contains(code))
                || filter
                    .entity_id
                    .as_ref()
                    .is_some_and(|entity| !record.entity_ids.contains(entity))
            {
                return Ok(None);
            }
            self.assemble(record, parts).map(Some)
        })
    }

    fn get_entity(&self, entity_id: &str) -> Result<Option<EntitySummary>, StoreError> {
        entity_summary(&*self.mirror()?, entity_id)
    }

    fn resolve_entity(&self, id_or_name: &str) -> Result<Option<EntitySummary>, StoreError> {
        Ok(resolved(&*self.mirror()?, id_or_name).cloned())
    }

    fn lend_resolved_entity(
        &self,
        id_or_name: &str,
        read: &mut dyn FnMut(Option<&EntitySummary>),
    ) -> Result<(), StoreError> {
        read(resolved(&*self.mirror()?, id_or_name));
        Ok(())
    }

    fn search_entities(
        &self,
        search: &EntitySearch,
        page: &PageRequest,
    ) -> Result<Page<EntityMatch>, StoreError> {
        let folded = normalize_name(&search.query);
        // Candidates borrow their id and alias from the mirror: only the page is copied out.
        let mirror = self.mirror()?;
        let mut best = Candidates::default();
        // Distinct entities the page needs ranked, one more to know whether another page follows.
        let needed = ranked_offset(page)?
            .saturating_add(page.size)
            .saturating_add(1);
        // The ranking fields of a candidate of a wanted kind.
        let wanted_head = |id: &str| {
            mirror
                .head(id)
                .filter(|head| search.kinds.is_empty() || search.kinds.contains(&head.kind))
        };
        let mut page_filled = false;
        if !folded.is_empty() {
            if folded.chars().count() >= 2 {
                // Shortest aliases first, which is rank order (exact, then prefix by length);
                // stop after the length at which the page is full.
                let mut full_at: Option<u16> = None;
                let mut counted = 0usize;
                for (length, key, value) in mirror.aliases_by_length(&folded) {
                    if full_at.is_some_and(|full| length > full) {
                        break;
                    }
                    let before = best.len();
                    if let Some(id) = prefix_candidate(&mut best, &folded, key, value)
                        && best.len() > before
                        && wanted_head(id).is_some()
                    {
                        counted += 1;
                        if counted >= needed && full_at.is_none() {
                            full_at = Some(length);
                        }
                    }
                }
                page_filled = full_at.is_some();
            } else {
                let alias_prefix = KeyBuilder::new(KIND_ALIAS).last_text(&folded).build();
                for (key, value) in mirror
                    .scan_prefix(&alias_prefix)
                    .take(MAX_PREFIX_CANDIDATES)
                {
                    prefix_candidate(&mut best, &folded, key, value);
                }
            }
        }
        // Every prefix match ranks above every fuzzy one: a full page needs no fuzzy search.
        if !folded.is_empty() && !page_filled {
            let query_chars = folded.chars().count();
            let skeleton = phonetic_key(&folded);
            let mut skeletons = vec![skeleton.clone()];
            if skeleton.chars().count() >= 4 {
                // One dropped consonant in the query still finds the name.
                for (index, _) in skeleton.char_indices() {
                    let mut variant = skeleton.clone();
                    variant.remove(index);
                    skeletons.push(variant);
                }
            }
            skeletons.dedup();
            let mut examined = 0;
            for skeleton in skeletons.iter().filter(|s| !s.is_empty()) {
                let prefix = KeyBuilder::new(KIND_PHONETIC).text(skeleton).build();
                for (key, value) in mirror.scan_prefix(&prefix) {
                    examined += 1;
                    if examined > MAX_FUZZY_CANDIDATES {
                        break;
                    }
                    let parts = split_parts(key, prefix.len());
                    let (Some(Ok(id)), Some(Ok(alias)), Ok(written)) = (
                        parts.first().map(|id| std::str::from_utf8(id)),
                        parts.get(1).map(|alias| std::str::from_utf8(alias)),
                        std::str::from_utf8(value),
                    ) else {
                        continue;
                    };
                    if best.get(id).is_some_and(|found| found.0 < MatchType::Fuzzy) {
                        continue; // An exact or prefix match always ranks above a fuzzy one.
                    }
                    // Compare with the whole alias and with its best-matching word.
                    let similarity = std::iter::once(alias)
                        .chain(alias.split(' '))
                        .filter(|candidate| could_be_similar(query_chars, candidate))
                        .map(|candidate| name_similarity(&folded, candidate))
                        .fold(0.0f32, f32::max);
                    if similarity >= MIN_FUZZY_SIMILARITY {
                        consider(
                            &mut best,
                            id,
                            MatchType::Fuzzy,
                            similarity.min(0.98),
                            written,
                        );
                    }
                }
            }
        }
        // Rank by the mirrored leading fields of each candidate's record; read whole records
        // only for the page returned.
        let mut ranked = Vec::with_capacity(best.len());
        for (id, (match_type, score, alias)) in best {
            let Some(head) = wanted_head(id) else {
                continue;
            };
            ranked.push((match_type, score, head.mention_count, id, alias));
        }
        ranked.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.total_cmp(&a.1))
                .then(b.2.cmp(&a.2))
                .then(a.3.cmp(b.3))
        });
        let Page { items, next } = paginate_ranked(ranked, page)?;
        let mut matches = Vec::with_capacity(items.len());
        for (match_type, score, _, id, alias) in items {
            if let Some(summary) = entity_summary(&mirror, id)? {
                matches.push(EntityMatch {
                    summary,
                    match_type,
                    matched_alias: alias.to_owned(),
                    score,
                });
            }
        }
        Ok(Page {
            items: matches,
            next,
        })
    }

    fn list_mentions(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<StoredMention>, StoreError> {
        // Mentions are read from the content of the articles that name the entity, newest first.
        let prefix = KeyBuilder::new(KIND_ARTICLE_BY_ENTITY)
            .text(entity_id)
            .build();
        self.page_over_articles(&prefix, page, |key, role| {
            if role.first().is_some_and(|role| role & ROLE_MENTIONED == 0) {
                return Ok(Vec::new());
            }
            let article_id = article_id_after_date(key, prefix.len())
                .ok_or_else(|| corrupt_key("article by entity"))?;
            let Some(content) = self.content(&article_id)? else {
                return Ok(Vec::new());
            };
            let mut title: Option<String> = None;
            let mut mentions = Vec::new();
            for mention in content.mentions.iter().filter(|m| m.entity_id == entity_id) {
                let text = match mention.span.field {
                    TextField::Body => content.body.as_str(),
                    TextField::Title => {
                        if title.is_none() {
                            title = Some(
                                self.article_record(&article_id)?
                                    .map(|record| record.title)
                                    .unwrap_or_default(),
                            );
                        }
                        title.as_deref().unwrap_or_default()
                    }
                };
                mentions.push(StoredMention {
                    article_id: article_id.clone(),
                    mention: mention.clone(),
                    sentence: sentence_around(
                        text,
                        mention.span.start as usize,
                        mention.span.end as usize,
                    )
                    .to_owned(),
                });
            }
            Ok(mentions)
        })
    }

    fn list_statements(
        &self,
        filter: &StatementFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredStatement>, StoreError> {
        let admitted = |article_id: &str, content: ContentRecord| -> Vec<StoredStatement> {
            let published = content.published;
            content
                .statements
                .into_iter()
                .filter(|statement| filter.admits(statement))
                .map(|statement| StoredStatement {
                    article_id: article_id.to_owned(),
                    published,
                    statement,
                })
                .collect()
        };
        if let Some(article_id) = &filter.article_id {
            let statements = self
                .content(article_id)?
                .map(|content| admitted(article_id, content))
                .unwrap_or_default();
            return paginate_ranked(statements, page);
        }
        if filter == &StatementFilter::default() {
            // Every statement, by article id.
            let prefix = [KIND_ARTICLE_CONTENT];
            return self.page_over_articles(&prefix, page, |key, value| {
                let article_id = key
                    .get(1..)
                    .map(|id| String::from_utf8_lossy(id).into_owned())
                    .ok_or_else(|| corrupt_key("article content"))?;
                Ok(admitted(&article_id, decode("article content", value)?))
            });
        }
        // Statements are found from the articles of the speaker, the target or the government,
        // newest first; the entity index says which articles hold the speaker or the target.
        let (prefix, role) = if let Some(speaker) = &filter.speaker_entity_id {
            (
                KeyBuilder::new(KIND_ARTICLE_BY_ENTITY)
                    .text(speaker)
                    .build(),
                Some(ROLE_SPEAKER),
            )
        } else if let Some(target) = &filter.target_entity_id {
            (
                KeyBuilder::new(KIND_ARTICLE_BY_ENTITY).text(target).build(),
                Some(ROLE_TARGET),
            )
        } else {
            let code = filter.government_code.as_deref().unwrap_or_default();
            (
                KeyBuilder::new(KIND_ARTICLE_BY_GOVERNMENT)
                    .text(code)
                    .build(),
                None,
            )
        };
        self.page_over_articles(&prefix, page, |key, value| {
            if let Some(role) = role
                && value.first().is_some_and(|found| found & role == 0)
            {
                return Ok(Vec::new());
            }
            let article_id = article_id_after_date(key, prefix.len())
                .ok_or_else(|| corrupt_key("article index"))?;
            Ok(self
                .content(&article_id)?
                .map(|content| admitted(&article_id, content))
                .unwrap_or_default())
        })
    }

    fn lend_stances(
        &self,
        query: &StanceQuery,
        page: &PageRequest,
        read: &mut dyn FnMut(Page<LentStanceRow<'_>>),
    ) -> Result<(), StoreError> {
        let target = query.target_entity_id.as_str();
        let wanted = |code: &str| {
            query.government_codes.is_empty() || query.government_codes.iter().any(|c| c == code)
        };
        let resume_after = page
            .resume_after
            .as_deref()
            .map(RowPosition::decode)
            .transpose()?;
        let on_page = |government: &Government, tally: &StanceTally| {
            resume_after
                .as_ref()
                .is_none_or(|after| after.precedes(tally.statement_count, &government.code))
        };
        let mirror = self.mirror()?;
        let Some(pairs) = mirror.stances_about(target) else {
            read(Page {
                items: Vec::new(),
                next: None,
            });
            return Ok(());
        };
        if !query.is_narrowed() {
            // The per-(target, government) tallies order the rows; evidence, the costly part,
            // is read only for the rows of this page, from the head of the strength ranking.
            let mut tallies: Vec<(&TallyRecord, &PairStances)> = pairs
                .values()
                .filter_map(|pair| pair.tally.as_ref().map(|tally| (tally, pair)))
                .filter(|(record, _)| {
                    wanted(&record.government.code) && on_page(&record.government, &record.tally)
                })
                .collect();
            // Only the page's rows and the one after it (which says whether another page
            // follows) need ordering. The order is total (one tally per government code), so an
            // unstable sort gives what a stable one does.
            let order = |a: &(&TallyRecord, _), b: &(&TallyRecord, _)| {
                row_order(&a.0.government, &a.0.tally, &b.0.government, &b.0.tally)
            };
            if let Some(after_page) = page.size.checked_add(1)
                && tallies.len() > after_page
            {
                tallies.select_nth_unstable_by(after_page, order);
                tallies.truncate(after_page);
            }
            tallies.sort_unstable_by(order);
            let next = page_end(&tallies, page.size, |(record, _)| {
                RowPosition::of(&record.government, &record.tally)
            });
            tallies.truncate(page.size);
            // Each row's strongest statements, in rank order.
            let rows = tallies
                .into_iter()
                .map(|(record, pair)| LentStanceRow {
                    government: &record.government,
                    tally: record.tally,
                    evidence: pair
                        .ranked
                        .values()
                        .take(query.max_evidence)
                        .filter_map(|claim| evidence_of(claim))
                        .collect(),
                })
                .collect();
            read(Page { items: rows, next });
            return Ok(());
        }
        // Narrowed by date or topic: read the target's distinct statements and tally the
        // ones that qualify. The cost follows the statements about the target.
        type Admitted<'m> = (&'m MirroredClaim, Vec<&'m ClaimSource>);
        let mut by_government: BTreeMap<&str, (&Government, StanceTally, Vec<Admitted<'_>>)> =
            BTreeMap::new();
        for claim in pairs.values().flat_map(PairStances::claims_in_key_order) {
            if !wanted(&claim.government.code) || !query.admits_text(&claim.evidence.statement.text)
            {
                continue;
            }
            let sources: Vec<&ClaimSource> = claim
                .sources
                .iter()
                .filter(|source| {
                    communique_domain::query::date_in_range(
                        source.published,
                        query.published_after,
                        query.published_before,
                    )
                })
                .collect();
            if sources.is_empty() {
                continue;
            }
            let row = by_government
                .entry(claim.government.code.as_str())
                .or_insert_with(|| (&claim.government, StanceTally::default(), Vec::new()));
            row.1.add(claim.polarity);
            row.2.push((claim, sources));
        }
        let mut rows = Vec::new();
        for (_, (government, tally, mut claims)) in by_government {
            if !on_page(government, &tally) {
                continue;
            }
            claims.sort_by(|a, b| b.0.polarity.abs().total_cmp(&a.0.polarity.abs()));
            let mut evidence = Vec::new();
            for (claim, sources) in claims.into_iter().take(query.max_evidence) {
                // The evidence names the first source that qualifies.
                let statement = match sources.first() {
                    Some(first) if first.article_id != claim.evidence.article_id => {
                        Arc::new(StoredStatement {
                            article_id: first.article_id.clone(),
                            published: claim.evidence.published,
                            statement: claim.evidence.statement.clone(),
                        })
                    }
                    _ => Arc::clone(&claim.evidence),
                };
                evidence.extend(evidence_from(claim, statement, sources));
            }
            rows.push(StanceRow {
                government: government.clone(),
                tally,
                evidence,
            });
        }
        rows.sort_by(|a, b| row_order(&a.government, &a.tally, &b.government, &b.tally));
        let next = page_end(&rows, page.size, |row| {
            RowPosition::of(&row.government, &row.tally)
        });
        rows.truncate(page.size);
        read(Page {
            items: rows.iter().map(StanceRow::lend).collect(),
            next,
        });
        Ok(())
    }

    fn article_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .read::<u64>("article count", &meta_key(META_ARTICLE_COUNT))?
            .unwrap_or(0))
    }

    fn indexes_in_memory(&self) -> bool {
        self.mirror.get().is_some_and(Result::is_ok)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(io)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(io)?;
        Ok(())
    }
}

/// A claim as evidence with all its sources; `None` without sources.
fn evidence_of(claim: &MirroredClaim) -> Option<LentEvidence<'_>> {
    if claim.source_ids.is_empty() {
        return None;
    }
    Some(LentEvidence {
        statement: &claim.evidence,
        polarity: claim.polarity,
        source_article_ids: &claim.source_ids,
    })
}

/// A claim as evidence: `statement` (the claim's statement, as reported by the first of
/// `sources`) and the distinct articles of `sources`; `None` without sources.
fn evidence_from<'m>(
    claim: &MirroredClaim,
    statement: Arc<StoredStatement>,
    sources: impl IntoIterator<Item = &'m ClaimSource>,
) -> Option<Evidence> {
    let mut ids: Vec<&str> = sources
        .into_iter()
        .map(|source| source.article_id.as_str())
        .collect();
    if ids.is_empty() {
        return None;
    }
    ids.sort_unstable();
    ids.dedup();
    Some(Evidence {
        statement,
        polarity: claim.polarity,
        source_article_ids: ids.into_iter().map(str::to_owned).collect(),
    })
}

/// The entity `id_or_name` resolves to (see [`ArticleStore::resolve_entity`]), as the mirror
/// holds it.
fn resolved<'m>(mirror: &'m Mirror, id_or_name: &str) -> Option<&'m EntitySummary> {
    if let Some(summary) = mirror.summary(id_or_name) {
        return Some(summary);
    }
    let folded = normalize_name(id_or_name);
    if folded.is_empty() {
        return None;
    }
    // Exact alias keys are the folded alias, a separator, then the entity id.
    let prefix = KeyBuilder::new(KIND_ALIAS).text(&folded).build();
    let mut best: Option<(u32, std::borrow::Cow<'m, str>)> = None;
    for (key, _) in mirror.scan_prefix(&prefix).take(MAX_PREFIX_CANDIDATES) {
        let id = String::from_utf8_lossy(key.get(prefix.len()..).unwrap_or_default());
        let Some(head) = mirror.head(&id) else {
            continue;
        };
        // Most mentioned first, then the smaller id: the order search ranks exact matches.
        let better = best.as_ref().is_none_or(|(count, best_id)| {
            (head.mention_count, std::cmp::Reverse(id.as_ref()))
                > (*count, std::cmp::Reverse(best_id.as_ref()))
        });
        if better {
            best = Some((head.mention_count, id));
        }
    }
    best.and_then(|(_, id)| mirror.summary(&id))
}

/// The summary of an entity, from the mirror.
fn entity_summary(mirror: &Mirror, entity_id: &str) -> Result<Option<EntitySummary>, StoreError> {
    Ok(mirror.summary(entity_id).cloned())
}

fn summary(record: EntitySummaryRecord) -> EntitySummary {
    let mut entity = record.entity;
    // A popular entity has dozens of observed forms (distinct: they were a map's keys), checked
    // against a set of the names it already has rather than each against the whole list.
    let observed: Vec<String> = {
        let known: foldhash::HashSet<&str> = std::iter::once(entity.name.as_str())
            .chain(entity.aliases.iter().map(String::as_str))
            .collect();
        record
            .observed_aliases
            .into_iter()
            .map(|(alias, _)| alias)
            .filter(|alias| !known.contains(alias.as_str()))
            .collect()
    };
    entity.aliases.extend(observed);
    EntitySummary {
        entity,
        article_count: record.article_count,
        mention_count: record.mention_count,
    }
}

/// A search's best match so far per entity id: match type, score and the alias that matched.
/// Hashed with foldhash: SipHash's DoS resistance buys nothing for ids read from the store.
type Candidates<'m> = foldhash::HashMap<&'m str, (MatchType, f32, &'m str)>;

/// Considers one alias entry as an exact or prefix match of `folded`; the entity id when the
/// alias starts with the query.
fn prefix_candidate<'m>(
    best: &mut Candidates<'m>,
    folded: &str,
    key: &'m [u8],
    value: &'m [u8],
) -> Option<&'m str> {
    let parts = split_parts(key, 1);
    let (Some(alias), Some(Ok(id)), Ok(written)) = (
        parts.first(),
        parts.get(1).map(|id| std::str::from_utf8(id)),
        std::str::from_utf8(value),
    ) else {
        return None;
    };
    if !alias.starts_with(folded.as_bytes()) {
        return None;
    }
    if *alias == folded.as_bytes() {
        consider(best, id, MatchType::Exact, 1.0, written);
    } else {
        let score = folded.len() as f32 / alias.len().max(1) as f32;
        consider(best, id, MatchType::Prefix, score.min(0.99), written);
    }
    Some(id)
}

/// Keeps the better of two matches of the same entity: the stronger match type, then the
/// higher score.
fn consider<'a>(
    best: &mut Candidates<'a>,
    id: &'a str,
    match_type: MatchType,
    score: f32,
    alias: &'a str,
) {
    let entry = best.entry(id).or_insert((match_type, score, alias));
    if (match_type, -score) < (entry.0, -entry.1) {
        *entry = (match_type, score, alias);
    }
}

/// Whether a name of another length could reach [`MIN_FUZZY_SIMILARITY`] with a query of
/// `query_chars` characters: the edit distance is at least the difference in length, so this
/// skips the distance computation for most words of long aliases.
fn could_be_similar(query_chars: usize, candidate: &str) -> bool {
    let candidate_chars = candidate.chars().count();
    let longest = query_chars.max(candidate_chars);
    let difference = query_chars.abs_diff(candidate_chars);
    1.0 - difference as f32 / longest.max(1) as f32 >= MIN_FUZZY_SIMILARITY
}

/// Pages over an in-memory ranking; the position is the offset of the next item.
fn paginate_ranked<T>(items: Vec<T>, page: &PageRequest) -> Result<Page<T>, StoreError> {
    let offset = ranked_offset(page)?;
    let total = items.len();
    let end = offset.saturating_add(page.size).min(total);
    let next = (end < total).then(|| (end as u32).to_be_bytes().to_vec());
    let items = items.into_iter().skip(offset).take(page.size).collect();
    Ok(Page { items, next })
}

/// Where a page of an in-memory ranking starts.
fn ranked_offset(page: &PageRequest) -> Result<usize, StoreError> {
    match &page.resume_after {
        None => Ok(0),
        Some(bytes) => {
            let bytes: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::BadPagePosition)?;
            Ok(u32::from_be_bytes(bytes) as usize)
        }
    }
}

/// Stance rows in answer order: most distinct statements first, ties by government code.
fn row_order(
    a_government: &Government,
    a_tally: &StanceTally,
    b_government: &Government,
    b_tally: &StanceTally,
) -> std::cmp::Ordering {
    b_tally
        .statement_count
        .cmp(&a_tally.statement_count)
        .then_with(|| a_government.code.cmp(&b_government.code))
}

/// The position after the last row of a page of `size`, when rows remain after it.
fn page_end<T>(sorted: &[T], size: usize, position: impl Fn(&T) -> RowPosition) -> Option<Vec<u8>> {
    if sorted.len() <= size {
        return None;
    }
    size.checked_sub(1)
        .and_then(|last| sorted.get(last))
        .map(|row| position(row).encode())
}

/// Where a page of stance rows ended: the last row's statement count and government code.
/// Keyed on the row's place in the order rather than an offset, so a row that moves between
/// requests is neither skipped because others were added nor repeated.
struct RowPosition {
    statement_count: u32,
    code: String,
}

impl RowPosition {
    fn of(government: &Government, tally: &StanceTally) -> RowPosition {
        RowPosition {
            statement_count: tally.statement_count,
            code: government.code.clone(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.statement_count.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.code.as_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Result<RowPosition, StoreError> {
        let (count, code) = bytes
            .split_first_chunk::<4>()
            .ok_or(StoreError::BadPagePosition)?;
        let code = std::str::from_utf8(code).map_err(|_| StoreError::BadPagePosition)?;
        Ok(RowPosition {
            statement_count: u32::from_be_bytes(*count),
            code: code.to_owned(),
        })
    }

    /// Whether a row with this count and code comes after the position in answer order.
    fn precedes(&self, statement_count: u32, code: &str) -> bool {
        statement_count < self.statement_count
            || (statement_count == self.statement_count && code > self.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_decodes_a_stored_entity_record_with_its_observed_forms_as_aliases() {
        let record = EntityRecord {
            mention_count: 11,
            kind: EntityKind::Country,
            article_count: 4,
            entity: Entity {
                id: "irn".into(),
                name: "Iran".into(),
                kind: EntityKind::Country,
                aliases: vec!["Islamic Republic of Iran".into()],
                affiliations: Vec::new(),
                government_code: None,
            },
            observed_aliases: BTreeMap::from([
                ("Iran".to_owned(), 6),
                ("Islamic Republic of Iran".to_owned(), 1),
                ("Persia".to_owned(), 1),
                ("Tehran".to_owned(), 3),
            ]),
        };
        let bytes = encode("entity", &record).unwrap();
        let view: EntitySummaryRecord = decode("entity", &bytes).unwrap();
        let summary = summary(view);
        assert_eq!(summary.mention_count, 11);
        assert_eq!(summary.article_count, 4);
        assert_eq!(summary.entity.name, "Iran");
        assert_eq!(summary.entity.kind, EntityKind::Country);
        assert_eq!(
            summary.entity.aliases,
            ["Islamic Republic of Iran", "Persia", "Tehran"]
        );
    }
}
