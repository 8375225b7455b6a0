//! The worker end to end: every kind of bad input is rejected with a reason naming the file (and
//! line) while the good articles beside it are stored; re-ingesting is idempotent; a changed
//! article replaces its old annotations; the command line reports and exits accordingly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use communique_domain::query::{PageRequest, StatementFilter};
use communique_store::{ArticleParts, ArticleStore, SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::input::ReadOptions;
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, IngestReport, ingest};
use communique_worker::sink::StoreSink;

const GOOD_TEXT: &str = "date 2020-01-06\n\nMinister speaks on Iran\n\nThe Prime Minister Boris Johnson said: \"Iran must stop these reckless and dangerous attacks.\"\n\nHe added that Britain wanted calm.\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn run(paths: &[PathBuf], store: &SledStore, max_input_bytes: u64) -> IngestReport {
    let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
    let options = IngestOptions {
        read: ReadOptions {
            max_input_bytes,
            ..ReadOptions::default()
        },
        threads: 2,
        shard: None,
    };
    ingest(paths, &annotator, &StoreSink { store }, &options, &())
}

#[test]
fn bad_input_is_rejected_precisely_and_good_input_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    write(&inputs, "good.txt", GOOD_TEXT.as_bytes());
    write(
        &inputs,
        "bad-utf8.txt",
        b"Headline\n\nBody \xff\xfe with broken bytes\n",
    );
    write(&inputs, "empty.txt", b"");
    write(&inputs, "blank.txt", b"   \n\n  \n");
    write(
        &inputs,
        "binary.txt",
        &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3, 0, 0, 0],
    );
    write(
        &inputs,
        "huge.txt",
        format!("Headline\n\n{}", "word ".repeat(10_000)).as_bytes(),
    );
    let jsonl = [
        r#"{"id": "good-1", "title": "Iran warns", "body": "Iran's foreign minister said the US would pay.", "published_at": "2020-01-05"}"#,
        r#"{"id": "bad-json", "title": "#,
        r#"{"id": "no-text", "title": "", "body": ""}"#,
        r#"{"id": "brief-1", "title": "Headline-only brief about NATO"}"#,
        &format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)),
        r#"{"id": "good-2", "title": "EU calls for calm", "body": "The EU urged restraint."}"#,
    ]
    .join("\n");
    write(&inputs, "batch.jsonl", jsonl.as_bytes());

    let store = SledStore::open(&dir.path().join("db"), &StoreOptions::default()).unwrap();
    let report = run(std::slice::from_ref(&inputs), &store, 20_000);

    let root = format!("{}/", inputs.display());
    let rejections: Vec<String> = report
        .rejected
        .iter()
        .map(|r| format!("{}: {}", r.origin.trim_start_matches(&root), r.reason))
        .collect();
    assert_eq!(
        rejections,
        [
            "bad-utf8.txt: invalid UTF-8 at byte 15",
            "batch.jsonl:2: malformed JSON: EOF while parsing a value at column 27",
            "batch.jsonl:3: record has neither title nor body",
            "batch.jsonl:5: record is an array, not a JSON object",
            "binary.txt: binary file (NUL bytes)",
            "blank.txt: empty file",
            "empty.txt: empty file",
            "huge.txt: file is 50010 bytes; the limit is 20000 per text article (raise --max-input-bytes)",
        ]
    );
    assert_eq!(report.ingested, 4, "{report:#?}");
    for id in ["good", "good-1", "brief-1", "good-2"] {
        assert!(
            store
                .get_article(id, ArticleParts::Metadata)
                .unwrap()
                .is_some(),
            "{id} stored"
        );
    }
    assert_eq!(store.article_count().unwrap(), 4);
}

