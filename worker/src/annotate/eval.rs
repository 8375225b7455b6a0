//! Evaluation of the annotator against hand-made gold annotations (the `seeds_gold.json`
//! format: entities with accepted names, documents with their date and expected entities,
//! quotes with speaker and government, stance cells, de-escalation governments, alias groups
//! that must resolve to one entity, and junk strings that must never be entities).
//!
//! [`evaluate`] takes the gold JSON text and the documents' files, runs them through the
//! ingest pipeline's own reading, cleaning, dating and annotation, and returns an
//! [`EvalReport`] whose `Display` lists the figures per category and every miss.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use communique_domain::{Act, Date, DateSource, PublishedDate, TextField, normalize_name};
use serde::Deserialize;

use super::{Annotation, Annotator};
use crate::input::{Origin, parse_text_article};
use crate::pipeline::annotate_article;

/// Which date the evaluated documents are annotated at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dating {
    /// The date the ingest pipeline finds (date line, byline, text or offices): the shipped
    /// system.
    Pipeline,
    /// The gold date, to tell annotation faults from dating faults.
    Gold,
}

#[derive(Debug, Deserialize)]
struct Gold {
    entities: BTreeMap<String, GoldEntity>,
    docs: BTreeMap<String, GoldDoc>,
    quotes: Vec<GoldQuote>,
    #[serde(default)]
    stances: Vec<GoldStance>,
    #[serde(default)]
    deescalation: Vec<String>,
    #[serde(default)]
    same: Vec<Vec<String>>,
    #[serde(default)]
    junk: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GoldEntity {
    names: Vec<String>,
    #[serde(default)]
    optional: bool,
}

#[derive(Debug, Deserialize)]
struct GoldDoc {
    #[serde(default)]
    date: Option<String>,
    entities: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GoldQuote {
    doc: String,
    contains: String,
    speaker: String,
    gov: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GoldStance {
    target: String,
    gov: String,
    sign: serde_json::Value,
}

/// Hits out of a total, with what was missed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Score {
    pub hits: usize,
    pub total: usize,
    pub misses: Vec<String>,
}

impl Score {
    fn record(&mut self, hit: bool, miss: impl FnOnce() -> String) {
        self.total += 1;
        if hit {
            self.hits += 1;
        } else {
            self.misses.push(miss());
        }
    }

    /// The share of hits in [0, 1]; 1 when there was nothing to score.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }
}

/// The evaluation figures per category.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalReport {
    /// Gold required entities found in their documents.
    pub entity_recall: Score,
    /// Emitted entities that the gold lists for their document (misses: the ones outside it).
    pub entity_precision: Score,
    /// The same per document: the target holds for every article, not only in aggregate.
    pub entity_precision_by_doc: BTreeMap<String, Score>,
    /// Alias groups that resolve to one entity id.
    pub same_groups: Score,
    /// Junk strings never emitted as entities.
    pub junk: Score,
    /// Gold quotes found inside some statement's text.
    pub quotes: Score,
    /// Found quotes with the right speaker.
    pub speakers: Score,
    /// Found quotes whose governments equal the gold ones.
    pub governments: Score,
    /// Stance cells whose aggregated polarity has the gold sign.
    pub stances: Score,
    /// Governments that called for de-escalation and have an appeal.
    pub deescalation: Score,
    /// Documents whose date (as annotated) is the gold date.
    pub dates: Score,
}

#[derive(Debug)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gold annotations: {}", self.0)
    }
}

impl std::error::Error for EvalError {}

