//! The store's contract, exercised on sled: idempotent and replacing writes, indexes that
//! follow replacements, pagination, search and stance aggregates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use communique_domain::query::{
    ArticleFilter, EntitySearch, MatchType, Page, PageRequest, StanceLabel, StanceQuery, StanceRow,
    StatementFilter,
};
use communique_domain::{
    Act, AnnotatedArticle, Article, DateSource, Entity, EntityKind, Government, Mention,
    PublishedDate, Span, Speaker, Statement, StatementKind, Target, TextField, content_hash,
};
use communique_store::{
    ArticleParts, ArticleStore, PutOutcome, SledStore, StoreError, StoreOptions,
};

/// Every stance row, read in pages of two so that paging is exercised by every stance test.
trait StanceRows {
    fn stance_rows(&self, query: &StanceQuery) -> Result<Vec<StanceRow>, StoreError>;
}

impl StanceRows for SledStore {
    fn stance_rows(&self, query: &StanceQuery) -> Result<Vec<StanceRow>, StoreError> {
        let mut rows = Vec::new();
        let mut page = PageRequest {
            size: 2,
            resume_after: None,
        };
        loop {
            let result = self.compare_stances(query, &page)?;
            assert!(result.items.len() <= 2);
            rows.extend(result.items);
            match result.next {
                Some(next) => page.resume_after = Some(next),
                None => return Ok(rows),
            }
        }
    }
}

fn entity(id: &str, name: &str, kind: EntityKind) -> Entity {
    Entity {
        id: id.into(),
        name: name.into(),
        kind,
        aliases: vec![],
        affiliations: vec![],
        government_code: None,
    }
}

/// An article in which `speaker` (speaking for `government`) says `words` about Iran.
fn article(
    id: &str,
    date: &str,
    speaker: (&str, &str),
    government: &str,
    words: &str,
    polarity: f32,
) -> AnnotatedArticle {
    let body = format!("{} said: \"{words}\" about Iran.", speaker.1);
    let iran_start = body.rfind("Iran").unwrap() as u32;
    let quote_start = body.find(words).unwrap() as u32;
    let article = Article {
        id: id.into(),
        title: format!("{} on Iran", speaker.1),
        content_hash: content_hash("t", &body),
        url: None,
        source: Some("Test Wire".into()),
        authors: vec![],
        published: Some(PublishedDate {
            date: date.parse().unwrap(),
            source: DateSource::Metadata,
        }),
        mentions: vec![
            Mention {
                entity_id: speaker.0.into(),
                entity_name: speaker.1.into(),
                kind: EntityKind::Person,
                text: speaker.1.into(),
                span: Span {
                    field: TextField::Body,
                    start: 0,
                    end: speaker.1.len() as u32,
                },
            },
            Mention {
                entity_id: "irn".into(),
                entity_name: "Iran".into(),
                kind: EntityKind::Country,
                text: "Iran".into(),
                span: Span {
                    field: TextField::Body,
                    start: iran_start,
                    end: iran_start + 4,
                },
            },
        ],
        statements: vec![Statement {
            ordinal: 0,
            text: words.into(),
            kind: StatementKind::Direct,
            speaker: Speaker {
                entity_id: Some(speaker.0.into()),
                name: speaker.1.into(),
            },
            governments: vec![Government {
                code: government.into(),
                name: government.into(),
            }],
            targets: vec![Target {
                entity_id: "irn".into(),
                name: "Iran".into(),
                polarity,
            }],
            act: Act::Criticize,
            span: Span {
                field: TextField::Body,
                start: quote_start,
                end: quote_start + words.len() as u32,
            },
        }],
        duplicate_of: None,
        body,
    };
    let mut iran = entity("irn", "Iran", EntityKind::Country);
    iran.aliases.push("Islamic Republic of Iran".into());
    iran.government_code = Some("IRN".into());
    AnnotatedArticle {
        article,
        entities: vec![entity(speaker.0, speaker.1, EntityKind::Person), iran],
    }
}

/// Opens a database a test has just closed. sled's I/O threads may hold its file, and so its
/// lock, for a moment after the last handle is dropped (longer on a loaded machine), so a lock
/// error is retried for a while; any other outcome is returned at once.
fn reopen<T, E>(open: impl Fn() -> Result<T, E>, is_lock: impl Fn(&E) -> bool) -> Result<T, E> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match open() {
            Err(error) if is_lock(&error) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            outcome => return outcome,
        }
    }
}

fn reopen_sled(path: &std::path::Path) -> sled::Db {
    reopen(
        || sled::open(path),
        |error| error.to_string().contains("could not acquire lock"),
    )
    .unwrap()
}

fn reopen_store(path: &std::path::Path) -> Result<SledStore, StoreError> {
    reopen_store_with(path, &StoreOptions::default())
}

fn reopen_store_with(
    path: &std::path::Path,
    options: &StoreOptions,
) -> Result<SledStore, StoreError> {
    reopen(
        || SledStore::open(path, options),
        |error| matches!(error, StoreError::Locked { .. }),
    )
}

fn open() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
    (dir, store)
}

fn page(size: usize) -> PageRequest {
    PageRequest {
        size,
        resume_after: None,
    }
}

fn stance(store: &SledStore, target: &str) -> Vec<(String, f32, u32)> {
    store
        .stance_rows(&StanceQuery {
            target_entity_id: target.into(),
            max_evidence: 3,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row.government.code,
                row.tally.score(),
                row.tally.statement_count,
            )
        })
        .collect()
}

