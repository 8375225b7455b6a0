//! Not a timing: how well the annotator dates an article that gives no date, measured on the
//! corpus articles that do give one (by their metadata, date line or byline).
//!
//! Each such article is annotated twice: at its own date, and with that date hidden, as the
//! worker would meet it undated (a date read from its text if the input stage finds one, else
//! the annotator's estimate from its officials' titles, the days it names and the people it
//! quotes). It reports how far the date used is from the real one, and how many statements
//! keep the governments they have at the real date: what a wrong or missing date costs. A
//! statement is compared when both annotations find it at the same place (nearly all are: a
//! date changes who speaks, rarely what is said).
//!
//! `cargo bench -p communique-bench --bench hidden_dates` (the corpus: `COMMUNIQUE_CORPUS` or
//! `../shared/data/news-corpus.jsonl.gz`); `HIDDEN_DATES_ARTICLES` bounds the articles read
//! (default: all), `HIDDEN_DATES_CHANGES=1` lists every statement whose governments change.

mod common;

use std::collections::{BTreeMap, HashMap};

use communique_domain::{Date, DateSource, Statement, TextField};
use communique_worker::annotate::{Annotator, ArticleText, DateEstimate};
use communique_worker::input::infer_date;
use communique_worker::knowledge_base;

/// How far the date used is from the real one.
fn error_bucket(used: Option<Date>, real: Date) -> &'static str {
    let Some(used) = used else {
        return "no date";
    };
    match (used.days_since_epoch() - real.days_since_epoch()).abs() {
        0..=7 => "within a week",
        8..=62 => "within two months",
        63..=366 => "within a year",
        367..=1100 => "within three years",
        _ => "further",
    }
}

fn main() -> anyhow::Result<()> {
    let limit = match std::env::var("HIDDEN_DATES_ARTICLES") {
        Ok(n) => n.parse()?,
        Err(_) => usize::MAX,
    };
    let list_changes = std::env::var("HIDDEN_DATES_CHANGES").is_ok_and(|v| v == "1");
    let kb = knowledge_base::load(&[])?;
    let annotator = Annotator::new(&kb);
    let Some(articles) = common::corpus_slice(limit) else {
        anyhow::bail!("the corpus is needed");
    };

    // (how the hidden article was dated, how far off) -> articles.
    let mut dated: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut statements = 0usize;
    let mut kept = 0usize;
    let mut with_government = [0usize; 2];
    let mut lost = 0usize;
    let mut gained = 0usize;
    let mut articles_read = 0usize;
    for article in &articles {
        let Some(real) = article
            .published
            .as_ref()
            .filter(|p| p.source != DateSource::Text)
            .map(|p| p.date)
        else {
            continue;
        };
        articles_read += 1;
        let at_real_date = annotator.annotate(&ArticleText {
            title: &article.title,
            body: &article.body,
            published: Some(real),
        });
        let from_text = infer_date(&article.title, &article.body);
        let hidden = annotator.annotate_dated(
            &ArticleText {
                title: &article.title,
                body: &article.body,
                published: from_text,
            },
            from_text.is_some(),
        );
        let used = hidden.estimated_date.map(DateEstimate::date).or(from_text);
        let how = match (hidden.estimated_date, from_text) {
            (Some(DateEstimate::NamedDay(_)), _) => "a day it names",
            (Some(DateEstimate::PeriodMiddle(_)), _) => "its officials' terms",
            (None, Some(_)) => "a date in its text",
            (None, None) => "undated",
        };
        *dated.entry((how, error_bucket(used, real))).or_default() += 1;

        let hidden_by_span: HashMap<(TextField, u32), &Statement> = hidden
            .statements
            .iter()
            .map(|s| ((s.span.field, s.span.start), s))
            .collect();
        for statement in &at_real_date.statements {
            let Some(other) = hidden_by_span.get(&(statement.span.field, statement.span.start))
            else {
                continue;
            };
            let (real_codes, hidden_codes) =
                (statement.government_codes(), other.government_codes());
            statements += 1;
            with_government[0] += usize::from(!real_codes.is_empty());
            with_government[1] += usize::from(!hidden_codes.is_empty());
            if real_codes == hidden_codes {
                kept += 1;
                continue;
            }
            if hidden_codes.is_empty() {
                lost += 1;
            } else if real_codes.is_empty() {
                gained += 1;
            }
            if list_changes {
                println!(
                    "{} real {real} used {} ({how}): {} {real_codes:?} -> {hidden_codes:?}",
                    article.id.as_deref().unwrap_or("?"),
                    used.map_or("none".to_owned(), |d| d.to_string()),
                    statement.speaker.name,
                );
            }
        }
    }

    println!(
        "{articles_read} corpus articles dated by their metadata, dated again with it hidden:"
    );
    for ((how, bucket), count) in &dated {
        println!("  by {how:<22} {bucket:<20} {count:>6}");
    }
    let percent = |part: usize| 100.0 * part as f64 / statements.max(1) as f64;
    println!(
        "{statements} statements found both ways: {kept} ({:.2}%) keep the governments of the \
         real date; with a \
         government: {} at the real date, {} hidden; {lost} lose theirs, {gained} gain one, {} \
         change",
        percent(kept),
        with_government[0],
        with_government[1],
        statements - kept - lost - gained,
    );
    Ok(())
}
