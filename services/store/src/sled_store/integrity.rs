//! A full consistency check of a store, for tests and operators after a crash: it reads every
//! record, so it is never used by an RPC.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use communique_domain::query::StanceTally;

use super::*;

impl SledStore {
    /// Every broken invariant found: an article without its content or statements, an index
    /// entry pointing at nothing, or a stored count or tally that differs from one recomputed
    /// from the articles. Empty when the store is consistent.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut articles: BTreeMap<String, ArticleRecord> = BTreeMap::new();
        for entry in self.tree.scan_prefix([KIND_ARTICLE]) {
            let (_, value) = entry.map_err(io)?;
            let record: ArticleRecord = decode("article", &value)?;
            articles.insert(record.id.clone(), record);
        }
        for (id, record) in &articles {
            match self.content(id)? {
                None => problems.push(format!("article {id:?} has no content")),
                Some(content) => {
                    let stored = content.statements.len() as u32;
                    if stored != record.statement_count {
                        problems.push(format!(
                            "article {id:?} has {stored} statements stored, {} expected",
                            record.statement_count
                        ));
                    }
                }
            }
        }
        for entry in self.tree.scan_prefix([KIND_ARTICLE_CONTENT]) {
            let (key, _) = entry.map_err(io)?;
            let id = key
                .get(1..)
                .map(|b| String::from_utf8_lossy(b).into_owned());
            if !id.is_some_and(|id| articles.contains_key(&id)) {
                problems.push(format!(
                    "index kind {KIND_ARTICLE_CONTENT:#04x} entry points at a missing article"
                ));
            }
        }
        for (index_kind, postings_kind) in ARTICLE_INDEXES {
            for entry in self.tree.scan_prefix([postings_kind]) {
                let (key, value) = entry.map_err(io)?;
                for posting in postings::decode_block(&value)? {
                    if !articles.contains_key(&posting.article_id) {
                        problems.push(format!(
                            "index kind {index_kind:#04x} entry (block {:?}) points at a missing article",
                            String::from_utf8_lossy(&key)
                        ));
                    }
                }
            }
            // Retired in schema 4: every entry was gathered into blocks at open.
            if self.tree.scan_prefix([index_kind]).next().is_some() {
                problems.push(format!(
                    "index kind {index_kind:#04x} has entries of schema 3 beside its posting blocks"
                ));
            }
        }
        for entry in self.tree.scan_prefix([KIND_CLAIM]) {
            let (key, value) = entry.map_err(io)?;
            let claim: ClaimRecord = decode("claim", &value)?;
            let evidence_is_first_source = claim.sources.first().is_some_and(|first| {
                articles.contains_key(&first.article_id)
                    && first.ordinal == claim.evidence.statement.ordinal
            });
            if !evidence_is_first_source {
                problems.push(format!(
                    "claim {:?} has no sources or its evidence is not its first source's statement",
                    String::from_utf8_lossy(&key)
                ));
            }
            if !claim
                .sources
                .is_sorted_by(|a, b| source_order(a) < source_order(b))
            {
                problems.push(format!(
                    "claim {:?} has its sources out of order (earliest report first)",
                    String::from_utf8_lossy(&key)
                ));
            }
            let target = split_parts(&key, 1).first().map(|t| t.to_vec());
            let stated = claim
                .evidence
                .statement
                .targets
                .iter()
                .find(|t| Some(t.entity_id.as_bytes()) == target.as_deref());
            if stated.is_none_or(|t| t.polarity != claim.polarity) {
                problems.push(format!(
                    "claim {:?} has a polarity its evidence does not give its target",
                    String::from_utf8_lossy(&key)
                ));
            }
        }