#[test]
fn reingesting_is_idempotent_and_a_changed_article_replaces_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let path = write(&inputs, "minister.txt", GOOD_TEXT.as_bytes());
    let store = SledStore::open(&dir.path().join("db"), &StoreOptions::default()).unwrap();

    let first = run(std::slice::from_ref(&path), &store, 1 << 20);
    assert_eq!((first.ingested, first.unchanged), (1, 0), "{first:#?}");
    let again = run(std::slice::from_ref(&path), &store, 1 << 20);
    assert_eq!((again.ingested, again.unchanged), (0, 1), "{again:#?}");

    let before = store
        .get_article("minister", ArticleParts::Full)
        .unwrap()
        .unwrap();
    assert!(
        before
            .article
            .statements
            .iter()
            .any(|s| s.text.contains("reckless"))
    );

    let changed = GOOD_TEXT.replace(
        "Iran must stop these reckless and dangerous attacks.",
        "We welcome the talks in Geneva.",
    );
    write(&inputs, "minister.txt", changed.as_bytes());
    let replaced = run(&[path], &store, 1 << 20);
    assert_eq!(
        (replaced.ingested, replaced.unchanged),
        (1, 0),
        "{replaced:#?}"
    );
    assert_eq!(store.article_count().unwrap(), 1);
    let after = store
        .get_article("minister", ArticleParts::Full)
        .unwrap()
        .unwrap();
    assert!(after.article.body.contains("Geneva"));
    assert!(
        after
            .article
            .statements
            .iter()
            .all(|s| !s.text.contains("reckless"))
    );
    // No statement index still points at the old words.
    let everything = StatementFilter::default();
    let listed = store
        .list_statements(
            &everything,
            &PageRequest {
                size: 100,
                resume_after: None,
            },
        )
        .unwrap();
    assert!(
        listed
            .items
            .iter()
            .all(|s| !s.statement.text.contains("reckless"))
    );
}

#[test]
fn the_command_line_reports_and_exits_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", GOOD_TEXT.as_bytes());
    let empty = write(dir.path(), "empty.txt", b"");
    let db = dir.path().join("db");
    let worker = env!("CARGO_BIN_EXE_communique-worker");

    let output = Command::new(worker)
        .args(["ingest", "--json", "--db"])
        .arg(&db)
        .arg(&good)
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ingested"], 1);
    assert_eq!(
        report["rejected"][0]["origin"]
            .as_str()
            .map(|o| o.ends_with("empty.txt")),
        Some(true)
    );

    let output = Command::new(worker)
        .args(["ingest", "--db"])
        .arg(&db)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("ingested 0, unchanged 1, rejected 0"),
        "{text}"
    );

    // While one process holds the store, another gets a clear error.
    let _held = SledStore::open(&db, &StoreOptions::default()).unwrap();
    let output = Command::new(worker)
        .args(["ingest", "--db"])
        .arg(&db)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("locked"),
        "{output:?}"
    );
}

#[test]
fn shards_split_the_input_between_workers_exactly() {
    use communique_worker::pipeline::Shard;

    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"id": "a{i}", "title": "Story {i}", "body": "Body of story {i}."}}"#))
        .collect();
    let path = write(dir.path(), "batch.jsonl", lines.join("\n").as_bytes());
    let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
    let mut seen = Vec::new();
    for index in 0..3 {
        let store = SledStore::open(
            &dir.path().join(format!("db{index}")),
            &StoreOptions::default(),
        )
        .unwrap();
        let options = IngestOptions {
            shard: Some(Shard::new(index, 3).unwrap()),
            ..IngestOptions::default()
        };
        let report = ingest(
            std::slice::from_ref(&path),
            &annotator,
            &StoreSink { store: &store },
            &options,
            &(),
        );
        assert!(report.is_clean(), "{report:#?}");
        for i in 0..10 {
            if store
                .get_article(&format!("a{i}"), ArticleParts::Metadata)
                .unwrap()
                .is_some()
            {
                seen.push(i);
            }
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..10).collect::<Vec<_>>(),
        "every article in exactly one shard"
    );
    assert!(Shard::new(3, 3).is_err());
    assert!(Shard::new(0, 0).is_err());
}

