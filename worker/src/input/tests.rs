//! Tests over the whole input side: the seed articles, random inputs, and (ignored by default)
//! the full news corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use communique_domain::{Date, DateSource};

use super::*;

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds");
/// The news corpus for the ignored corpus run; `COMMUNIQUE_CORPUS` points elsewhere.
const DEFAULT_CORPUS: &str = "/work/shared/data/news-corpus.jsonl.gz";

fn seed(prefix: &str) -> RawArticle {
    let items: Vec<InputItem> =
        read_inputs(&[PathBuf::from(SEEDS)], &ReadOptions::default()).collect();
    assert_eq!(items.len(), 5, "five seeds expected");
    items
        .into_iter()
        .find_map(|item| match item {
            InputItem::Article(article)
                if Path::new(&article.origin.path)
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(prefix)) =>
            {
                Some(article)
            }
            InputItem::Rejected(rejection) => panic!("seed rejected: {rejection}"),
            InputItem::Article(_) => None,
        })
        .unwrap()
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// Site furniture that must not survive in any seed's title or body.
const SEED_FURNITURE: &[&str] = &[
    "Breaking News",
    "Picture: PA",
    "Armoured & Luxury",
    "Chauffeur Driven Cars",
    "Discreet Professional Protection",
    "Clark Mindock",
    "New York",
    "Friday 03 January 2020",
    "Who was powerful Iranian general",
    "Join our commenting forum",
    "Join thought-provoking conversations",
    "Thank you for registering",
    "Please refresh",
    "Iraq News",
    "By AFP",
    "[Kenzo Tribouillard/AFP]",
    "Do you like this article?",
    "Comment(s)",
    "Comment Policy",
    "\u{a0}",
];

/// Asserts that every sentence-like line of the seed file (ten words or more) is kept in the
/// title or body, once `removed` fragments (credits, furniture) are taken out of it.
fn assert_no_sentence_dropped(article: &RawArticle, removed: &[&str]) {
    let raw = std::fs::read_to_string(&article.origin.path).unwrap();
    for line in raw.lines() {
        let mut line = line.replace('\u{a0}', " ");
        for fragment in removed {
            line = line.replace(fragment, "");
        }
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.split(' ').count() < 10 {
            continue;
        }
        assert!(
            article.body.contains(&line) || article.title == line,
            "{}: line dropped: {line:?}",
            article.origin
        );
    }
}

fn assert_clean(article: &RawArticle) {
    for furniture in SEED_FURNITURE {
        assert!(
            !article.body.contains(furniture) && !article.title.contains(furniture),
            "{}: furniture {furniture:?} survived",
            article.origin
        );
    }
    assert!(!article.body.contains("\n\n\n") && !article.body.contains('\r'));
    assert!(
        article
            .body
            .split("\n\n")
            .all(|p| !p.is_empty() && p.trim() == p)
    );
}

#[test]
fn seed_000_date_line_and_caption_credit() {
    let article = seed("000");
    assert_eq!(article.id.as_deref(), Some("000_d9314bceb94995f8"));
    assert_eq!(
        article.title,
        "Boris Johnson finally responds to Iran crisis"
    );
    let published = article.published.clone().unwrap();
    assert_eq!(
        (published.date, published.source),
        (date("2020-01-05"), DateSource::DateLine)
    );
    assert!(article.authors.is_empty());
    assert!(article.body.starts_with(
        "Boris Johnson finally responds to Iran crisis calling Qasem Soleimani 'a threat to all our interests'.\n\nThe Prime Minister has finally responded"
    ));
    assert!(
        article
            .body
            .ends_with("Further conflict is in none of our interests.\"")
    );
    assert_clean(&article);
    assert_no_sentence_dropped(
        &article,
        &[" Picture: PA", " date 2020-01-05 Breaking News"],
    );
}

#[test]
fn seed_001_advert_before_the_headline() {
    let article = seed("001");
    assert_eq!(
        article.title,
        "Boris Johnson Speaks To Iraq Prime Minister As Tensions Rise"
    );
    assert!(
        article
            .body
            .starts_with("No 10 has urged Iraq to allow UK troops to stay")
    );
    // "if Iran hits back." and "On Sunday Mr Johnson said" were one line break apart.
    assert!(
        article
            .body
            .contains("if Iran hits back.\n\nOn Sunday Mr Johnson said")
    );
    // No full date anywhere in the text: "last July" and "the 2015 nuclear deal" are not dates.
    assert_eq!(article.published, None);
    assert_clean(&article);
    assert_no_sentence_dropped(&article, &[]);
}

