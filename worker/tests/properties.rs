//! Property tests over the worker's public entry points, bounded to a few seconds for CI: the
//! input reader over arbitrary bytes in files, the JSONL record parser over arbitrary JSON, the
//! cleaner over arbitrary text, and the annotator (so also its quote scanner) over text full of
//! quote marks. None may panic, and every span must lie inside its text on character boundaries.
//! The seeded random tests in `src/input/tests.rs` and `src/annotate/tests.rs` run many more
//! cases of a fixed sequence; these explore new cases each run and shrink a failure to its core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::LazyLock;

use communique_domain::TextField;
use communique_worker::annotate::{Annotation, Annotator, ArticleText};
use communique_worker::input::{
    InputFormat, InputItem, Origin, RawArticle, ReadOptions, clean_body, clean_title,
    parse_jsonl_record, read_inputs,
};
use communique_worker::knowledge_base;
use proptest::prelude::*;
use proptest::test_runner::Config;

static ANNOTATOR: LazyLock<Annotator> =
    LazyLock::new(|| Annotator::new(&knowledge_base::load(&[]).unwrap()));

/// `cases` per property, or `PROPTEST_CASES` for a longer run: `PROPTEST_CASES=20000 cargo test
/// --release -p communique-worker --test properties`.
fn config(cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(cases),
        // No regression files in the source tree: a failure prints its shrunk input instead.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Pieces that reach the special cases of the parsers, the cleaner and the quote scanner.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u00e9",
    "\\ud800",
    "null",
    "1e999",
    "\"title\": ",
    "\"body\": ",
    "\"id\": ",
    "\"published_at\": ",
    "date 2020-01-05",
    "By ",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\u{a0}",
    "\u{feff}",
    "\u{200b}",
    "&amp;",
    "&#0;",
    "Picture: PA",
    "Advertisement",
    "\u{0}",
    "\u{1}",
    "é",
    "😀",
    "İ",
    "'",
    "’",
    "‘",
    "“",
    "”",
    "«",
    "»",
    "„",
    "said",
    "told reporters",
    "Boris Johnson",
    "Iran",
    "Mr Johnson",
    "NATO",
    ".",
    "?",
    "—",
    "-",
    "(",
];

/// Text strung from `PIECES` and arbitrary characters.
fn tricky_text(max_pieces: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..max_pieces).prop_map(|pieces| pieces.concat())
}

/// Bytes that are mostly text, with invalid UTF-8 and NUL bytes mixed in.
fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(
            prop_oneof![
                6 => tricky_text(8).prop_map(String::into_bytes),
                1 => proptest::collection::vec(any::<u8>(), 1..4),
            ],
            0..60
        )
        .prop_map(|chunks| chunks.concat()),
    ]
}

fn check_article(article: &RawArticle) {
    assert!(!article.title.is_empty() || !article.body.is_empty());
    assert!(!article.title.contains('\n'), "{:?}", article.title);
    assert_eq!(article.body.trim(), article.body);
    assert!(!article.body.contains("\n\n\n"), "{:?}", article.body);
}

/// Every span of an annotation lies inside its field, on character boundaries, and says what
/// the text says; every entity it refers to is listed.
fn check_annotation(title: &str, body: &str, annotation: &Annotation) {
    let field = |f: TextField| if f == TextField::Title { title } else { body };
    let listed = |id: &str| annotation.entities.iter().any(|e| e.id == id);
    for mention in &annotation.mentions {
        let span = &mention.span;
        assert!(span.start < span.end, "{mention:?}");
        let text = field(span.field).get(span.start as usize..span.end as usize);
        assert_eq!(text, Some(mention.text.as_str()), "{mention:?}");
        assert!(listed(&mention.entity_id), "{mention:?}");
    }
    for (ordinal, statement) in annotation.statements.iter().enumerate() {
        assert_eq!(statement.ordinal as usize, ordinal);
        let span = &statement.span;
        assert!(span.start < span.end, "{statement:?}");
        let text = field(span.field).get(span.start as usize..span.end as usize);
        assert_eq!(text, Some(statement.text.as_str()), "{statement:?}");
        for target in &statement.targets {
            assert!((-1.0..=1.0).contains(&target.polarity), "{statement:?}");
            assert!(listed(&target.entity_id), "{statement:?}");
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// Whatever a file holds, reading it yields articles that keep the cleaner's promises or
    /// rejections naming the file (and, for JSONL, a line inside it), and never panics.
    #[test]
    fn the_reader_survives_arbitrary_files(
        bytes in tricky_bytes(),
        format in prop_oneof![
            Just(InputFormat::Auto),
            Just(InputFormat::Text),
            Just(InputFormat::Jsonl)
        ],
        max_input_bytes in prop_oneof![Just(64u64), Just(10 * 1024 * 1024)],
        gzip in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("input");
        let stored = if gzip {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&bytes).unwrap();
            encoder.finish().unwrap()
        } else {
            bytes.clone()
        };
        std::fs::write(&path, &stored).unwrap();
        let options = ReadOptions { format, max_input_bytes };
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let items: Vec<InputItem> = read_inputs(std::slice::from_ref(&path), &options).collect();
        prop_assert!(items.len() as u64 <= lines);
        for item in &items {
            match item {
                InputItem::Article(article) => {
                    check_article(article);
                    prop_assert_eq!(&article.origin.path, &path.display().to_string());
                }
                InputItem::Rejected(rejection) => {
                    prop_assert_eq!(&rejection.origin.path, &path.display().to_string());
                    prop_assert!(rejection.origin.line.is_none_or(|line| (1..=lines).contains(&line)));
                    prop_assert!(!rejection.reason.is_empty());
                }
            }
        }
    }

    /// Any line, as a JSONL record, parses to an article keeping the cleaner's promises or to a
    /// rejection at that line.
    #[test]
    fn any_line_is_a_record_or_a_rejection_at_its_line(
        line in prop_oneof![tricky_text(40), any::<String>()],
        title in tricky_text(12),
        body in tricky_text(60),
    ) {
        let origin = Origin::line("fuzz.jsonl", 7);
        match parse_jsonl_record(origin.clone(), &line) {
            Ok(article) => check_article(&article),
            Err(rejection) => prop_assert_eq!(rejection.origin, origin.clone()),
        }
        let record = serde_json::json!({"id": "fuzz-1", "title": title, "body": body}).to_string();
        match parse_jsonl_record(origin.clone(), &record) {
            Ok(article) => check_article(&article),
            Err(rejection) => prop_assert_eq!(rejection.origin, origin),
        }
    }

    /// Cleaning is idempotent, leaves no run of blank lines and no title line break.
    #[test]
    fn cleaning_is_idempotent(text in prop_oneof![tricky_text(80), any::<String>()]) {
        let body = clean_body(&text);
        prop_assert_eq!(clean_body(&body), body.clone());
        prop_assert!(!body.contains("\n\n\n"));
        prop_assert_eq!(body.trim(), body.as_str());
        prop_assert!(!clean_title(&text).contains('\n'));
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Quote marks in any number and order (unbalanced, nested, mixed families, at paragraph
    /// ends) never make the annotator panic or produce a span off the text or mid-character.
    #[test]
    fn the_annotator_keeps_spans_on_the_text(
        title in tricky_text(8),
        body in prop_oneof![4 => tricky_text(200), 1 => any::<String>()],
        dated in any::<bool>(),
    ) {
        let annotation = ANNOTATOR.annotate(&ArticleText {
            title: &title,
            body: &body,
            published: if dated { "2020-01-06".parse().ok() } else { None },
        });
        check_annotation(&title, &body, &annotation);
    }
}