        // Aggregates recomputed from the articles must equal the stored ones.
        let (expected_entities, expected_tallies) = self.recompute_aggregates(&articles)?;
        for entry in self.tree.scan_prefix([KIND_ENTITY]) {
            let (_, value) = entry.map_err(io)?;
            let record: EntityRecord = decode("entity", &value)?;
            let expected = expected_entities
                .get(&record.entity.id)
                .copied()
                .unwrap_or((0, 0));
            if (record.article_count, record.mention_count) != expected {
                problems.push(format!(
                    "entity {:?} counts {:?}, recomputed {expected:?}",
                    record.entity.id,
                    (record.article_count, record.mention_count)
                ));
            }
        }
        let mut stored_tallies = BTreeMap::new();
        for entry in self.tree.scan_prefix([KIND_TALLY]) {
            let (key, value) = entry.map_err(io)?;
            let record: TallyRecord = decode("tally", &value)?;
            let parts = split_parts(&key, 1);
            let target = parts
                .first()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default();
            stored_tallies.insert(
                (target, record.government.code),
                record.tally.statement_count,
            );
        }
        if stored_tallies != expected_tallies {
            problems.push(format!(
                "stance tallies differ from those recomputed from the statements: {} stored, {} recomputed",
                stored_tallies.len(),
                expected_tallies.len()
            ));
        }
        if self.article_count()? != articles.len() as u64 {
            problems.push(format!(
                "article count {} but {} articles stored",
                self.article_count()?,
                articles.len()
            ));
        }
        let mirror = self.mirror()?;
        let mut fresh = Mirror::load(&self.tree)?;
        if mirror.bands_loaded() {
            fresh.load_bands(&self.tree)?;
        }
        if *mirror != fresh {
            problems.push("the in-memory index mirror differs from the stored indexes".into());
        }
        Ok(problems)
    }

    /// Entity (article, mention) counts and distinct-claim counts per (target, government), as
    /// a clean ingest of the stored articles would make them.
    #[allow(clippy::type_complexity)]
    fn recompute_aggregates(
        &self,
        articles: &BTreeMap<String, ArticleRecord>,
    ) -> Result<
        (
            BTreeMap<String, (u32, u32)>,
            BTreeMap<(String, String), u32>,
        ),
        StoreError,
    > {
        let mut entities: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        let mut claims: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (id, record) in articles {
            for entity_id in &record.entity_ids {
                entities.entry(entity_id.clone()).or_default().0 += 1;
            }
            let content = self.content(id)?;
            for mention in content.iter().flat_map(|c| &c.mentions) {
                entities.entry(mention.entity_id.clone()).or_default().1 += 1;
            }
            for statement in content.iter().flat_map(|c| &c.statements) {
                let speaker = statement
                    .speaker
                    .entity_id
                    .clone()
                    .unwrap_or_else(|| normalize_name(&statement.speaker.name));
                let hash = content_hash(&speaker, &normalize_name(&statement.text));
                for target in &statement.targets {
                    for government in &statement.governments {
                        claims.insert((
                            target.entity_id.clone(),
                            government.code.clone(),
                            hash.clone(),
                        ));
                    }
                }
            }
        }
        let mut tallies: BTreeMap<(String, String), u32> = BTreeMap::new();
        for (target, government, _) in claims {
            *tallies.entry((target, government)).or_default() += 1;
        }
        Ok((entities, tallies))
    }

    /// A canonical text of every aggregate (entity counts, tallies, claims with their sources),
    /// so two stores built differently can be compared.
    pub fn aggregate_snapshot(&self) -> Result<String, StoreError> {
        let mut out = String::new();
        for entry in self.tree.scan_prefix([KIND_ENTITY]) {
            let (_, value) = entry.map_err(io)?;
            let record: EntityRecord = decode("entity", &value)?;
            let _ = writeln!(
                out,
                "entity {} articles={} mentions={} aliases={:?}",
                record.entity.id,
                record.article_count,
                record.mention_count,
                record.observed_aliases
            );
        }
        for entry in self.tree.scan_prefix([KIND_TALLY]) {
            let (key, value) = entry.map_err(io)?;
            let record: TallyRecord = decode("tally", &value)?;
            let StanceTally {
                statement_count,
                positive_sum,
                negative_sum,
            } = record.tally;
            let _ = writeln!(
                out,
                "tally {} count={statement_count} positive={positive_sum:.4} negative={negative_sum:.4}",
                String::from_utf8_lossy(&key)
            );
        }
        for entry in self.tree.scan_prefix([KIND_CLAIM]) {
            let (key, value) = entry.map_err(io)?;
            let record: ClaimRecord = decode("claim", &value)?;
            let mut sources: Vec<String> = record
                .sources
                .iter()
                .map(|s| format!("{}/{}", s.article_id, s.ordinal))
                .collect();
            sources.sort();
            let _ = writeln!(
                out,
                "claim {} sources={sources:?}",
                String::from_utf8_lossy(&key)
            );
        }
        Ok(out)
    }
}