#[test]
fn seed_002_no_date_and_captions_kept() {
    let article = seed("002");
    assert!(
        article
            .title
            .starts_with("Boris Johnson pleads with Iraq not to kick out UK and US forces")
    );
    assert!(
        article
            .title
            .ends_with("\u{2018}shared threat\u{2019} of ISIS")
    );
    assert!(
        article
            .body
            .starts_with("Boris Johnson today pleaded with Iraq")
    );
    assert_eq!(article.published, None);
    assert_clean(&article);
    assert_no_sentence_dropped(&article, &[]);
}

#[test]
fn seed_003_byline_block_and_comment_widget() {
    let article = seed("003");
    assert_eq!(
        article.title,
        "Trump claims Soleimani 'got caught' plotting to kill more Americans and claims general was hated in Iran"
    );
    assert_eq!(article.authors, ["Clark Mindock", "Richard Hall"]);
    let published = article.published.clone().unwrap();
    assert_eq!(
        (published.date, published.source),
        (date("2020-01-03"), DateSource::Byline)
    );
    assert!(article.body.starts_with(
        "Iranian general's death has sparked concerns of destablisation throughout the region, and US security alerts warning Americans to leave Iraq\n\nDonald Trump says"
    ));
    assert!(
        article
            .body
            .ends_with("we see that escalation is under way.\u{201d}")
    );
    assert_clean(&article);
    assert_no_sentence_dropped(
        &article,
        &[
            "Join thought-provoking conversations, follow other Independent readers and see their replies",
            "Please refresh the page or navigate to another page on the site to be automatically logged inPlease refresh your browser to be logged in",
        ],
    );
}

#[test]
fn seed_004_section_labels_agency_byline_and_duplicate_caption() {
    let article = seed("004");
    assert_eq!(
        article.title,
        "World leaders condemn Iran attacks on US troops in Iraq"
    );
    assert_eq!(article.authors, ["AFP"]);
    // "Wednesday (January 8th)" has no year anywhere in the text to resolve it with.
    assert_eq!(article.published, None);
    let caption =
        "NATO Secretary General Jens Stoltenberg delivers a speech during a press conference";
    assert!(article.body.starts_with(caption));
    assert_eq!(article.body.matches(caption).count(), 1);
    assert!(article.body.ends_with(
        "His deputy had earlier called for an urgent meeting to unite anti-US forces across Iraq."
    ));
    assert!(article.body.contains("\n\n'Urgent de-escalation'\n\n"));
    assert_clean(&article);
    assert_no_sentence_dropped(
        &article,
        &[
            " [Kenzo Tribouillard/AFP]",
            "Comment Policy * Denotes Required Field 1500 / 1500",
        ],
    );
}

/// A tiny deterministic xorshift64* generator: random enough for fuzzing, no dependencies.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Pieces that exercise the parsers' special cases when strung together at random.
const FRAGMENTS: &[&str] = &[
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
    "true",
    "1e999",
    "\"title\"",
    "\"body\"",
    "\"id\"",
    "\"authors\"",
    "\"published_at\"",
    "\"url\"",
    "date ",
    " date 2020-01-05 ",
    "2020-02-30",
    "2020-01-03T15:01:00Z",
    "By ",
    "By AFP",
    "Clark Mindock",
    ",Richard Hall",
    "Friday 03 January 2020 15:01 GMT",
    "January",
    "Jan.",
    "8th",
    "Wednesday (",
    "3",
    "31",
    "2020",
    "1987",
    "May",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "   ",
    "\t",
    "\u{a0}",
    "\u{feff}",
    "\u{200b}",
    "\u{ad}",
    "\u{2028}",
    "&amp;",
    "&#233;",
    "&#x1F600;",
    "&#0;",
    "&",
    ";",
    "Picture: PA",
    "Photo: ",
    "(Photo: AFP)",
    "[Name/AFP]",
    "[",
    "MH/PA",
    "REUTER",
    "Advertisement",
    "Join our commenting forum",
    "Comments",
    "0 Comment(s)",
    "Iraq News",
    "Security",
    "Armoured & Luxury",
    "The Prime Minister said.",
    "é",
    "😀",
    "ß",
    "İ",
    "\u{0}",
    "\u{1}",
    "\u{7f}",
    ".",
    "?",
    "'",
    "\u{2019}",
    "\u{201d}",
    "-",
    "/",
    "|",
    "    ",
    "Total vault cash.....",
    "1,987",
    "2020.5",
];

