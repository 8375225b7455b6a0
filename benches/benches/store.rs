//! The sled store, to locate where ingest and serving time goes. Each figure has a bare-sled
//! baseline measured beside it in the same run:
//!
//! - `store/write-N`: `put_article` of N pre-annotated corpus articles (seeds when the corpus is
//!   absent) into a fresh temporary store, without and with a final flush, against inserting
//!   the same article text under the same ids into a bare sled tree (`sled-insert`). Throughput
//!   in bytes of article text, so it compares with `annotate` and `read-clean` of
//!   `benches/annotate.rs`.
//! - `store/read`: `get_article` (metadata, full), `search_entities("Iran")` and
//!   `compare_stances(Iran)` against a bare sled `get` of one article's text (`sled-get`).
//!   They read a store built from the same articles, or the store at `COMMUNIQUE_BENCH_DB`
//!   (for instance the full-corpus store run-serving.sh builds; no process may hold it).
//!
//! - `store/growth`: `compare_stances(Iran)` and `search_entities("Iran")` on stores of
//!   growing size, given as `COMMUNIQUE_BENCH_GROWTH_DBS=1k=DIR,10k=DIR,all=DIR` (for instance
//!   built with `communique-worker ingest --db DIR` from the first 1,000 and 10,000 corpus
//!   lines); both should depend on the size of the answer, not of the corpus. Skipped without
//!   the variable.
//!
//! `cargo bench -p communique-bench --bench store`

mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use communique_domain::AnnotatedArticle;
use communique_domain::query::{ArticleFilter, EntitySearch, PageRequest, StanceQuery};
use communique_store::{ArticleParts, ArticleStore, SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::knowledge_base;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// The articles the benches write: the corpus slice, or the seeds without a corpus.
fn articles() -> anyhow::Result<Vec<AnnotatedArticle>> {
    let kb = knowledge_base::load(&[]).context("cannot load the built-in knowledge base")?;
    let annotator = Annotator::new(&kb);
    let raw = common::corpus_slice(common::CORPUS_SLICE)
        .unwrap_or_else(|| common::read_articles(&common::seeds_path(), usize::MAX));
    anyhow::ensure!(!raw.is_empty(), "no articles to store");
    Ok(common::annotate_all(&annotator, &raw))
}

fn text_of(article: &AnnotatedArticle) -> Vec<u8> {
    let mut text = Vec::with_capacity(article.article.title.len() + article.article.body.len());
    text.extend_from_slice(article.article.title.as_bytes());
    text.extend_from_slice(article.article.body.as_bytes());
    text
}

fn open_store(path: &Path) -> anyhow::Result<SledStore> {
    SledStore::open(path, &StoreOptions::default())
        .with_context(|| format!("cannot open a store in {}", path.display()))
}

fn open_sled(path: &Path) -> anyhow::Result<sled::Db> {
    sled::Config::new()
        .path(path)
        .cache_capacity(StoreOptions::default().cache_capacity_bytes)
        .open()
        .with_context(|| format!("cannot open sled in {}", path.display()))
}

fn fill_store(path: &Path, articles: &[AnnotatedArticle]) -> anyhow::Result<SledStore> {
    let store = open_store(path)?;
    for article in articles {
        store.put_article(article.clone())?;
    }
    store.flush()?;
    Ok(store)
}

fn fill_sled(path: &Path, articles: &[AnnotatedArticle]) -> anyhow::Result<sled::Db> {
    let db = open_sled(path)?;
    for article in articles {
        db.insert(article.article.id.as_bytes(), text_of(article))?;
    }
    db.flush()?;
    Ok(db)
}

fn writes(c: &mut Criterion, articles: &[AnnotatedArticle]) -> anyhow::Result<()> {
    let bytes: u64 = articles.iter().map(|a| text_of(a).len() as u64).sum();
    let texts: Vec<(String, Vec<u8>)> = articles
        .iter()
        .map(|a| (a.article.id.clone(), text_of(a)))
        .collect();
    // Fail before measuring rather than measure errors.
    {
        let dir = tempfile::tempdir()?;
        fill_store(dir.path(), articles)?;
    }
    let mut group = c.benchmark_group(format!("store/write-{}", articles.len()));
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for flush in [false, true] {
        let suffix = if flush { "+flush" } else { "" };
        group.bench_function(format!("sled-insert{suffix}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().ok();
                    let db = dir.as_ref().and_then(|dir| open_sled(dir.path()).ok());
                    (dir, db, texts.clone())
                },
                |(dir, db, texts)| {
                    if let Some(db) = &db {
                        for (id, text) in texts {
                            let _ = black_box(db.insert(id.as_bytes(), text));
                        }
                        if flush {
                            let _ = black_box(db.flush());
                        }
                    }
                    (db, dir) // Dropped after timing.
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("put_article{suffix}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().ok();
                    let store = dir.as_ref().and_then(|dir| open_store(dir.path()).ok());
                    (dir, store, articles.to_vec())
                },
                |(dir, store, articles)| {
                    if let Some(store) = &store {
                        for article in articles {
                            let _ = black_box(store.put_article(article));
                        }
                        if flush {
                            let _ = black_box(store.flush());
                        }
                    }
                    (store, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
    Ok(())
}

fn reads(c: &mut Criterion, articles: &[AnnotatedArticle]) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, source) = match std::env::var_os("COMMUNIQUE_BENCH_DB") {
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            let store = open_store(&path)?;
            (store, format!("store at {}", path.display()))
        }
        None => (
            fill_store(&dir.path().join("store"), articles)?,
            format!("{} articles", articles.len()),
        ),
    };
    let sled = fill_sled(&dir.path().join("sled"), articles)?;
    let baseline_ids: Vec<String> = articles.iter().map(|a| a.article.id.clone()).collect();
    let ids: Vec<String> = store
        .list_articles(
            &ArticleFilter::default(),
            ArticleParts::Metadata,
            &PageRequest {
                size: 200,
                resume_after: None,
            },
        )?
        .items
        .into_iter()
        .map(|stored| stored.article.id)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "the store holds no article");
    let search = EntitySearch {
        query: "Iran".into(),
        kinds: Vec::new(),
    };
    let first_page = PageRequest {
        size: 20,
        resume_after: None,
    };
    let target = store
        .search_entities(&search, &first_page)?
        .items
        .into_iter()
        .next()
        .map(|m| m.summary.entity.id)
        .context("no entity matches Iran")?;
    let stances = StanceQuery {
        target_entity_id: target,
        max_evidence: 3,
        ..StanceQuery::default()
    };
    eprintln!(
        "reading from the {source}; CompareStances target {}",
        stances.target_entity_id
    );

    let mut group = c.benchmark_group("store/read");
    group.throughput(Throughput::Elements(1));
    let mut n = 0usize;
    let mut next = |ids: &[String]| {
        n = n.wrapping_add(1);
        ids.get(n % ids.len().max(1)).cloned().unwrap_or_default()
    };
    group.bench_function("sled-get", |b| {
        b.iter(|| black_box(sled.get(next(&baseline_ids).as_bytes())))
    });
    group.bench_function("get_article-metadata", |b| {
        b.iter(|| black_box(store.get_article(&next(&ids), ArticleParts::Metadata)))
    });
    group.bench_function("get_article-full", |b| {
        b.iter(|| black_box(store.get_article(&next(&ids), ArticleParts::Full)))
    });
    group.bench_function("search_entities-Iran", |b| {
        b.iter(|| black_box(store.search_entities(&search, &first_page)))
    });
    group.bench_function("compare_stances-Iran", |b| {
        b.iter(|| black_box(store.compare_stances(&stances, &first_page)))
    });
    group.finish();
    Ok(())
}

fn growth(c: &mut Criterion) -> anyhow::Result<()> {
    let Some(spec) = std::env::var_os("COMMUNIQUE_BENCH_GROWTH_DBS") else {
        eprintln!("store/growth skipped: set COMMUNIQUE_BENCH_GROWTH_DBS=NAME=DIR,NAME=DIR");
        return Ok(());
    };
    let spec = spec.to_string_lossy().into_owned();
    let mut group = c.benchmark_group("store/growth");
    group.throughput(Throughput::Elements(1));
    for named in spec.split(',').filter(|s| !s.is_empty()) {
        let (name, path) = named
            .split_once('=')
            .with_context(|| format!("{named:?} is not NAME=DIR"))?;
        let store = open_store(Path::new(path))?;
        let target = store
            .resolve_entity("Iran")?
            .context("no entity named Iran")?
            .entity
            .id;
        let stances = StanceQuery {
            target_entity_id: target.clone(),
            max_evidence: 3,
            ..StanceQuery::default()
        };
        let first_page = PageRequest {
            size: 20,
            resume_after: None,
        };
        // The size of the answer (the server's default page of rows), which the time should
        // follow.
        let rows = store.compare_stances(&stances, &first_page)?.items;
        let evidence: usize = rows.iter().map(|row| row.evidence.len()).sum();
        let sources: usize = rows
            .iter()
            .flat_map(|row| &row.evidence)
            .map(|e| e.source_article_ids.len())
            .sum();
        eprintln!(
            "store/growth {name}: {} articles; compare_stances({target}): {} rows, {evidence} evidence, {sources} source ids",
            store.article_count()?,
            rows.len()
        );
        let search = EntitySearch {
            query: "Iran".into(),
            kinds: Vec::new(),
        };
        group.bench_function(format!("compare_stances-Iran/{name}"), |b| {
            b.iter(|| black_box(store.compare_stances(&stances, &first_page)))
        });
        group.bench_function(format!("resolve_entity-Iran/{name}"), |b| {
            b.iter(|| black_box(store.resolve_entity("Iran")))
        });
        group.bench_function(format!("search_entities-Iran/{name}"), |b| {
            b.iter(|| black_box(store.search_entities(&search, &first_page)))
        });
    }
    group.finish();
    Ok(())
}

fn store(c: &mut Criterion) {
    if std::env::var_os("COMMUNIQUE_BENCH_GROWTH_DBS").is_some() {
        // Growth alone: the stores are given, nothing else needs preparing.
        if let Err(error) = growth(c) {
            eprintln!("growth benchmarks failed: {error:#}");
        }
        return;
    }
    let articles = match articles() {
        Ok(articles) => articles,
        Err(error) => {
            eprintln!("cannot prepare articles: {error:#}");
            return;
        }
    };
    if let Err(error) = writes(c, &articles) {
        eprintln!("write benchmarks failed: {error:#}");
    }
    if let Err(error) = reads(c, &articles) {
        eprintln!("read benchmarks failed: {error:#}");
    }
}

criterion_group!(benches, store);
criterion_main!(benches);