#[test]
fn same_article_twice_is_unchanged_and_replacement_undoes_old_contributions() {
    let (_dir, store) = open();
    let first = article(
        "a1",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Iran must stop",
        -0.8,
    );
    assert_eq!(
        store.put_article(first.clone()).unwrap(),
        PutOutcome::Inserted
    );
    assert_eq!(store.put_article(first).unwrap(), PutOutcome::Unchanged);
    assert_eq!(store.article_count().unwrap(), 1);

    let changed = article(
        "a1",
        "2020-01-05",
        ("emmanuel-macron", "Emmanuel Macron"),
        "FRA",
        "We welcome Iran's offer",
        0.6,
    );
    assert_eq!(
        store.put_article(changed.clone()).unwrap(),
        PutOutcome::Replaced
    );
    assert_eq!(store.article_count().unwrap(), 1);
    // Nothing of the old version is left: no stance, no entity, no index entry.
    assert_eq!(stance(&store, "irn"), vec![("FRA".to_owned(), 0.6, 1)]);
    assert!(store.get_entity("boris-johnson").unwrap().is_none());
    let by_gbr = StatementFilter {
        government_code: Some("GBR".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_statements(&by_gbr, &page(10))
            .unwrap()
            .items
            .is_empty()
    );
    let filter = ArticleFilter {
        entity_id: Some("boris-johnson".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_articles(&filter, ArticleParts::Metadata, &page(10))
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(store.get_entity("irn").unwrap().unwrap().article_count, 1);

    // The same state as a clean store holding only the new version.
    let (_dir2, clean) = open();
    clean.put_article(changed).unwrap();
    assert_eq!(stance(&clean, "irn"), stance(&store, "irn"));
    assert_eq!(
        clean.get_entity("irn").unwrap(),
        store.get_entity("irn").unwrap()
    );
}

#[test]
fn repeated_words_count_once_with_every_source() {
    let (_dir, store) = open();
    for id in ["a1", "a2"] {
        let mut a = article(
            id,
            "2020-01-05",
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            "We will not lament his death",
            -0.7,
        );
        a.article.content_hash = content_hash(id, "distinct");
        store.put_article(a).unwrap();
    }
    let rows = store
        .stance_rows(&StanceQuery {
            target_entity_id: "irn".into(),
            max_evidence: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].tally.statement_count, 1);
    assert_eq!(rows[0].tally.label(), StanceLabel::Opposes);
    assert_eq!(
        *rows[0].evidence[0].source_article_ids,
        ["a1".to_owned(), "a2".to_owned()]
    );
}

#[test]
fn lists_page_newest_first_and_filter_by_date() {
    let (_dir, store) = open();
    for (i, date) in [
        "2020-01-03",
        "2020-01-05",
        "2020-01-04",
        "2020-01-06",
        "2020-01-07",
    ]
    .iter()
    .enumerate()
    {
        let mut a = article(
            &format!("a{i}"),
            date,
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            &format!("words {i}"),
            -0.5,
        );
        a.article.content_hash = content_hash(&i.to_string(), "");
        store.put_article(a).unwrap();
    }
    let mut seen = Vec::new();
    let mut request = page(2);
    loop {
        let result = store
            .list_articles(&ArticleFilter::default(), ArticleParts::Metadata, &request)
            .unwrap();
        seen.extend(
            result
                .items
                .iter()
                .map(|a| a.article.published_date().unwrap().to_string()),
        );
        match result.next {
            Some(next) => request.resume_after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "2020-01-07",
            "2020-01-06",
            "2020-01-05",
            "2020-01-04",
            "2020-01-03"
        ]
    );

    let filter = ArticleFilter {
        government_code: Some("GBR".into()),
        published_after: "2020-01-04".parse().ok(),
        published_before: "2020-01-06".parse().ok(),
        ..Default::default()
    };
    let result = store
        .list_articles(&filter, ArticleParts::Full, &page(10))
        .unwrap();
    let dates: Vec<String> = result
        .items
        .iter()
        .map(|a| a.article.published_date().unwrap().to_string())
        .collect();
    assert_eq!(dates, ["2020-01-06", "2020-01-05", "2020-01-04"]);
    assert!(!result.items[0].article.body.is_empty());

    // A position from another index is refused.
    let other = StatementFilter {
        government_code: Some("GBR".into()),
        ..Default::default()
    };
    let position = store
        .list_statements(&other, &page(1))
        .unwrap()
        .next
        .unwrap();
    let bad = PageRequest {
        size: 2,
        resume_after: Some(position),
    };
    assert!(matches!(
        store.list_articles(&ArticleFilter::default(), ArticleParts::Metadata, &bad),
        Err(StoreError::BadPagePosition)
    ));
}

/// Article "a1": Qasem Soleimani, for Iran, about Iran.
fn soleimani_in_iran() -> AnnotatedArticle {
    article(
        "a1",
        "2020-01-05",
        ("qasem-soleimani", "Qasem Soleimani"),
        "IRN",
        "words",
        -0.5,
    )
}

#[test]
fn search_ranks_exact_then_prefix_then_fuzzy() {
    let (_dir, store) = open();
    store.put_article(soleimani_in_iran()).unwrap();
    let search = |q: &str| {
        store
            .search_entities(
                &EntitySearch {
                    query: q.into(),
                    kinds: vec![],
                },
                &page(10),
            )
            .unwrap()
            .items
    };
    let exact = search("qasem soleimani");
    assert_eq!(exact[0].summary.entity.id, "qasem-soleimani");
    assert_eq!(exact[0].match_type, MatchType::Exact);
    assert_eq!(search("Qasem")[0].match_type, MatchType::Prefix);
    for typo in ["Soleimany", "Qassim Suleimani"] {
        let found = search(typo);
        assert_eq!(
            found.first().map(|m| m.summary.entity.id.as_str()),
            Some("qasem-soleimani"),
            "{typo}"
        );
        assert_eq!(found[0].match_type, MatchType::Fuzzy);
    }
    assert_eq!(
        search("islamic republic of iran")[0].summary.entity.id,
        "irn"
    );
    let only_people = store
        .search_entities(
            &EntitySearch {
                query: "iran".into(),
                kinds: vec![EntityKind::Person],
            },
            &page(10),
        )
        .unwrap();
    assert!(only_people.items.is_empty());
}

#[test]
fn search_pages_follow_one_ranking_when_it_stops_at_a_full_page() {
    let (_dir, store) = open();
    // Names that start with the query, of several lengths, and one that only shares its first
    // letters: the early stop must not change the order of what it returns.
    let names = [
        "Iranov Ba",
        "Iranson Ab",
        "Iranski Abcde",
        "Irving Fisher",
        "Iranow Abc",
        "Iranski Abcdefg",
        "Iranik A",
        "Iranova Abcd",
        // The third 10-byte name: first in key order, last in rank order (ties go by id).
        "Iranoa Xyz",
    ];
    for (n, name) in names.iter().enumerate() {
        store
            .put_article(article(
                &format!("a{n}"),
                "2020-01-05",
                (&format!("person-{n}"), name),
                "GBR",
                &format!("words {n}"),
                -0.5,
            ))
            .unwrap();
    }
    let search = |page: PageRequest| {
        store
            .search_entities(
                &EntitySearch {
                    query: "iran".into(),
                    kinds: vec![],
                },
                &page,
            )
            .unwrap()
    };
    let whole: Vec<(String, MatchType)> = search(page(100))
        .items
        .into_iter()
        .filter(|m| m.match_type != MatchType::Fuzzy)
        .map(|m| (m.summary.entity.id, m.match_type))
        .collect();
    // Iran itself, then the eight "Iran..." people, shortest name first.
    assert_eq!(whole.len(), 9, "{whole:?}");
    assert_eq!(whole[0], ("irn".to_owned(), MatchType::Exact));
    let mut paged = Vec::new();
    let mut next = None;
    loop {
        let found = search(PageRequest {
            size: 2,
            resume_after: next,
        });
        paged.extend(
            found
                .items
                .into_iter()
                .map(|m| (m.summary.entity.id, m.match_type)),
        );
        next = found.next;
        if next.is_none() || paged.len() >= whole.len() {
            break;
        }
    }
    assert_eq!(paged[..whole.len()], whole[..]);
}

#[test]
fn invalid_articles_are_refused_before_writing() {
    let (_dir, store) = open();
    let mut bad = article(
        "a1",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "words",
        -0.5,
    );
    bad.article.mentions[0].span.end = 10_000;
    let error = store.put_article(bad).unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidArticle { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("mentions[0].span"), "{error}");
    assert_eq!(store.article_count().unwrap(), 0);
}

#[test]
fn a_second_open_gets_a_clear_lock_error() {
    let (dir, _store) = open();
    let error = SledStore::open(dir.path(), &StoreOptions::default())
        .err()
        .unwrap();
    assert!(matches!(error, StoreError::Locked { .. }), "{error}");
    assert!(error.to_string().contains("--server"), "{error}");
}

#[test]
fn mentions_list_with_their_sentences() {
    let (_dir, store) = open();
    store
        .put_article(article(
            "a1",
            "2020-01-05",
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            "Iran must stop",
            -0.8,
        ))
        .unwrap();
    let mentions = store.list_mentions("irn", &page(10)).unwrap().items;
    assert_eq!(mentions.len(), 1);
    assert_eq!(mentions[0].article_id, "a1");
    assert!(
        mentions[0].sentence.contains("about Iran"),
        "{}",
        mentions[0].sentence
    );
}

/// Articles that share speakers, targets and words, with a replacement and a repeat.
fn mixed_articles() -> Vec<AnnotatedArticle> {
    let speakers = [
        ("boris-johnson", "Boris Johnson", "GBR"),
        ("emmanuel-macron", "Emmanuel Macron", "FRA"),
    ];
    let words = ["Iran must stop", "We call for restraint", "We condemn it"];
    let mut articles = Vec::new();
    for i in 0..12 {
        let (id, name, code) = speakers[i % 2];
        let mut a = article(
            &format!("a{}", i % 9),
            &format!("2020-01-{:02}", 1 + i),
            (id, name),
            code,
            words[i % 3],
            -0.2 * (i % 4) as f32,
        );
        a.article.content_hash = content_hash(&format!("v{i}"), "");
        articles.push(a);
    }
    articles
}

/// Stores `articles` one at a time into one fresh store and in one call into another, checks
/// that both give the same outcomes, aggregates and stance rows and that the call's store passes
/// the integrity check; returns the call's store and the outcomes.
fn store_both_ways(
    articles: &[AnnotatedArticle],
) -> ((tempfile::TempDir, SledStore), Vec<PutOutcome>) {
    let (_dir, one_by_one) = open();
    let outcomes: Vec<PutOutcome> = articles
        .iter()
        .map(|a| one_by_one.put_article(a.clone()).unwrap())
        .collect();
    let (dir, batched) = open();
    let batch_outcomes: Vec<PutOutcome> = batched
        .put_articles(articles.to_vec())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(batch_outcomes, outcomes);
    assert!(batched.integrity_problems().unwrap().is_empty());
    assert_eq!(
        batched.aggregate_snapshot().unwrap(),
        one_by_one.aggregate_snapshot().unwrap()
    );
    let query = StanceQuery {
        target_entity_id: "irn".into(),
        max_evidence: 5,
        ..Default::default()
    };
    assert_eq!(
        batched.stance_rows(&query).unwrap(),
        one_by_one.stance_rows(&query).unwrap()
    );
    ((dir, batched), outcomes)
}

fn replaced(outcomes: &[PutOutcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| **o == PutOutcome::Replaced)
        .count()
}

#[test]
fn a_batch_stores_the_same_as_one_article_at_a_time() {
    let articles = mixed_articles();
    let ((_dir, batched), outcomes) = store_both_ways(&articles);
    // Ids a0..a2 come twice: the second version replaces the first, also within the batch.
    assert_eq!(replaced(&outcomes), 3);
    assert_eq!(batched.article_count().unwrap(), 9);
    // The same batch again changes nothing.
    assert!(
        batched
            .put_articles(articles[9..].to_vec())
            .unwrap()
            .into_iter()
            .all(|o| o.unwrap() == PutOutcome::Unchanged)
    );
}

/// More articles than one atomic batch holds: replacements, repeated claims and a syndicated
/// copy each span two batches, and one article comes three times in a row.
fn articles_of_several_batches() -> Vec<AnnotatedArticle> {
    let speakers = [
        ("boris-johnson", "Boris Johnson", "GBR"),
        ("emmanuel-macron", "Emmanuel Macron", "FRA"),
        ("olaf-scholz", "Olaf Scholz", "DEU"),
    ];
    let words = [
        "Iran must stop",
        "We call for restraint",
        "We condemn it",
        "No comment",
    ];
    let mut articles = Vec::new();
    for i in 0..2200 {
        let (id, name, code) = speakers[i % 3];
        // Ids repeat from the 1500th on: each replaces a version one or two batches earlier.
        let mut a = article(
            &format!("p{}", i % 1500),
            &format!("2020-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            (id, name),
            code,
            words[i % 4],
            -0.1 * (i % 7) as f32,
        );
        a.article.content_hash = content_hash(&format!("v{i}"), "");
        articles.push(a);
    }
    // The last article of one batch and its copy, the first of the next.
    articles.insert(
        1023,
        wire_article("wire-original", "Iran drops deal limits", WIRE_STORY),
    );
    articles.insert(
        1024,
        wire_article("wire-copy", "Iran ends nuclear caps", WIRE_STORY),
    );

    // The same article three times: the second stands alone, a batch that changes nothing,
    // between two that do.
    let repeated = articles[1100].clone();
    articles.splice(1101..1101, [repeated.clone(), repeated]);
    articles
}

/// A call written as several batches, each staged while the one before is applied.
#[test]
fn a_call_of_several_batches_stores_the_same_as_one_article_at_a_time() {
    let articles = articles_of_several_batches();
    let ((_dir, batched), outcomes) = store_both_ways(&articles);
    assert_eq!(replaced(&outcomes), 700);
    assert_eq!(batched.article_count().unwrap(), 1502);
    assert_eq!(
        duplicate_of(&batched, "wire-copy").as_deref(),
        Some("wire-original")
    );
}

/// A stream of batches of uneven sizes (one that changes nothing, one of a single article, one
/// with an invalid article) through one applier stores what one call stores, and reports each
/// batch's outcomes in order.
#[test]
fn a_stream_of_batches_stores_the_same_as_one_call() {
    let articles = articles_of_several_batches();
    let ((_dir, one_call), outcomes) = store_both_ways(&articles);
    let mut bad = article(
        "bad/id",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Iran must stop",
        -0.8,
    );
    bad.article.content_hash = content_hash("bad", "");
    let mut batches: Vec<Vec<AnnotatedArticle>> = Vec::new();
    let mut rest = articles.as_slice();
    for size in [700, 402, 1, 1, 1, 1500] {
        let (batch, after) = rest.split_at(size.min(rest.len()));
        batches.push(batch.to_vec());
        rest = after;
    }
    batches.push(rest.to_vec());
    batches[1].insert(200, bad);
    let (_dir, streamed) = open();
    let mut reported: Vec<Vec<Result<PutOutcome, StoreError>>> = Vec::new();
    streamed
        .put_article_batches(batches.into_iter(), |batch| {
            reported.push(batch);
            true
        })
        .unwrap();
    assert!(matches!(
        reported[1].remove(200),
        Err(StoreError::InvalidArticle { .. })
    ));
    let streamed_outcomes: Vec<PutOutcome> =
        reported.into_iter().flatten().map(Result::unwrap).collect();
    assert_eq!(streamed_outcomes, outcomes);
    assert!(streamed.integrity_problems().unwrap().is_empty());
    assert_eq!(
        streamed.aggregate_snapshot().unwrap(),
        one_call.aggregate_snapshot().unwrap()
    );
    assert_eq!(
        duplicate_of(&streamed, "wire-copy").as_deref(),
        Some("wire-original")
    );
}

/// `done` returning false stops the stream: later batches are not written.
#[test]
fn a_stream_of_batches_stops_when_told() {
    let articles = articles_of_several_batches();
    let (_dir, store) = open();
    let batches = vec![articles[..10].to_vec(), articles[10..20].to_vec()];
    let mut reported = 0;
    store
        .put_article_batches(batches.into_iter(), |_| {
            reported += 1;
            false
        })
        .unwrap();
    assert_eq!(reported, 1);
    assert_eq!(store.article_count().unwrap(), 10);
}

#[test]
fn an_invalid_article_in_a_batch_is_refused_alone() {
    let (_dir, store) = open();
    let mut bad = article(
        "bad/id",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Iran must stop",
        -0.8,
    );
    bad.article.content_hash = content_hash("bad", "");
    let good = article(
        "good",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Iran must stop",
        -0.8,
    );
    let results = store.put_articles(vec![bad, good]).unwrap();
    assert!(matches!(results[0], Err(StoreError::InvalidArticle { .. })));
    assert_eq!(results[1].as_ref().unwrap(), &PutOutcome::Inserted);
    assert_eq!(store.article_count().unwrap(), 1);
}

#[test]
fn evidence_moves_to_the_next_source_when_its_article_changes() {
    let (_dir, store) = open();
    let words = "We will not lament his death";
    for id in ["a1", "a2"] {
        let mut a = article(
            id,
            "2020-01-05",
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            words,
            -0.7,
        );
        a.article.content_hash = content_hash(id, "v1");
        store.put_article(a).unwrap();
    }
    let mut changed = article(
        "a1",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Something else entirely",
        -0.1,
    );
    changed.article.content_hash = content_hash("a1", "v2");
    store.put_article(changed).unwrap();
    let rows = store
        .stance_rows(&StanceQuery {
            target_entity_id: "irn".into(),
            max_evidence: 5,
            ..Default::default()
        })
        .unwrap();
    let lament = rows[0]
        .evidence
        .iter()
        .find(|e| e.statement.statement.text == words)
        .unwrap();
    assert_eq!(lament.statement.article_id, "a2");
    assert_eq!(*lament.source_article_ids, ["a2".to_owned()]);
    assert!(store.integrity_problems().unwrap().is_empty());
}

#[test]
fn mentions_page_across_articles() {
    let (_dir, store) = open();
    for i in 0..3 {
        let mut a = article(
            &format!("a{i}"),
            &format!("2020-01-0{}", i + 1),
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            "Iran must stop",
            -0.8,
        );
        a.article.content_hash = content_hash(&format!("a{i}"), "");
        // A second mention of Iran, in the title.
        a.article.mentions.push(Mention {
            entity_id: "irn".into(),
            entity_name: "Iran".into(),
            kind: EntityKind::Country,
            text: "Iran".into(),
            span: Span {
                field: TextField::Title,
                start: 17,
                end: 21,
            },
        });
        store.put_article(a).unwrap();
    }
    let mut seen = Vec::new();
    let mut request = page(4);
    loop {
        let result = store.list_mentions("irn", &request).unwrap();
        assert!(result.items.len() <= 4);
        seen.extend(
            result
                .items
                .into_iter()
                .map(|m| (m.article_id, m.mention.span.field, m.sentence)),
        );
        match result.next {
            Some(next) => request.resume_after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    // Newest article first; the title mention's sentence is the title.
    assert_eq!(seen[0].0, "a2");
    assert!(seen.contains(&(
        "a0".to_owned(),
        TextField::Title,
        "Boris Johnson on Iran".to_owned()
    )));
    request.resume_after = Some(vec![0, 0, 0, 0, 9]);
    assert!(matches!(
        store.list_mentions("irn", &request),
        Err(StoreError::BadPagePosition)
    ));
}

#[test]
fn a_store_of_another_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("communique").unwrap();
        // Schema 1, as written by the previous layout: format byte 1, postcard u32 1.
        tree.insert(b"\x00schema_version", vec![1u8, 1]).unwrap();
        db.flush().unwrap();
    }
    let error = reopen_store(dir.path()).err().unwrap();
    assert!(
        matches!(
            error,
            StoreError::SchemaMismatch {
                found: 1,
                expected: 5,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("schema 1"), "{message}");
    assert!(
        message.contains("communique-worker ingest --db"),
        "{message}"
    );
}

#[test]
fn a_schema_2_store_is_migrated_at_open_and_keeps_finding_names_and_copies() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        put_original_wire_story(&store);
    }
    {
        // What schema 2 also stored: phonetic entries (0x09) and near-duplicate bands (0x13).
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        tree.insert(b"\x00schema_version", vec![1u8, 2]).unwrap();
        tree.insert(
            b"\x09sulaman\x00qasem-soleimani\x00soleimani",
            b"Soleimani".to_vec(),
        )
        .unwrap();
        tree.insert(b"\x13\x00\x01aaaaaaaaoriginal", Vec::new())
            .unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(dir.path()).unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
    drop(store);
    {
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        assert_eq!(tree.scan_prefix([0x09u8]).count(), 0);
        assert_eq!(tree.scan_prefix([0x13u8]).count(), 0);
        assert_eq!(
            tree.get(b"\x00schema_version").unwrap().as_deref(),
            Some([1u8, 5].as_slice())
        );
    }
    let store = reopen_store(dir.path()).unwrap();
    // Bands and phonetic entries come back from the stored records.
    store
        .put_article(wire_article("copy", "Iran ends nuclear caps", WIRE_STORY))
        .unwrap();
    assert_eq!(duplicate_of(&store, "copy").as_deref(), Some("original"));
    let found = store
        .search_entities(
            &EntitySearch {
                query: "Boris Jonson".into(),
                kinds: vec![],
            },
            &page(5),
        )
        .unwrap();
    assert_eq!(
        found
            .items
            .first()
            .map(|m| (m.summary.entity.id.as_str(), m.match_type)),
        Some(("boris-johnson", MatchType::Fuzzy))
    );
}

#[test]
fn statements_list_by_speaker_target_government_and_article_across_pages() {
    let (_dir, store) = open();
    let speakers = [
        ("boris-johnson", "Boris Johnson", "GBR"),
        ("emmanuel-macron", "Emmanuel Macron", "FRA"),
    ];
    for i in 0..5 {
        let (id, name, code) = speakers[i % 2];
        let mut a = article(
            &format!("a{i}"),
            &format!("2020-01-0{}", i + 1),
            (id, name),
            code,
            &format!("Iran must stop, part {i}"),
            -0.5,
        );
        a.article.content_hash = content_hash(&format!("a{i}"), "");
        store.put_article(a).unwrap();
    }
    let all_pages = |filter: &StatementFilter| {
        let mut ids = Vec::new();
        let mut request = page(2);
        loop {
            let result = store.list_statements(filter, &request).unwrap();
            ids.extend(result.items.into_iter().map(|s| s.article_id));
            match result.next {
                Some(next) => request.resume_after = Some(next),
                None => return ids,
            }
        }
    };
    let by_speaker = StatementFilter {
        speaker_entity_id: Some("boris-johnson".into()),
        ..Default::default()
    };
    assert_eq!(all_pages(&by_speaker), ["a4", "a2", "a0"]);
    let by_target = StatementFilter {
        target_entity_id: Some("irn".into()),
        ..Default::default()
    };
    assert_eq!(all_pages(&by_target), ["a4", "a3", "a2", "a1", "a0"]);
    let by_government = StatementFilter {
        government_code: Some("FRA".into()),
        ..Default::default()
    };
    assert_eq!(all_pages(&by_government), ["a3", "a1"]);
    // Iran is only a target: no statement has it as speaker.
    let iran_speaks = StatementFilter {
        speaker_entity_id: Some("irn".into()),
        ..Default::default()
    };
    assert!(all_pages(&iran_speaks).is_empty());
    assert_eq!(
        all_pages(&StatementFilter::default()),
        ["a0", "a1", "a2", "a3", "a4"]
    );
    let of_article = StatementFilter {
        article_id: Some("a1".into()),
        ..Default::default()
    };
    assert_eq!(all_pages(&of_article), ["a1"]);
}

#[test]
fn a_name_resolves_by_id_or_exact_alias_without_a_search() {
    let (_dir, store) = open();
    store
        .put_article(article(
            "a1",
            "2020-01-05",
            ("boris-johnson", "Boris Johnson"),
            "GBR",
            "Iran must stop",
            -0.8,
        ))
        .unwrap();
    let id_of = |name: &str| {
        store
            .resolve_entity(name)
            .unwrap()
            .map(|summary| summary.entity.id)
    };
    assert_eq!(id_of("irn").as_deref(), Some("irn"));
    assert_eq!(id_of("Iran").as_deref(), Some("irn"));
    assert_eq!(id_of("islamic republic of IRAN").as_deref(), Some("irn"));
    // Neither an id nor an exact alias: left to the spelling-tolerant search.
    assert_eq!(id_of("Ira"), None);
    assert_eq!(id_of("Irann"), None);
    assert_eq!(id_of(""), None);
}

/// A wire story, long enough for a near-duplicate signature.
const WIRE_STORY: &str = " Officials in Tehran said the country would no longer observe the limits \
of the 2015 nuclear deal, days after the strike near Baghdad airport. European leaders urged \
restraint and called on Iran to return to full compliance with the agreement. In Washington, \
officials warned of further sanctions if enrichment resumed at earlier levels. Oil prices rose \
sharply on the news, and markets in Asia fell for a second day. The United Nations \
secretary-general called for calm and said diplomacy was the only way forward. Analysts said \
the coming weeks would show whether either side was ready to return to talks. The foreign \
ministry in Tehran summoned the Swiss ambassador, who represents American interests there, to \
deliver a formal protest. In Baghdad, lawmakers voted on a motion asking foreign troops to leave \
the country, a step the prime minister said he would study with care. Thousands of mourners \
filled the streets of several cities for funeral processions that lasted most of the day. \
Airlines changed routes to avoid the airspace over the region, and shipping companies raised \
insurance rates for tankers passing through the Strait of Hormuz. A spokesman for the alliance \
said training missions in Iraq had been paused while commanders reviewed the safety of staff.";

fn wire_article(id: &str, title: &str, body_tail: &str) -> AnnotatedArticle {
    let mut a = article(
        id,
        "2020-01-06",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Iran must stop",
        -0.8,
    );
    a.article.title = title.into();
    a.article.body.push_str(body_tail);
    a.article.content_hash = content_hash(title, &a.article.body);
    a
}

/// Stores `WIRE_STORY` as the article "original", the one later copies point at.
fn put_original_wire_story(store: &SledStore) {
    store
        .put_article(wire_article(
            "original",
            "Iran drops deal limits",
            WIRE_STORY,
        ))
        .unwrap();
}

fn duplicate_of(store: &SledStore, id: &str) -> Option<String> {
    store
        .get_article(id, ArticleParts::Metadata)
        .unwrap()
        .unwrap()
        .article
        .duplicate_of
}

#[test]
fn syndicated_copies_point_at_the_first_stored_article() {
    let (_dir, store) = open();
    put_original_wire_story(&store);
    let edited = WIRE_STORY.replace(
        "Oil prices rose sharply on the news",
        "Crude oil jumped after the announcement",
    );
    let rewritten = " Iran's government announced on Sunday an end to its respect for the \
        caps set by the 2015 accord, following the killing of a senior general in Iraq. Britain, \
        France and Germany asked Tehran to come back to the deal, while the White House promised \
        more economic pressure. Energy markets reacted with a jump in crude, and stocks in Tokyo \
        and Hong Kong slipped. The head of the United Nations appealed for dialogue, and experts \
        expect weeks of uncertainty before any new negotiations.";
    let results = store
        .put_articles(vec![
            wire_article("exact-copy", "Iran drops deal limits", WIRE_STORY),
            wire_article("edited-copy", "Tehran abandons nuclear caps (AP)", &edited),
            wire_article("other-story", "Iran drops deal limits", rewritten),
        ])
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(duplicate_of(&store, "original"), None);
    assert_eq!(
        duplicate_of(&store, "exact-copy").as_deref(),
        Some("original")
    );
    assert_eq!(
        duplicate_of(&store, "edited-copy").as_deref(),
        Some("original")
    );
    assert_eq!(duplicate_of(&store, "other-story"), None);
    assert!(store.integrity_problems().unwrap().is_empty());
}

#[test]
fn copies_within_one_batch_point_at_the_first_of_the_batch() {
    let (_dir, store) = open();
    let results = store
        .put_articles(vec![
            wire_article("first", "Iran drops deal limits", WIRE_STORY),
            wire_article("second", "Iran ends nuclear caps", WIRE_STORY),
        ])
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(duplicate_of(&store, "first"), None);
    assert_eq!(duplicate_of(&store, "second").as_deref(), Some("first"));
    // A replaced original leaves no band entries behind.
    store
        .put_article(wire_article("first", "Changed", " Nothing alike at all."))
        .unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
}

#[test]
fn stance_rows_page_in_answer_order_without_gaps_or_repeats() {
    let (_dir, store) = open();
    // Five governments with 3, 2, 2, 1, 1 distinct statements: ties are ordered by code.
    let speakers = [("GBR", 3), ("FRA", 2), ("DEU", 2), ("USA", 1), ("CHN", 1)];
    for (code, statements) in speakers {
        for n in 0..statements {
            let id = format!("{code}-{n}");
            let mut a = article(
                &id,
                "2020-01-05",
                ("speaker", "A Speaker"),
                code,
                &format!("words number {n} of {code}"),
                -0.5,
            );
            a.article.content_hash = content_hash(&id, "distinct");
            store.put_article(a).unwrap();
        }
    }
    let query = StanceQuery {
        target_entity_id: "irn".into(),
        max_evidence: 3,
        ..Default::default()
    };
    let whole = store.compare_stances(&query, &page(100)).unwrap();
    assert_eq!(whole.next, None);
    let order: Vec<&str> = whole
        .items
        .iter()
        .map(|row| row.government.code.as_str())
        .collect();
    assert_eq!(order, ["GBR", "DEU", "FRA", "CHN", "USA"]);
    for size in 1..=5 {
        let mut paged = Vec::new();
        let mut request = page(size);
        loop {
            let result = store.compare_stances(&query, &request).unwrap();
            assert!(result.items.len() <= size);
            paged.extend(result.items);
            match result.next {
                Some(next) => request.resume_after = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, whole.items, "pages of {size}");
    }
    let garbage = PageRequest {
        size: 2,
        resume_after: Some(vec![1, 2]),
    };
    assert!(matches!(
        store.compare_stances(&query, &garbage),
        Err(StoreError::BadPagePosition)
    ));
}

/// Every list that reads the article indexes, paged in twos, as (ids, page positions): two
/// stores that give the same gave the same answers and page tokens.
fn index_lists(store: &SledStore) -> Vec<(Vec<String>, Vec<Vec<u8>>)> {
    fn pages<T>(
        mut read: impl FnMut(&PageRequest) -> Page<T>,
        id: impl Fn(&T) -> String,
    ) -> (Vec<String>, Vec<Vec<u8>>) {
        let (mut ids, mut positions) = (Vec::new(), Vec::new());
        let mut request = page(2);
        loop {
            let result = read(&request);
            ids.extend(result.items.iter().map(&id));
            match result.next {
                Some(next) => {
                    positions.push(next.clone());
                    request.resume_after = Some(next);
                }
                None => return (ids, positions),
            }
        }
    }
    let filters = [
        ArticleFilter::default(),
        ArticleFilter {
            entity_id: Some("irn".into()),
            ..Default::default()
        },
        ArticleFilter {
            entity_id: Some("boris-johnson".into()),
            published_before: Some("2020-01-04".parse().unwrap()),
            ..Default::default()
        },
        ArticleFilter {
            government_code: Some("GBR".into()),
            ..Default::default()
        },
        ArticleFilter {
            source: Some("Test Wire".into()),
            published_after: Some("2020-01-04".parse().unwrap()),
            ..Default::default()
        },
    ];
    let mut lists: Vec<_> = filters
        .iter()
        .map(|filter| {
            pages(
                |request| {
                    store
                        .list_articles(filter, ArticleParts::Metadata, request)
                        .unwrap()
                },
                |stored| stored.article.id.clone(),
            )
        })
        .collect();
    lists.push(pages(
        |request| store.list_mentions("irn", request).unwrap(),
        |mention| format!("{} {}", mention.article_id, mention.mention.span.start),
    ));
    for filter in [
        StatementFilter {
            target_entity_id: Some("irn".into()),
            ..Default::default()
        },
        StatementFilter {
            speaker_entity_id: Some("emmanuel-macron".into()),
            ..Default::default()
        },
        StatementFilter {
            government_code: Some("GBR".into()),
            ..Default::default()
        },
    ] {
        lists.push(pages(
            |request| store.list_statements(&filter, request).unwrap(),
            |statement| format!("{} {}", statement.article_id, statement.statement.ordinal),
        ));
    }
    lists
}

/// Articles over three days, written in three calls so that a day's positions are spread over
/// several blocks, ids interleaved between them; then one replaced and one moved to another day.
fn store_articles_in_several_batches(store: &SledStore) {
    let speakers = [
        ("boris-johnson", "Boris Johnson", "GBR"),
        ("emmanuel-macron", "Emmanuel Macron", "FRA"),
    ];
    let dates = ["2020-01-03", "2020-01-04", "2020-01-05"];
    for call in 0..3 {
        let articles = (0..12)
            .filter(|i| i % 3 == call)
            .map(|i| {
                let (id, name, code) = speakers[i % 2];
                article(
                    &format!("a{i:02}"),
                    dates[i % 3 / 2 + i % 2],
                    (id, name),
                    code,
                    &format!("words {i}"),
                    -0.5,
                )
            })
            .collect();
        for outcome in store.put_articles(articles).unwrap() {
            assert_eq!(outcome.unwrap(), PutOutcome::Inserted);
        }
    }
    let replaced = article(
        "a04",
        "2020-01-04",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "other words",
        0.5,
    );
    let moved = article(
        "a07",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "moved words",
        0.5,
    );
    for outcome in store.put_articles(vec![replaced, moved]).unwrap() {
        assert_eq!(outcome.unwrap(), PutOutcome::Replaced);
    }
}

#[test]
fn index_lists_merge_the_blocks_of_one_day_in_position_order() {
    let (_dir, store) = open();
    store_articles_in_several_batches(&store);
    assert!(store.integrity_problems().unwrap().is_empty());
    let lists = index_lists(&store);
    // Newest day first, then by id within a day, each article once.
    let newest_first = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        lists[0].0,
        newest_first(&[
            "a05", "a07", "a11", // 2020-01-05
            "a01", "a02", "a03", "a04", "a08", "a09", // 2020-01-04
            "a00", "a06", "a10", // 2020-01-03
        ])
    );
    // Boris Johnson speaks in the even articles and a07, up to 2020-01-04.
    assert_eq!(
        lists[2].0,
        newest_first(&["a02", "a04", "a08", "a00", "a06", "a10"])
    );
    let statements_by_macron: Vec<&str> = lists[7].0.iter().map(|s| &s[..3]).collect();
    assert_eq!(statements_by_macron, ["a05", "a11", "a01", "a03", "a09"]);
}

/// The evidence rank entry schema 4 stored for a claim: kind 0x12, the claim key's target and
/// government, the inverted strength of its polarity, the claim hash.
fn schema_4_rank_key(claim_key: &[u8], inverted_strength: u16) -> Vec<u8> {
    let hash_at = claim_key.iter().rposition(|&b| b == 0).unwrap() + 1;
    [
        &[0x12u8],
        &claim_key[1..hash_at],
        &inverted_strength.to_be_bytes(),
        &claim_key[hash_at..],
    ]
    .concat()
}

fn assert_schema_5_without_rank_keys(path: &std::path::Path) {
    let db = reopen_sled(path);
    let tree = db.open_tree("communique").unwrap();
    assert_eq!(tree.scan_prefix([0x12u8]).count(), 0);
    assert_eq!(
        tree.get(b"\x00schema_version").unwrap().as_deref(),
        Some([1u8, 5].as_slice())
    );
}

#[test]
fn a_schema_4_store_is_migrated_at_open_and_ranks_evidence_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let stance_pages = |store: &SledStore| {
        let query = StanceQuery {
            target_entity_id: "irn".into(),
            max_evidence: 3,
            ..Default::default()
        };
        format!("{:?}", store.compare_stances(&query, &page(100)).unwrap())
    };
    let before = {
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        store_articles_in_several_batches(&store);
        stance_pages(&store)
    };
    assert!(before.contains("words"), "{before}");
    {
        // Schema 4 also stored one empty-valued evidence rank key (0x12) per claim.
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        assert_eq!(tree.scan_prefix([0x12u8]).count(), 0);
        let claims: Vec<Vec<u8>> = tree
            .scan_prefix([0x10u8])
            .map(|entry| entry.unwrap().0.to_vec())
            .collect();
        assert!(claims.len() > 5, "{} claims", claims.len());
        for claim in claims {
            tree.insert(schema_4_rank_key(&claim, 0xEC77), Vec::new())
                .unwrap();
        }
        tree.insert(b"\x00schema_version", vec![1u8, 4]).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(dir.path()).unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
    assert_eq!(stance_pages(&store), before);
    drop(store);
    assert_schema_5_without_rank_keys(dir.path());
    // The ranking follows claims that come and go after the migration.
    let store = reopen_store(dir.path()).unwrap();
    let replaced = article(
        "a07",
        "2020-01-05",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "moved again",
        -0.9,
    );
    assert_eq!(store.put_article(replaced).unwrap(), PutOutcome::Replaced);
    let after = stance_pages(&store);
    assert!(
        after.contains("moved again") && !after.contains("moved words"),
        "{after}"
    );
}

#[test]
fn a_schema_3_store_is_migrated_at_open_and_lists_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        store_articles_in_several_batches(&store);
        index_lists(&store)
    };
    {
        // Schema 3 stored one key per index position (kinds 0x03-0x06: the block's kind less
        // 0x11, the block key without its number, the article id), valued with the role byte in
        // the entity index (0x04).
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        let mut positions = 0;
        for kind in 0x14u8..=0x17 {
            for entry in tree.scan_prefix([kind]) {
                let (key, value) = entry.unwrap();
                let (format, body) = value.split_first().unwrap();
                assert_eq!(*format, 1);
                let block: Vec<(String, u8)> = postcard::from_bytes(body).unwrap();
                let group = &key[1..key.len() - 8];
                for (article_id, role) in block {
                    let position = [&[kind - 0x11], group, article_id.as_bytes()].concat();
                    let value = if kind == 0x15 { vec![role] } else { vec![] };
                    tree.insert(position, value).unwrap();
                    positions += 1;
                }
                tree.remove(key).unwrap();
            }
        }
        assert!(positions > 40, "{positions} positions");
        tree.remove(b"\x00last_block_number").unwrap();
        tree.insert(b"\x00schema_version", vec![1u8, 3]).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(dir.path()).unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
    assert_eq!(index_lists(&store), before);
    drop(store);
    {
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        for kind in 0x03u8..=0x06 {
            assert_eq!(tree.scan_prefix([kind]).count(), 0, "kind {kind}");
        }
        assert_eq!(
            tree.get(b"\x00schema_version").unwrap().as_deref(),
            Some([1u8, 5].as_slice())
        );
    }
    // The migrated store takes new articles on the days it already holds.
    let store = reopen_store(dir.path()).unwrap();
    store
        .put_article(article(
            "a13",
            "2020-01-04",
            ("emmanuel-macron", "Emmanuel Macron"),
            "FRA",
            "late words",
            -0.5,
        ))
        .unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
    let all = &index_lists(&store)[0].0;
    assert_eq!(all.iter().filter(|id| id.as_str() == "a13").count(), 1);
}

/// The same words of the same speaker in a later and an earlier article that read them with a
/// different lean: the claim must read as the earliest report, whichever article came first.
fn one_claim_in_two_reports() -> [AnnotatedArticle; 2] {
    let speaker = ("boris-johnson", "Boris Johnson");
    let words = "We will not lament his death";
    let mut later = article("a-later", "2020-01-07", speaker, "GBR", words, -0.2);
    later.article.content_hash = content_hash("a-later", "");
    let mut earlier = article("a-earlier", "2020-01-03", speaker, "GBR", words, -0.9);
    earlier.article.content_hash = content_hash("a-earlier", "");
    [later, earlier]
}

fn iran_rows(store: &SledStore) -> Vec<StanceRow> {
    store
        .stance_rows(&StanceQuery {
            target_entity_id: "irn".into(),
            max_evidence: 5,
            ..Default::default()
        })
        .unwrap()
}

#[test]
fn a_claim_reads_as_its_earliest_report_whatever_order_its_articles_arrive_in() {
    let [later, earlier] = one_claim_in_two_reports();
    let (_dir_a, later_first) = open();
    later_first.put_article(later.clone()).unwrap();
    later_first.put_article(earlier.clone()).unwrap();
    let (_dir_b, earlier_first) = open();
    earlier_first.put_article(earlier.clone()).unwrap();
    earlier_first.put_article(later.clone()).unwrap();
    let (_dir_c, one_batch) = open();
    for outcome in one_batch
        .put_articles(vec![later.clone(), earlier])
        .unwrap()
    {
        outcome.unwrap();
    }

    let rows = iran_rows(&later_first);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].tally.statement_count, 1);
    assert!((rows[0].tally.score() + 0.9).abs() < 1e-6);
    assert_eq!(rows[0].evidence.len(), 1);
    assert_eq!(rows[0].evidence[0].statement.article_id, "a-earlier");
    assert_eq!(
        *rows[0].evidence[0].source_article_ids,
        ["a-earlier".to_owned(), "a-later".to_owned()]
    );
    for store in [&later_first, &earlier_first, &one_batch] {
        assert_eq!(iran_rows(store), rows);
        assert!(store.integrity_problems().unwrap().is_empty());
    }

    // Without the earlier report, the claim reads as the later one.
    let mut reworded = article(
        "a-earlier",
        "2020-01-03",
        ("boris-johnson", "Boris Johnson"),
        "GBR",
        "Something else entirely",
        -0.1,
    );
    reworded.article.content_hash = content_hash("a-earlier", "v2");
    later_first.put_article(reworded.clone()).unwrap();
    let rows = iran_rows(&later_first);
    let lament = rows[0]
        .evidence
        .iter()
        .find(|e| e.statement.statement.text == "We will not lament his death")
        .unwrap();
    assert_eq!(lament.statement.article_id, "a-later");
    assert_eq!(*lament.source_article_ids, ["a-later".to_owned()]);
    let (_dir_d, rewritten) = open();
    rewritten.put_article(reworded).unwrap();
    rewritten.put_article(later).unwrap();
    assert_eq!(iran_rows(&rewritten), rows);
    assert!(later_first.integrity_problems().unwrap().is_empty());
}

/// Schema 4 and 5 encode claims and tallies alike (a format byte, then postcard); the store's own
/// types are private.
#[derive(serde::Serialize, serde::Deserialize)]
struct ClaimBytes {
    government: Government,
    polarity: f32,
    sources: Vec<ClaimSourceBytes>,
    evidence: (Option<communique_domain::Date>, Statement),
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct ClaimSourceBytes {
    article_id: String,
    ordinal: u32,
    published: Option<communique_domain::Date>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TallyBytes {
    government: Government,
    tally: communique_domain::query::StanceTally,
}

fn postcard_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    let (format, body) = bytes.split_first().unwrap();
    assert_eq!(*format, 1);
    postcard::from_bytes(body).unwrap()
}

fn postcard_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    [vec![1u8], postcard::to_stdvec(value).unwrap()].concat()
}

#[test]
fn a_schema_4_store_is_migrated_at_open_to_claims_that_read_as_their_earliest_report() {
    let dir = tempfile::tempdir().unwrap();
    let [later, earlier] = one_claim_in_two_reports();
    let expected = {
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        store.put_article(later.clone()).unwrap();
        store.put_article(earlier).unwrap();
        iran_rows(&store)
    };
    {
        // Schema 4 kept sources in the order they were written and read the claim as the first:
        // here the later article, written first.
        let db = reopen_sled(dir.path());
        let tree = db.open_tree("communique").unwrap();
        let claims: Vec<_> = tree.scan_prefix([0x10]).map(Result::unwrap).collect();
        assert_eq!(claims.len(), 1);
        let (claim_key, claim_value) = &claims[0];
        let mut claim: ClaimBytes = postcard_value(claim_value);
        claim.sources.reverse();
        assert_eq!(claim.sources[0].article_id, "a-later");
        claim.polarity = -0.2;
        claim.evidence = (
            later.article.published.map(|p| p.date),
            later.article.statements[0].clone(),
        );
        tree.insert(claim_key, postcard_bytes(&claim)).unwrap();
        let tallies: Vec<_> = tree.scan_prefix([0x11]).map(Result::unwrap).collect();
        assert_eq!(tallies.len(), 1);
        let mut tally: TallyBytes = postcard_value(&tallies[0].1);
        tally.tally.remove(-0.9);
        tally.tally.add(-0.2);
        tree.insert(&tallies[0].0, postcard_bytes(&tally)).unwrap();
        // And its evidence rank entry, for the polarity it read as (-0.2).
        assert_eq!(tree.scan_prefix([0x12u8]).count(), 0);
        tree.insert(schema_4_rank_key(claim_key, u16::MAX - 2_000), Vec::new())
            .unwrap();
        tree.insert(b"\x00schema_version", vec![1u8, 4]).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(dir.path()).unwrap();
    assert!(store.integrity_problems().unwrap().is_empty());
    assert_eq!(iran_rows(&store), expected);
    drop(store);
    assert_schema_5_without_rank_keys(dir.path());
}

fn open_without_indexes(path: &std::path::Path) -> SledStore {
    let options = StoreOptions {
        load_indexes_at_open: false,
        ..StoreOptions::default()
    };
    reopen_store_with(path, &options).unwrap()
}

#[test]
fn indexes_not_loaded_at_open_are_loaded_by_the_first_read_or_write_that_needs_them() {
    let dir = tempfile::tempdir().unwrap();
    let soleimani = soleimani_in_iran();
    {
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        store.put_article(soleimani.clone()).unwrap();
        put_original_wire_story(&store);
    }

    // Checking what is stored and writing nothing (an unchanged re-ingest) loads nothing.
    let store = open_without_indexes(dir.path());
    assert!(!store.indexes_in_memory());
    assert!(store.stored_content_hash("a1").unwrap().is_some());
    assert_eq!(store.stored_content_hash("absent").unwrap(), None);
    store
        .put_article_batches(std::iter::empty(), |_| true)
        .unwrap();
    assert!(!store.indexes_in_memory());
    // A read loads them.
    let found = store
        .search_entities(
            &EntitySearch {
                query: "qasem soleimani".into(),
                kinds: vec![],
            },
            &page(10),
        )
        .unwrap();
    assert_eq!(found.items[0].summary.entity.id, "qasem-soleimani");
    assert!(store.indexes_in_memory());
    drop(store);

    // A write loads them, with what finds the copies of stored articles.
    let store = open_without_indexes(dir.path());
    let outcomes = store
        .put_articles(vec![
            soleimani,
            wire_article("exact-copy", "Iran drops deal limits", WIRE_STORY),
        ])
        .unwrap();
    assert_eq!(
        outcomes.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [PutOutcome::Unchanged, PutOutcome::Inserted]
    );
    assert!(store.indexes_in_memory());
    assert_eq!(
        duplicate_of(&store, "exact-copy").as_deref(),
        Some("original")
    );
    assert_eq!(
        stance(&store, "irn"),
        vec![("GBR".to_owned(), -0.8, 1), ("IRN".to_owned(), -0.5, 1)]
    );
    assert!(store.integrity_problems().unwrap().is_empty());
}
