//! Crash safety: the worker is killed (SIGKILL) at several points of a large ingest. After each
//! kill the store must hold every article whole or not at all, with no index entry pointing at
//! nothing; after a final complete run its aggregates must equal those of a clean ingest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use communique_store::{ArticleStore, SledStore, StoreOptions};

/// Enough articles for several write batches of the worker.
const ARTICLES: usize = 3000;

/// Articles that share speakers, targets and words, so that aggregates (entity counts, stance
/// tallies, repeated statements) are touched by many articles and a torn write would show.
fn synthetic_corpus() -> String {
    let speakers = [
        ("Boris Johnson", "Prime Minister"),
        ("Emmanuel Macron", "President"),
        ("Angela Merkel", "Chancellor"),
        ("Mike Pompeo", "Secretary of State"),
        ("Jens Stoltenberg", "NATO Secretary-General"),
    ];
    let words = [
        "Iran must stop these reckless and dangerous attacks",
        "We call on all parties to exercise restraint",
        "We condemn the attack on the embassy in Baghdad",
        "We will not lament his death",
        "Iraq's sovereignty must be respected",
    ];
    let mut out = String::new();
    for i in 0..ARTICLES {
        let (speaker, role) = speakers[i % speakers.len()];
        let quote = words[(i / 3) % words.len()];
        let other = words[(i / 7 + 2) % words.len()];
        let body = format!(
            "{role} {speaker} said on Monday: \\\"{quote}.\\\"\\n\\nHe added that {other} in talks with Iraq and Iran about Qasem Soleimani. Story {i}."
        );
        let _ = writeln!(
            out,
            r#"{{"id": "crash-{i}", "title": "{speaker} on Iran, story {i}", "body": "{body}", "published_at": "2020-01-{:02}", "source": "Wire {}"}}"#,
            1 + i % 28,
            i % 4
        );
    }
    out
}

fn ingest_command(db: &Path, input: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_communique-worker"));
    command
        .args(["ingest", "--threads", "2", "--db"])
        .arg(db)
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn check(db: &Path) -> (u64, String) {
    let store = SledStore::open(db, &StoreOptions::default()).unwrap();
    let problems = store.integrity_problems().unwrap();
    assert!(problems.is_empty(), "after a kill: {problems:#?}");
    (
        store.article_count().unwrap(),
        store.aggregate_snapshot().unwrap(),
    )
}

#[test]
fn killed_ingests_leave_whole_articles_and_a_rerun_completes_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.jsonl");
    std::fs::write(&input, synthetic_corpus()).unwrap();

    let clean_db = dir.path().join("clean");
    let started = Instant::now();
    assert!(
        ingest_command(&clean_db, &input)
            .status()
            .unwrap()
            .success()
    );
    // Kill points follow how long a whole ingest takes on this machine and build.
    let clean_run = started.elapsed();
    let (clean_count, clean_snapshot) = check(&clean_db);
    assert_eq!(clean_count, ARTICLES as u64);

    let db = dir.path().join("killed");
    // Kill points spread over the run (each run skips what earlier ones stored, then goes on).
    let mut partial_stores = 0;
    for percent in [10u32, 20, 30, 40, 55, 70, 85, 100] {
        let kill_after = clean_run * percent / 100;
        let mut child = ingest_command(&db, &input).spawn().unwrap();
        std::thread::sleep(kill_after);
        let _ = child.kill(); // SIGKILL on Unix: no chance to flush or clean up.
        child.wait().unwrap();
        let (count, _) = check(&db);
        eprintln!("killed after {kill_after:?}: {count} articles stored");
        if 0 < count && count < ARTICLES as u64 {
            partial_stores += 1;
        }
    }

    assert!(
        partial_stores > 0,
        "no kill landed in the middle of an ingest"
    );
    assert!(ingest_command(&db, &input).status().unwrap().success());
    let (count, snapshot) = check(&db);
    assert_eq!(count, ARTICLES as u64);
    assert!(
        snapshot == clean_snapshot,
        "aggregates after kills and a re-run differ from a clean ingest"
    );
}