#[test]
fn undated_articles_get_a_date_flagged_by_how_it_was_found() {
    use communique_domain::DateSource;
    let dir = tempfile::tempdir().unwrap();
    // No date line and no day named: the officials' roles bound the date, only roughly.
    let roles_only = write(
        dir.path(),
        "roles.txt",
        b"Leaders speak on Iran\n\nPrime Minister Boris Johnson said: \"Iran must stop these attacks.\"\n\nUS Secretary of State Mike Pompeo said: \"We seek de-escalation.\"\n",
    );
    // A weekday and day with no year: the roles choose the year, and the day is exact.
    let named_day = write(
        dir.path(),
        "named.txt",
        b"Leaders speak on Iran\n\nOn Wednesday (January 8th) Prime Minister Boris Johnson said: \"Iran must stop these attacks.\"\n\nUS Secretary of State Mike Pompeo said: \"We seek de-escalation.\"\n",
    );
    let db = tempfile::tempdir().unwrap();
    let store = SledStore::open(db.path(), &StoreOptions::default()).unwrap();
    let report = run(&[roles_only, named_day], &store, 1 << 20);
    assert_eq!(report.ingested, 2, "{report:?}");
    let published = |title_file: &str| {
        let page = store
            .list_articles(
                &Default::default(),
                ArticleParts::Metadata,
                &PageRequest {
                    size: 10,
                    resume_after: None,
                },
            )
            .unwrap();
        page.items
            .into_iter()
            .find(|stored| stored.article.id.contains(title_file))
            .and_then(|stored| stored.article.published)
            .unwrap_or_else(|| panic!("{title_file} has no date"))
    };
    let rough = published("roles");
    assert_eq!(rough.source, DateSource::Estimated);
    // Johnson PM from 2019-07-24, Pompeo Secretary of State until 2021-01-20.
    let rough_day = rough.date.to_string();
    assert!(
        ("2019-07-24".."2021-01-21").contains(&rough_day.as_str()),
        "{rough_day}"
    );
    let exact = published("named");
    assert_eq!(exact.source, DateSource::Text);
    assert_eq!(exact.date.to_string(), "2020-01-08");
}

/// A sink that keeps the ids of the articles it is given, in the order given.
#[derive(Default)]
struct RecordingSink {
    written: std::sync::Mutex<Vec<String>>,
}

impl communique_worker::sink::ArticleSink for RecordingSink {
    fn stored_hash(
        &self,
        _article_id: &str,
    ) -> Result<Option<String>, communique_worker::sink::SinkError> {
        Ok(None)
    }

    fn put(
        &self,
        article: communique_domain::AnnotatedArticle,
    ) -> Result<Option<communique_store::PutOutcome>, communique_worker::sink::SinkError> {
        self.written.lock().unwrap().push(article.article.id);
        Ok(Some(communique_store::PutOutcome::Inserted))
    }

    fn finish(
        &self,
    ) -> Result<communique_worker::sink::SinkSummary, communique_worker::sink::SinkError> {
        Ok(communique_worker::sink::SinkSummary::default())
    }
}

#[test]
fn articles_reach_the_sink_in_input_order_whichever_thread_finishes_first() {
    let dir = tempfile::tempdir().unwrap();
    // Long articles among short ones, and lines that are rejected or skipped: with four
    // threads, a short article behind a long one is annotated first.
    let long_body =
        "The Prime Minister Boris Johnson said: \\\"Iran must stop these reckless attacks.\\\" "
            .repeat(400);
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for i in 0..60 {
        match i % 10 {
            0 => lines.push(format!(
                r#"{{"id": "a{i}", "title": "Long {i}", "body": "{long_body}"}}"#
            )),
            7 => {
                lines.push(r#"{"id": "broken", "title": "#.to_owned());
                continue;
            }
            _ => lines.push(format!(
                r#"{{"id": "a{i}", "title": "Short {i}", "body": "Body of story {i}."}}"#
            )),
        }
        expected.push(format!("a{i}"));
    }
    let path = write(dir.path(), "mixed.jsonl", lines.join("\n").as_bytes());
    let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
    let sink = RecordingSink::default();
    let options = IngestOptions {
        threads: 4,
        ..IngestOptions::default()
    };
    let report = ingest(
        std::slice::from_ref(&path),
        &annotator,
        &sink,
        &options,
        &(),
    );
    assert_eq!(report.ingested, 54, "{report:#?}");
    assert_eq!(report.rejected.len(), 6, "{report:#?}");
    assert_eq!(*sink.written.lock().unwrap(), expected);
}
