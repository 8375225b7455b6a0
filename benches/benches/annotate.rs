//! The annotator's throughput in bytes of article text (title and body) per second, on the five
//! seeds and on a slice of the corpus, each beside two baselines measured in the same run:
//!
//! - `lowercase-pass`: one `to_lowercase` and word count over the same text, a calibrator of
//!   how fast this machine walks text right now (annotate / lowercase-pass is a stable ratio on
//!   a noisy machine);
//! - `read-clean` (corpus only): the worker's input stage over the same slice (gzip, JSON,
//!   cleaning), to place annotation within ingest.
//!
//! `cargo bench -p communique-bench --bench annotate`; the corpus part needs
//! `../shared/data/news-corpus.jsonl.gz` (or `COMMUNIQUE_CORPUS`) and is skipped without it.

mod common;

// The worker's allocator, so that the figure is the worker's (`annotate_dump`, whose instruction
// counts are compared across commits, keeps the default one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::Duration;

use communique_worker::annotate::{Annotator, ArticleText};
use communique_worker::input::RawArticle;
use communique_worker::knowledge_base;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn annotate_each(annotator: &Annotator, articles: &[RawArticle]) -> usize {
    articles
        .iter()
        .map(|article| {
            let annotation = annotator.annotate(&ArticleText {
                title: &article.title,
                body: &article.body,
                published: article.published.as_ref().map(|p| p.date),
            });
            annotation.mentions.len() + annotation.statements.len()
        })
        .sum()
}

fn lowercase_pass(articles: &[RawArticle]) -> usize {
    articles
        .iter()
        .map(|article| {
            article.title.to_lowercase().split_whitespace().count()
                + article.body.to_lowercase().split_whitespace().count()
        })
        .sum()
}

fn annotate(c: &mut Criterion) {
    let kb = match knowledge_base::load(&[]) {
        Ok(kb) => kb,
        Err(error) => {
            eprintln!("cannot load the built-in knowledge base: {error}");
            return;
        }
    };
    let annotator = Annotator::new(&kb);

    let seeds = common::read_articles(&common::seeds_path(), usize::MAX);
    if seeds.is_empty() {
        eprintln!(
            "no seed articles in {}: skipping",
            common::seeds_path().display()
        );
    } else {
        let mut group = c.benchmark_group("annotate/seeds");
        group.throughput(Throughput::Bytes(common::text_bytes(&seeds)));
        group.bench_function("lowercase-pass", |b| {
            b.iter(|| lowercase_pass(black_box(&seeds)))
        });
        group.bench_function("annotate", |b| {
            b.iter(|| annotate_each(&annotator, black_box(&seeds)))
        });
        group.finish();
    }

    let Some(slice) = common::corpus_slice(common::CORPUS_SLICE) else {
        return;
    };
    let corpus = common::corpus_path();
    let mut group = c.benchmark_group(format!("annotate/corpus-{}", slice.len()));
    group.throughput(Throughput::Bytes(common::text_bytes(&slice)));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("lowercase-pass", |b| {
        b.iter(|| lowercase_pass(black_box(&slice)))
    });
    group.bench_function("read-clean", |b| {
        b.iter(|| common::read_articles(black_box(&corpus), common::CORPUS_SLICE).len())
    });
    group.bench_function("annotate", |b| {
        b.iter(|| annotate_each(&annotator, black_box(&slice)))
    });
    group.finish();
}

criterion_group!(benches, annotate);
criterion_main!(benches);
