//! Not a timing: a deterministic dump of everything the annotator finds, to check that a change
//! meant only to make it faster leaves its output untouched (compare the md5 of two dumps).
//!
//! `COMMUNIQUE_DUMP=/tmp/dump.txt cargo bench -p communique-bench --bench annotate_dump`
//! annotates the seeds and the first `COMMUNIQUE_DUMP_ARTICLES` (default 3000) corpus articles,
//! each twice: as the worker does (its date, or one inferred from its text) and with no date
//! (so the date estimate runs too), and writes every annotation in Debug form. Without
//! `COMMUNIQUE_DUMP` it annotates and writes nothing: a fixed workload for `valgrind
//! --tool=callgrind` (see benches/README.md).

mod common;

use std::io::Write;

use communique_worker::annotate::{Annotator, ArticleText};
use communique_worker::knowledge_base;

fn main() -> anyhow::Result<()> {
    let limit = match std::env::var("COMMUNIQUE_DUMP_ARTICLES") {
        Ok(n) => n.parse()?,
        Err(_) => 3000,
    };
    let kb = knowledge_base::load(&[])?;
    let annotator = Annotator::new(&kb);
    let mut articles = common::read_articles(&common::seeds_path(), usize::MAX);
    if limit > 0 {
        match common::corpus_slice(limit) {
            Some(slice) => articles.extend(slice),
            None => anyhow::bail!("the corpus is needed for the dump"),
        }
    }
    let mut out: Box<dyn Write> = match std::env::var_os("COMMUNIQUE_DUMP") {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::sink()),
    };
    for annotated in common::annotate_all(&annotator, &articles) {
        writeln!(out, "{annotated:?}")?;
    }
    for article in &articles {
        let annotation = annotator.annotate(&ArticleText {
            title: &article.title,
            body: &article.body,
            published: None,
        });
        writeln!(out, "{annotation:?}")?;
    }
    out.flush()?;
    eprintln!("{} articles annotated", articles.len());
    Ok(())
}
