//! communique's storage. [`ArticleStore`] is what the services and the worker write and read
//! through; [`SledStore`] implements it on sled and owns every key and encoding. Nothing outside
//! this crate knows how data is laid out.

mod codec;
mod keys;
mod sled_store;

use communique_domain::query::{
    ArticleFilter, EntityMatch, EntitySearch, LentStanceRow, Page, PageRequest, StanceQuery,
    StanceRow, StatementFilter, StoredMention, StoredStatement,
};
use communique_domain::{AnnotatedArticle, Article, EntitySummary, InvalidArticle};

pub use sled_store::{SledStore, StoreOptions};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {path} is locked by another process: stop that process (a running server owns its store; send it articles with `communique-worker ingest --server URL`) or use another data directory"
    )]
    Locked { path: String },
    #[error("storage I/O failed: {0}")]
    Io(String),
    #[error(
        "stored {record} is unreadable ({detail}); the store may be corrupt or from a newer version"
    )]
    Corrupt {
        record: &'static str,
        detail: String,
    },
    #[error("invalid article {article_id:?}: {source}")]
    InvalidArticle {
        article_id: String,
        #[source]
        source: InvalidArticle,
    },
    #[error("page position is not valid for this query")]
    BadPagePosition,
    #[error(
        "the store at {path} has schema {found}; this build reads schema {expected}: build a new store with `communique-worker ingest --db NEW_DIR` (or delete this one)"
    )]
    SchemaMismatch {
        path: String,
        found: u32,
        expected: u32,
    },
}

impl StoreError {
    /// The article field at fault, for an invalid article.
    pub fn invalid_field(&self) -> Option<&str> {
        match self {
            StoreError::InvalidArticle { source, .. } => Some(&source.field),
            _ => None,
        }
    }
}

/// What storing an article did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The id was new.
    Inserted,
    /// The id existed with other content: its old annotations, index entries and contributions
    /// to aggregates were replaced.
    Replaced,
    /// The id existed with the same content hash: nothing was written.
    Unchanged,
}

/// Which parts of an article to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleParts {
    /// Metadata and counts; the body, mentions and statements are left empty.
    Metadata,
    /// Everything.
    Full,
}

/// An article's stored metadata as a list returns it: the article (per [`ArticleParts`]) and
/// the counts kept beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredArticle {
    pub article: Article,
    pub mention_count: u32,
    pub statement_count: u32,
    pub government_codes: Vec<String>,
}

/// The store behind the services. Every method is a point read or a bounded range read over an
/// index: none scans the corpus. Writes are atomic per article (a batch is written as whole
/// articles).
pub trait ArticleStore: Send + Sync + 'static {
    /// Stores an article with its index entries and aggregate contributions, atomically.
    fn put_article(&self, article: AnnotatedArticle) -> Result<PutOutcome, StoreError> {
        self.put_articles(vec![article])?
            .pop()
            .unwrap_or(Err(StoreError::Io("the store wrote no outcome".into())))
    }

    /// Stores several articles, each with its own outcome in input order: an invalid article is
    /// refused alone. Every article is whole or absent after a crash. Much cheaper per article
    /// than [`ArticleStore::put_article`], because the aggregates the articles share are read
    /// and written once per call. The `Err` is for failures that stop all writing (I/O,
    /// corruption); articles written before it stay stored.
    fn put_articles(
        &self,
        articles: Vec<AnnotatedArticle>,
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError>;

    /// The stored content hash of an article, to skip re-annotating unchanged input.
    fn content_hash(&self, article_id: &str) -> Result<Option<String>, StoreError>;

    fn get_article(
        &self,
        article_id: &str,
        parts: ArticleParts,
    ) -> Result<Option<StoredArticle>, StoreError>;

    /// Newest first.
    fn list_articles(
        &self,
        filter: &ArticleFilter,
        parts: ArticleParts,
        page: &PageRequest,
    ) -> Result<Page<StoredArticle>, StoreError>;

    fn get_entity(&self, entity_id: &str) -> Result<Option<EntitySummary>, StoreError>;

    /// The entity a name stands for without a spelling-tolerant search: the entity with that
    /// id, or else the most mentioned entity with that exact alias (folded).
    fn resolve_entity(&self, id_or_name: &str) -> Result<Option<EntitySummary>, StoreError>;

    /// The entity [`resolve_entity`](Self::resolve_entity) gives (`None` when there is none),
    /// lent to `read` (once) instead of copied out: a store that holds its entities lends its
    /// own. `read` runs while the store holds its indexes for reading, so it must not call the
    /// store.
    fn lend_resolved_entity(
        &self,
        id_or_name: &str,
        read: &mut dyn FnMut(Option<&EntitySummary>),
    ) -> Result<(), StoreError> {
        read(self.resolve_entity(id_or_name)?.as_ref());
        Ok(())
    }

    /// Exact alias matches first, then prefix, then spelling-tolerant matches.
    fn search_entities(
        &self,
        search: &EntitySearch,
        page: &PageRequest,
    ) -> Result<Page<EntityMatch>, StoreError>;

    fn list_mentions(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<StoredMention>, StoreError>;

    fn list_statements(
        &self,
        filter: &StatementFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredStatement>, StoreError>;

    /// One row per government that spoke about the target, most statements first (ties by
    /// government code). Evidence is read for the rows of the page only.
    fn compare_stances(
        &self,
        query: &StanceQuery,
        page: &PageRequest,
    ) -> Result<Page<StanceRow>, StoreError> {
        let mut rows = None;
        self.lend_stances(query, page, &mut |page| {
            rows = Some(Page {
                items: page.items.iter().map(LentStanceRow::to_row).collect(),
                next: page.next,
            });
        })?;
        Ok(rows.unwrap_or(Page {
            items: Vec::new(),
            next: None,
        }))
    }

    /// The page [`compare_stances`](Self::compare_stances) gives, lent to `read` (once) instead
    /// of copied out: a store that holds the rows' values lends its own. `read` runs while the
    /// store holds its indexes for reading, so it must not call the store.
    fn lend_stances(
        &self,
        query: &StanceQuery,
        page: &PageRequest,
        read: &mut dyn FnMut(Page<LentStanceRow<'_>>),
    ) -> Result<(), StoreError>;

    fn article_count(&self) -> Result<u64, StoreError>;

    /// The store's size on disk, in bytes.
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// Makes every acknowledged write durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// Whether entity reads, entity search, target resolution and the unnarrowed stance
    /// comparison now run from memory (short, never waiting for a load), so that an async caller
    /// may run them in place rather than on a blocking pool.
    fn indexes_in_memory(&self) -> bool {
        false
    }
}
