//! The ingest pipeline's reading, dating and annotation against the hand-made gold annotations
//! of the seeds (`tests/fixtures/seeds_gold.json`). Fails when a category falls below its
//! target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use communique_worker::annotate::Annotator;
use communique_worker::annotate::eval::{Dating, EvalReport, Score, evaluate};
use communique_worker::knowledge_base;

fn report(dating: Dating) -> EvalReport {
    let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds");
    let mut texts = HashMap::new();
    for entry in std::fs::read_dir(seeds).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        texts.insert(stem, std::fs::read_to_string(&path).unwrap());
    }
    let gold = include_str!("fixtures/seeds_gold.json");
    let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
    evaluate(&annotator, gold, &texts, dating).unwrap()
}

fn at_least(name: &str, score: &Score, target: f64) {
    assert!(
        score.ratio() >= target,
        "{name}: {}/{} = {:.3} is below {target}; misses: {:#?}",
        score.hits,
        score.total,
        score.ratio(),
        score.misses
    );
}

fn meets_the_targets(report: &EvalReport) {
    at_least("entity recall", &report.entity_recall, 0.95);
    at_least("alias groups", &report.same_groups, 1.0);
    at_least("junk", &report.junk, 1.0);
    at_least("quotes found", &report.quotes, 0.90);
    at_least("speakers", &report.speakers, 0.90);
    at_least("governments", &report.governments, 0.95);
    at_least("stance cells", &report.stances, 1.0);
    at_least("de-escalation appeals", &report.deescalation, 1.0);
    assert_eq!(report.stances.total, 11);
    assert_eq!(report.quotes.total, 82);
    assert_eq!(report.deescalation.total, 5);
    // At most 5% of the entities emitted outside the gold list (optional ones count for
    // neither side).
    at_least("entity precision", &report.entity_precision, 0.95);
    // ... in every article, not only in aggregate.
    assert_eq!(report.entity_precision_by_doc.len(), 5);
    for (doc, score) in &report.entity_precision_by_doc {
        let outside: Vec<&String> = report
            .entity_precision
            .misses
            .iter()
            .filter(|miss| miss.starts_with(doc.as_str()))
            .collect();
        assert!(
            score.ratio() >= 0.95,
            "entity precision of {doc}: {}/{} = {:.3} is below 0.95; outside the gold: {outside:#?}",
            score.hits,
            score.total,
            score.ratio()
        );
    }
}

#[test]
fn the_seeds_meet_the_annotation_targets_as_ingested() {
    let report = report(Dating::Pipeline);
    meets_the_targets(&report);
    // Two seeds name no day at all: the offices of their officials date them approximately.
    at_least("dates", &report.dates, 0.6);
}

#[test]
fn the_seeds_meet_the_annotation_targets_at_the_gold_dates() {
    let report = report(Dating::Gold);
    meets_the_targets(&report);
    assert_eq!(report.dates.hits, 5);
}