/// Folds quote marks and case so quoted text compares alike.
fn fold_quote_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            '\u{2010}' | '\u{2011}' => '-',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads every gold document (`files`: document id → the file's text) as the ingest pipeline
/// does, annotates it at the date `dating` says, and scores the result.
pub fn evaluate(
    annotator: &Annotator,
    gold_json: &str,
    files: &HashMap<String, String>,
    dating: Dating,
) -> Result<EvalReport, EvalError> {
    let gold: Gold = serde_json::from_str(gold_json).map_err(|e| EvalError(e.to_string()))?;
    let accepted: HashMap<&str, HashSet<String>> = gold
        .entities
        .iter()
        .map(|(key, entity)| {
            (
                key.as_str(),
                entity.names.iter().map(|n| normalize_name(n)).collect(),
            )
        })
        .collect();
    let mut report = EvalReport::default();
    let mut annotations: BTreeMap<&str, Annotation> = BTreeMap::new();
    // The cleaned title and body of each document: mention offsets point into these.
    let mut texts: HashMap<&str, [(TextField, String); 2]> = HashMap::new();
    for (doc, meta) in &gold.docs {
        let file = files
            .get(doc)
            .ok_or_else(|| EvalError(format!("no text for document {doc}")))?;
        let mut raw =
            parse_text_article(Origin::file(format!("{doc}.txt")), Some(doc.clone()), file)
                .map_err(|rejection| EvalError(format!("document {doc} rejected: {rejection}")))?;
        let gold_date: Option<Date> = meta.date.as_deref().and_then(|d| d.parse().ok());
        if dating == Dating::Gold {
            raw.published = gold_date.map(|date| PublishedDate {
                date,
                source: DateSource::Metadata,
            });
        }
        let hash = communique_domain::content_hash(&raw.title, &raw.body);
        let annotated = annotate_article(annotator, raw, hash);
        let article = annotated.article;
        let published = article.published.as_ref().map(|p| p.date);
        report.dates.record(published == gold_date, || {
            format!(
                "{doc}: {}, gold {}",
                article
                    .published
                    .as_ref()
                    .map_or("no date".to_owned(), |p| format!(
                        "{} ({:?})",
                        p.date, p.source
                    )),
                gold_date.map_or("none".to_owned(), |d| d.to_string())
            )
        });
        texts.insert(
            doc,
            [
                (TextField::Title, article.title),
                (TextField::Body, article.body),
            ],
        );
        annotations.insert(
            doc,
            Annotation {
                mentions: article.mentions,
                statements: article.statements,
                entities: annotated.entities,
                estimated_date: None,
            },
        );
    }
    let entity_names = |annotation: &Annotation, index: usize| -> Vec<String> {
        annotation
            .entities
            .get(index)
            .map(|e| {
                std::iter::once(&e.name)
                    .chain(&e.aliases)
                    .map(|n| normalize_name(n))
                    .collect()
            })
            .unwrap_or_default()
    };
    let matches_key = |names: &[String], key: &str| {
        accepted
            .get(key)
            .is_some_and(|set| names.iter().any(|n| set.contains(n)))
    };

    // Entities: recall of required ones, precision against the document's list.
    for (doc, meta) in &gold.docs {
        let Some(annotation) = annotations.get(doc.as_str()) else {
            continue;
        };
        let emitted: Vec<Vec<String>> = (0..annotation.entities.len())
            .map(|i| entity_names(annotation, i))
            .collect();
        for key in &meta.entities {
            let required = gold.entities.get(key).is_some_and(|e| !e.optional);
            if !required {
                continue;
            }
            let found = emitted.iter().any(|names| matches_key(names, key));
            report
                .entity_recall
                .record(found, || format!("{doc}: {key} not found"));
        }
        for (index, names) in emitted.iter().enumerate() {
            let Some(entity) = annotation.entities.get(index) else {
                continue;
            };
            let listed: Vec<&String> = meta
                .entities
                .iter()
                .filter(|key| matches_key(names, key))
                .collect();
            let required = listed
                .iter()
                .any(|key| gold.entities.get(key.as_str()).is_some_and(|e| !e.optional));
            // Optional gold entities count for neither side, wherever the gold lists them.
            let optional = gold
                .entities
                .iter()
                .any(|(key, e)| e.optional && matches_key(names, key));
            if !required && optional {
                continue;
            }
            let inside = !listed.is_empty();
            let doc_score = report
                .entity_precision_by_doc
                .entry(doc.clone())
                .or_default();
            doc_score.total += 1;
            if inside {
                doc_score.hits += 1;
            }
            report.entity_precision.record(inside, || {
                let mut forms: Vec<&str> = annotation
                    .mentions
                    .iter()
                    .filter(|m| m.entity_id == entity.id)
                    .map(|m| m.text.as_str())
                    .collect();
                forms.sort_unstable();
                forms.dedup();
                format!(
                    "{doc}: {} is outside the gold list (mentioned as {forms:?})",
                    entity.name
                )
            });
        }
    }

    // Alias groups: every occurrence of every form resolves to one entity.
    for group in &gold.same {
        let mut ids: HashSet<String> = HashSet::new();
        let mut unresolved: Vec<String> = Vec::new();
        for form in group {
            for (doc, annotation) in &annotations {
                let Some(fields) = texts.get(*doc) else {
                    continue;
                };
                for (field, text) in fields {
                    let mentions: Vec<&communique_domain::Mention> = annotation
                        .mentions
                        .iter()
                        .filter(|m| m.span.field == *field)
                        .collect();
                    for (start, _) in text.match_indices(form.as_str()) {
                        let end = start + form.len();
                        let bounded = !text[..start]
                            .chars()
                            .next_back()
                            .is_some_and(char::is_alphanumeric)
                            && !text[end..]
                                .chars()
                                .next()
                                .is_some_and(char::is_alphanumeric);
                        if !bounded {
                            continue;
                        }
                        let span_of = |m: &communique_domain::Mention| {
                            (m.span.start as usize, m.span.end as usize)
                        };
                        // The mention inside the form ("General Qassem Soleimani" → the name).
                        let inside = mentions.iter().rev().find(|m| {
                            let (s, e) = span_of(m);
                            s >= start && e <= end
                        });
                        // A longer name holding the form ("US" in "US Embassy") is another entity.
                        let longer = mentions.iter().any(|m| {
                            let (s, e) = span_of(m);
                            s <= start && e >= end && e - s > end - start
                        });
                        match inside {
                            Some(m) => {
                                ids.insert(m.entity_id.clone());
                            }
                            None if longer => {}
                            None => unresolved.push(format!("{form} in {doc}")),
                        }
                    }
                }
            }
        }
        let ok = ids.len() == 1 && unresolved.is_empty();
        report.same_groups.record(ok, || {
            let mut ids: Vec<String> = ids.iter().cloned().collect();
            ids.sort();
            format!(
                "{group:?} → ids {ids:?}{}",
                if unresolved.is_empty() {
                    String::new()
                } else {
                    format!(", unlinked: {}", unresolved.join("; "))
                }
            )
        });
    }

    // Junk strings are never entities.
    for junk in &gold.junk {
        let folded = normalize_name(junk);
        let offenders: Vec<String> = annotations
            .iter()
            .flat_map(|(doc, a)| {
                a.entities
                    .iter()
                    .filter(|e| normalize_name(&e.name) == folded)
                    .map(move |e| format!("{doc}: {}", e.name))
            })
            .collect();
        report.junk.record(offenders.is_empty(), || {
            format!("{junk:?} emitted: {offenders:?}")
        });
    }

    // Quotes, speakers, governments.
    for quote in &gold.quotes {
        let Some(annotation) = annotations.get(quote.doc.as_str()) else {
            continue;
        };
        let needle = fold_quote_text(&quote.contains);
        let candidates: Vec<&communique_domain::Statement> = annotation
            .statements
            .iter()
            .filter(|s| fold_quote_text(&s.text).contains(&needle))
            .collect();
        let label = format!(
            "{} {:?}",
            quote.doc.get(..3).unwrap_or(&quote.doc),
            quote.contains
        );
        report.quotes.record(!candidates.is_empty(), || {
            format!("{label}: not in any statement")
        });
        if candidates.is_empty() {
            continue;
        }
        let right_speaker = |s: &communique_domain::Statement| {
            // The speaker's name, or any alias of its entity.
            let aliases = s
                .speaker
                .entity_id
                .as_ref()
                .and_then(|id| annotation.entities.iter().find(|e| &e.id == id))
                .map(|e| e.aliases.clone())
                .unwrap_or_default();
            std::iter::once(&s.speaker.name)
                .chain(&aliases)
                .any(|name| speaker_matches(&accepted, &quote.speaker, name))
        };
        let best = candidates
            .iter()
            .find(|s| right_speaker(s))
            .or(candidates.first())
            .copied();
        let Some(best) = best else {
            continue;
        };
        report.speakers.record(right_speaker(best), || {
            format!(
                "{label}: speaker {:?}, gold {}",
                best.speaker.name, quote.speaker
            )
        });
        let mut expected: Vec<String> = quote
            .gov
            .as_deref()
            .map(|g| g.split('+').map(str::to_owned).collect())
            .unwrap_or_default();
        expected.sort();
        let mut got: Vec<String> = best.governments.iter().map(|g| g.code.clone()).collect();
        got.sort();
        report.governments.record(got == expected, || {
            format!(
                "{label}: governments {got:?}, gold {expected:?} (speaker {:?})",
                best.speaker.name
            )
        });
    }

    // Stance cells: mean polarity per (target, government) over all statements.
    let mut cells: HashMap<(String, String), (f32, usize)> = HashMap::new();
    for annotation in annotations.values() {
        for statement in &annotation.statements {
            for target in &statement.targets {
                let names = vec![normalize_name(&target.name)];
                let Some(key) = gold
                    .entities
                    .keys()
                    .find(|key| matches_key(&names, key.as_str()))
                else {
                    continue;
                };
                for government in &statement.governments {
                    let cell = cells
                        .entry((key.clone(), government.code.clone()))
                        .or_insert((0.0, 0));
                    cell.0 += target.polarity;
                    cell.1 += 1;
                }
            }
        }
    }
    for stance in &gold.stances {
        let cell = cells.get(&(stance.target.clone(), stance.gov.clone()));
        let mean = cell.map(|(sum, n)| sum / *n as f32);
        let hit = match (&stance.sign, mean) {
            (serde_json::Value::String(s), m) if s == "nonneg" => m.is_none_or(|m| m >= 0.0),
            (serde_json::Value::Number(n), Some(m)) => {
                let sign = n.as_f64().unwrap_or(0.0);
                (sign < 0.0 && m < 0.0) || (sign > 0.0 && m > 0.0)
            }
            _ => false,
        };
        report.stances.record(hit, || {
            format!(
                "{} by {}: mean {:?} over {} statements, gold {}",
                stance.target,
                stance.gov,
                mean,
                cell.map_or(0, |c| c.1),
                stance.sign
            )
        });
    }
    for code in &gold.deescalation {
        let appealed = annotations.values().any(|a| {
            a.statements
                .iter()
                .any(|s| s.act == Act::Appeal && s.governments.iter().any(|g| &g.code == code))
        });
        report
            .deescalation
            .record(appealed, || format!("{code}: no appeal statement"));
    }
    Ok(report)
}

/// Whether an emitted speaker name matches a gold speaker: an entity key (or several joined
/// by '+') matched by accepted names, or a description matched by its head noun.
fn speaker_matches(accepted: &HashMap<&str, HashSet<String>>, gold: &str, name: &str) -> bool {
    let folded = normalize_name(name);
    let keys: Vec<&str> = gold.split('+').collect();
    if keys.iter().all(|key| accepted.contains_key(key)) {
        return keys.iter().all(|key| {
            accepted.get(key).is_some_and(|names| {
                names
                    .iter()
                    .any(|n| folded == *n || (keys.len() > 1 && contains_words(&folded, n)))
            })
        });
    }
    let gold_folded = normalize_name(gold);
    // A description that is an entity's name ("Pentagon", "White House").
    if let Some(names) = accepted.values().find(|names| names.contains(&gold_folded)) {
        return names.contains(&folded);
    }
    gold_folded
        .split(' ')
        .next_back()
        .is_some_and(|head| folded.split(' ').any(|w| w == head))
}

fn contains_words(haystack: &str, needle: &str) -> bool {
    format!(" {haystack} ").contains(&format!(" {needle} "))
}

fn percent(score: &Score) -> String {
    format!(
        "{:>3}/{:<3} {:5.1}%",
        score.hits,
        score.total,
        100.0 * score.ratio()
    )
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, &Score); 10] = [
            ("entities found (recall)", &self.entity_recall),
            ("entities inside gold (precision)", &self.entity_precision),
            ("alias groups resolved", &self.same_groups),
            ("junk never an entity", &self.junk),
            ("quotes found", &self.quotes),
            ("speakers right", &self.speakers),
            ("governments right", &self.governments),
            ("stance cells right", &self.stances),
            ("de-escalation appeals", &self.deescalation),
            ("dates right", &self.dates),
        ];
        for (label, score) in rows {
            writeln!(f, "{label:<34} {}", percent(score))?;
        }
        writeln!(f, "\nentity precision per document")?;
        for (doc, score) in &self.entity_precision_by_doc {
            writeln!(f, "  {doc:<32} {}", percent(score))?;
        }
        for (label, score) in rows {
            if score.misses.is_empty() {
                continue;
            }
            writeln!(f, "\n{label}: misses")?;
            for miss in &score.misses {
                writeln!(f, "  - {miss}")?;
            }
        }
        Ok(())
    }
}