fn random_text(rng: &mut XorShift) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(60) {
        if rng.below(5) == 0 {
            // A random scalar value, often outside ASCII.
            let c = char::from_u32(rng.next() as u32 % 0x3_0000).unwrap_or('\u{fffd}');
            text.push(c);
        } else {
            text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
    }
    text
}

fn check_invariants(article: &RawArticle) {
    assert!(!article.body.contains("\n\n\n"), "{:?}", article.body);
    assert_eq!(article.body.trim(), article.body, "{:?}", article.body);
    assert!(!article.title.contains('\n'), "{:?}", article.title);
    assert!(!article.title.is_empty() || !article.body.is_empty());
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..20_000 {
        let text = if round % 3 == 0 {
            let bytes: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            random_text(&mut rng)
        };
        if let Ok(article) = parse_text_article(Origin::file("fuzz.txt"), Some(text.clone()), &text)
        {
            check_invariants(&article);
        }
        if let Ok(article) = parse_jsonl_record(Origin::line("fuzz.jsonl", 1), &text) {
            check_invariants(&article);
        }
        // Well-formed JSON around random strings reaches the cleaning and date code.
        let record = serde_json::json!({
            "title": random_text(&mut rng),
            "body": text,
            "published_at": if round % 2 == 0 { random_text(&mut rng) } else { "2020-01-03".to_owned() },
            "authors": [random_text(&mut rng)],
        })
        .to_string();
        if let Ok(article) = parse_jsonl_record(Origin::line("fuzz.jsonl", 2), &record) {
            check_invariants(&article);
        }
        let _ = infer_date(&text, &text);
        let cleaned = clean_body(&text);
        assert_eq!(
            clean_body(&cleaned),
            cleaned,
            "cleaning is idempotent for {text:?}"
        );
    }
}

/// Reads the whole corpus once:
/// `cargo test --release -p communique-worker -- --ignored --nocapture corpus_run`.
#[test]
#[ignore = "reads the 46 MB corpus; run explicitly"]
fn corpus_run() {
    let started = Instant::now();
    let mut articles = 0usize;
    let mut rejections: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut dates: BTreeMap<String, usize> = BTreeMap::new();
    let mut empty_bodies = 0usize;
    let corpus = std::env::var("COMMUNIQUE_CORPUS").unwrap_or_else(|_| DEFAULT_CORPUS.to_owned());
    for item in read_inputs(&[PathBuf::from(&corpus)], &ReadOptions::default()) {
        match item {
            InputItem::Article(article) => {
                articles += 1;
                empty_bodies += usize::from(article.body.is_empty());
                let source = article
                    .published
                    .as_ref()
                    .map_or("none".to_owned(), |published| {
                        format!("{:?}", published.source)
                    });
                *dates.entry(source).or_default() += 1;
            }
            InputItem::Rejected(rejection) => {
                let reason = rejection.reason.chars().take(60).collect::<String>();
                rejections
                    .entry(reason)
                    .or_default()
                    .push(rejection.origin.line.unwrap_or(0));
            }
        }
    }
    let elapsed = started.elapsed();
    println!("corpus: {articles} articles ({empty_bodies} headline-only) in {elapsed:?}");
    println!("dates by source: {dates:?}");
    for (reason, lines) in &rejections {
        println!(
            "rejected {}x: {reason} (lines {:?}...)",
            lines.len(),
            &lines[..lines.len().min(5)]
        );
    }
    // A record that has a body must never be rejected.
    let rejected_lines: Vec<u64> = rejections.values().flatten().copied().collect();
    if !rejected_lines.is_empty() {
        use std::io::BufRead;
        let file = std::fs::File::open(&corpus).unwrap();
        let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file));
        for (index, line) in reader.lines().enumerate() {
            if rejected_lines.contains(&(index as u64 + 1)) {
                let record: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                let body = record["body"].as_str().unwrap_or_default();
                assert!(
                    body.trim().is_empty(),
                    "line {} has a body but was rejected",
                    index + 1
                );
            }
        }
    }
    assert_eq!(articles + rejected_lines.len(), 29_389);
}
