//! What the criterion benches share: where the seeds and the corpus are, and reading them.
#![allow(dead_code)] // Each bench uses a part.

use std::path::{Path, PathBuf};

use communique_domain::AnnotatedArticle;
use communique_worker::annotate::Annotator;
use communique_worker::input::{InputItem, RawArticle, ReadOptions, read_inputs};
use communique_worker::pipeline::annotate_article;

/// Corpus articles the benches read: enough to be representative, few enough to be quick.
pub const CORPUS_SLICE: usize = 2000;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn seeds_path() -> PathBuf {
    repo().join("seeds")
}

/// `COMMUNIQUE_CORPUS`, or `../shared/data/news-corpus.jsonl.gz` beside the repository.
pub fn corpus_path() -> PathBuf {
    std::env::var_os("COMMUNIQUE_CORPUS").map_or_else(
        || repo().join("../shared/data/news-corpus.jsonl.gz"),
        PathBuf::from,
    )
}

/// The first `limit` articles of `path` (rejected inputs skipped).
pub fn read_articles(path: &Path, limit: usize) -> Vec<RawArticle> {
    read_inputs(&[path.to_path_buf()], &ReadOptions::default())
        .filter_map(|item| match item {
            InputItem::Article(article) => Some(article),
            InputItem::Rejected(_) => None,
        })
        .take(limit)
        .collect()
}

/// The corpus slice, or `None` (with a message) when the corpus file is absent.
pub fn corpus_slice(limit: usize) -> Option<Vec<RawArticle>> {
    let path = corpus_path();
    if !path.is_file() {
        eprintln!(
            "corpus {} not found: skipping the corpus benchmarks (set COMMUNIQUE_CORPUS)",
            path.display()
        );
        return None;
    }
    Some(read_articles(&path, limit))
}

/// Title and body bytes: the text the annotator reads.
pub fn text_bytes(articles: &[RawArticle]) -> u64 {
    articles
        .iter()
        .map(|a| (a.title.len() + a.body.len()) as u64)
        .sum()
}

/// Annotates articles as the worker does, content hash and id included.
pub fn annotate_all(annotator: &Annotator, articles: &[RawArticle]) -> Vec<AnnotatedArticle> {
    articles
        .iter()
        .map(|raw| {
            let hash = communique_domain::content_hash(&raw.title, &raw.body);
            annotate_article(annotator, raw.clone(), hash)
        })
        .collect()
}
