//! The ingest pipeline: read → (skip unchanged) → annotate → write. Annotation is spread over
//! worker threads, which feed one writer thread that hands the sink batches of articles (a store
//! writes a batch much faster than its articles one by one), in input order whichever thread
//! finished first, so that the same input makes the same store (which of two near-duplicates is
//! the original, how an entity is first described). Bad input is reported and never stops the
//! batch; only a sink that can no longer write (a failing store, a lost server) stops it.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use communique_domain::{AnnotatedArticle, Article, DateSource, PublishedDate, content_hash};
use communique_store::PutOutcome;
use serde::Serialize;

use crate::annotate::{Annotator, ArticleText, DateEstimate};
use crate::input::{InputItem, RawArticle, ReadOptions, read_inputs};
use crate::sink::{ArticleSink, BatchOutcomes, SinkError};

#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    pub read: ReadOptions,
    /// Annotation threads; 0 means one per core.
    pub threads: usize,
    /// Only this shard of the input, so that several workers (an Indexed Job) split one input.
    pub shard: Option<Shard>,
}

/// Shard `index` of `count`: the inputs whose position in the input order, counted from 0,
/// leaves remainder `index` when divided by `count`. Every worker must read the same paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (use 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    fn takes(self, position: u64) -> bool {
        position % self.count == self.index
    }
}

/// One input that was not stored, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedInput {
    /// `path` or `path:line`, or the article id for rejections a server reports.
    pub origin: String,
    pub reason: String,
}

/// What an ingest run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    /// New or changed articles stored.
    pub ingested: u64,
    /// Articles already stored with the same content.
    pub unchanged: u64,
    pub rejected: Vec<RejectedInput>,
    /// Set when the run stopped early; the articles counted before it are stored.
    pub fatal: Option<String>,
    #[serde(skip)]
    pub elapsed: Duration,
    /// Bytes of article text read.
    pub bytes: u64,
    /// The process's peak resident memory when the run ended, where the OS tells it (Linux).
    pub peak_memory_bytes: Option<u64>,
}

impl IngestReport {
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty() && self.fatal.is_none()
    }
}

/// Progress callbacks, for a progress bar on a terminal.
pub trait Progress: Sync {
    fn article_done(&self, bytes: u64);
}

impl Progress for () {
    fn article_done(&self, _bytes: u64) {}
}

/// The identity of an article: its given id, or one derived from its content.
pub fn article_id(raw: &RawArticle, hash: &str) -> String {
    match &raw.id {
        Some(id) => id.clone(),
        None => format!("content-{hash}"),
    }
}

/// Annotates one article read from input.
pub fn annotate_article(annotator: &Annotator, raw: RawArticle, hash: String) -> AnnotatedArticle {
    let id = article_id(&raw, &hash);
    let date_from_text = raw
        .published
        .as_ref()
        .is_some_and(|p| p.source == DateSource::Text);
    let annotation = annotator.annotate_dated(
        &ArticleText {
            title: &raw.title,
            body: &raw.body,
            published: raw.published.as_ref().map(|p| p.date),
        },
        date_from_text,
    );
    AnnotatedArticle {
        article: Article {
            id,
            title: raw.title,
            body: raw.body,
            url: raw.url,
            source: raw.source,
            authors: raw.authors,
            // An undated article, or one whose date from its text the officials' titles
            // contradict, takes the date the annotator judged from its text.
            published: annotation
                .estimated_date
                .map(|estimate| match estimate {
                    DateEstimate::NamedDay(date) => PublishedDate {
                        date,
                        source: DateSource::Text,
                    },
                    DateEstimate::PeriodMiddle(date) => PublishedDate {
                        date,
                        source: DateSource::Estimated,
                    },
                })
                .or(raw.published),
            content_hash: hash,
            mentions: annotation.mentions,
            statements: annotation.statements,
            duplicate_of: None,
        },
        entities: annotation.entities,
    }
}

/// Most articles handed to the sink at once: two of the store's atomic batches, so that it
/// applies one while staging the next.
const MAX_BATCH: usize = 2048;
/// How long the writer waits for a batch to fill once it holds an article: long enough that a
/// batch amortises the store's shared writes, short enough that a trickle of input is stored
/// promptly.
const MAX_BATCH_WAIT: Duration = Duration::from_millis(50);

/// An annotated article on its way to the writer.
struct ToWrite {
    article: AnnotatedArticle,
    origin: String,
    bytes: u64,
}

/// What the writer hears of the input at `position` (counted from 0 in the order read): an
/// article to write, or `None` for one that needs no write (skipped, rejected), so that the
/// writer does not wait for it.
struct Slot {
    position: u64,
    write: Option<ToWrite>,
}

/// Puts the slots that threads finish in any order back into input order.
#[derive(Default)]
struct InputOrder {
    next: u64,
    /// Slots that came before the one at `next`. Bounded by what the other threads annotate
    /// while one annotates a single article, itself bounded by the reader's size limits.
    early: BTreeMap<u64, Option<ToWrite>>,
}

impl InputOrder {
    /// Takes a slot and moves every article now due, in input order, to `due`.
    fn accept(&mut self, slot: Slot, due: &mut VecDeque<ToWrite>) {
        self.early.insert(slot.position, slot.write);
        while let Some(write) = self.early.remove(&self.next) {
            self.next += 1;
            due.extend(write);
        }
    }

    /// Moves every article still held to `due`, in input order: no slot before them will come
    /// (the threads stopped).
    fn release(&mut self, due: &mut VecDeque<ToWrite>) {
        due.extend(std::mem::take(&mut self.early).into_values().flatten());
    }
}

enum Outcome {
    Written(Option<PutOutcome>, u64),
    Skipped(u64),
    Rejected(RejectedInput),
    Fatal(String),
}

/// Reads every path, annotates what changed, and writes it to `sink`.
pub fn ingest(
    paths: &[PathBuf],
    annotator: &Annotator,
    sink: &dyn ArticleSink,
    options: &IngestOptions,
    progress: &dyn Progress,
) -> IngestReport {
    let started = Instant::now();
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        options.threads
    };
    let mut report = IngestReport::default();
    let (item_sender, item_receiver) = mpsc::sync_channel::<(u64, InputItem)>(threads * 16);
    // Dropping the receiver (on a fatal error) makes the reader's next send fail, so it stops.
    let item_receiver = Mutex::new(Some(item_receiver));
    let (outcome_sender, outcome_receiver) = mpsc::channel::<Outcome>();
    std::thread::scope(|scope| {
        let read_options = options.read.clone();
        let shard = options.shard;
        scope.spawn(move || {
            let items = read_inputs(paths, &read_options)
                .zip(0u64..)
                .filter(|(_, position)| shard.is_none_or(|shard| shard.takes(*position)))
                .map(|(item, _)| item)
                .zip(0u64..)
                .map(|(item, position)| (position, item));
            for item in items {
                if item_sender.send(item).is_err() {
                    break; // The workers stopped: a fatal sink error.
                }
            }
        });
        // One batch waits while one is written: annotated articles are the bulk of the memory.
        let (write_sender, write_receiver) = mpsc::sync_channel::<Slot>(MAX_BATCH);
        let outcomes = outcome_sender.clone();
        scope.spawn(move || write_batches(&write_receiver, sink, &outcomes));
        for _ in 0..threads {
            let outcomes = outcome_sender.clone();
            let writes = write_sender.clone();
            let items = &item_receiver;
            scope.spawn(move || {
                loop {
                    let next = match items.lock() {
                        Ok(guard) => match guard.as_ref() {
                            Some(receiver) => receiver.recv(),
                            None => break,
                        },
                        Err(_) => break,
                    };
                    let Ok((position, item)) = next else { break };
                    let sent = match process(item, annotator, sink) {
                        Prepared::Write(write) => writes
                            .send(Slot {
                                position,
                                write: Some(*write),
                            })
                            .is_ok(),
                        Prepared::Done(outcome) => {
                            let fatal = matches!(outcome, Outcome::Fatal(_));
                            outcomes.send(outcome).is_ok()
                                && !fatal
                                && writes
                                    .send(Slot {
                                        position,
                                        write: None,
                                    })
                                    .is_ok()
                        }
                    };
                    if !sent {
                        break; // The writer or the report stopped: a fatal error.
                    }
                }
            });
        }
        drop(write_sender);
        drop(outcome_sender);
        for outcome in outcome_receiver {
            match outcome {
                Outcome::Written(result, bytes) => {
                    report.bytes += bytes;
                    progress.article_done(bytes);
                    match result {
                        Some(PutOutcome::Inserted | PutOutcome::Replaced) => report.ingested += 1,
                        Some(PutOutcome::Unchanged) => report.unchanged += 1,
                        None => {}
                    }
                }
                Outcome::Skipped(bytes) => {
                    report.bytes += bytes;
                    progress.article_done(bytes);
                    report.unchanged += 1;
                }
                Outcome::Rejected(rejection) => {
                    progress.article_done(0);
                    report.rejected.push(rejection);
                }
                Outcome::Fatal(message) => {
                    report.fatal.get_or_insert(message);
                    if let Ok(mut receiver) = item_receiver.lock() {
                        receiver.take();
                    }
                }
            }
        }
    });
    match sink.finish() {
        Ok(summary) => {
            report.ingested += summary.ingested;
            report.unchanged += summary.unchanged;
            report
                .rejected
                .extend(
                    summary
                        .rejected
                        .into_iter()
                        .map(|(id, reason)| RejectedInput {
                            origin: format!("article {id}"),
                            reason,
                        }),
                );
        }
        // The sink's own account of why it failed is the root cause (a server that refused
        // the stream), more telling than the write that first noticed.
        Err(error) => report.fatal = Some(error.to_string()),
    }
    report.rejected.sort_by(|a, b| a.origin.cmp(&b.origin));
    report.elapsed = started.elapsed();
    report.peak_memory_bytes = peak_resident_bytes();
    report
}

/// What annotation made of an input: an article to write, or an outcome already known.
enum Prepared {
    Write(Box<ToWrite>),
    Done(Outcome),
}

/// The writer: gathers annotated articles into batches, in input order, and hands them to the
/// sink as they fill, until every annotation thread is done or the sink fails.
fn write_batches(
    receiver: &mpsc::Receiver<Slot>,
    sink: &dyn ArticleSink,
    outcomes: &mpsc::Sender<Outcome>,
) {
    // The origins of the batches handed to the sink and not yet reported, oldest first: the
    // sink reports batches in the order it was given them.
    let pending: Mutex<VecDeque<Vec<(String, u64)>>> = Mutex::new(VecDeque::new());
    let mut order = InputOrder::default();
    let mut due: VecDeque<ToWrite> = VecDeque::new();
    let mut batches = std::iter::from_fn(|| {
        while due.is_empty() {
            match receiver.recv() {
                Ok(slot) => order.accept(slot, &mut due),
                Err(_) => {
                    // Annotation is done.
                    order.release(&mut due);
                    if due.is_empty() {
                        return None;
                    }
                }
            }
        }
        let deadline = Instant::now() + MAX_BATCH_WAIT;
        while due.len() < MAX_BATCH {
            match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(slot) => order.accept(slot, &mut due),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    order.release(&mut due);
                    break;
                }
            }
        }
        let (articles, origins): (Vec<AnnotatedArticle>, Vec<(String, u64)>) = due
            .drain(..due.len().min(MAX_BATCH))
            .map(|write| (write.article, (write.origin, write.bytes)))
            .unzip();
        pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(origins);
        Some(articles)
    });
    let mut done = |results: BatchOutcomes| -> bool {
        let origins = pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or_default();
        for (result, (origin, bytes)) in results.into_iter().zip(origins) {
            let outcome = match result {
                Ok(result) => Outcome::Written(result, bytes),
                Err(SinkError::Rejected(reason)) => {
                    Outcome::Rejected(RejectedInput { origin, reason })
                }
                Err(SinkError::Fatal(message)) => Outcome::Fatal(message),
            };
            let fatal = matches!(outcome, Outcome::Fatal(_));
            if outcomes.send(outcome).is_err() || fatal {
                return false;
            }
        }
        true
    };
    if let Err(error) = sink.put_batches(&mut batches, &mut done) {
        let _ = outcomes.send(Outcome::Fatal(error.to_string()));
    }
}

fn process(item: InputItem, annotator: &Annotator, sink: &dyn ArticleSink) -> Prepared {
    let raw = match item {
        InputItem::Article(raw) => raw,
        InputItem::Rejected(rejection) => {
            return Prepared::Done(Outcome::Rejected(RejectedInput {
                origin: rejection.origin.to_string(),
                reason: rejection.reason,
            }));
        }
    };
    let bytes = (raw.title.len() + raw.body.len()) as u64;
    let hash = content_hash(&raw.title, &raw.body);
    let origin = raw.origin.to_string();
    let id = article_id(&raw, &hash);
    match sink.stored_hash(&id) {
        Ok(Some(stored)) if stored == hash => return Prepared::Done(Outcome::Skipped(bytes)),
        Ok(_) => {}
        Err(SinkError::Fatal(message)) => return Prepared::Done(Outcome::Fatal(message)),
        Err(SinkError::Rejected(reason)) => {
            return Prepared::Done(Outcome::Rejected(RejectedInput { origin, reason }));
        }
    }
    Prepared::Write(Box::new(ToWrite {
        article: annotate_article(annotator, raw, hash),
        origin,
        bytes,
    }))
}

/// The peak resident set size of this process (`VmHWM` in `/proc/self/status`); `None` where
/// the file is missing (not Linux) or unreadable.
fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(position: u64, id: Option<&str>) -> Slot {
        Slot {
            position,
            write: id.map(|id| ToWrite {
                article: AnnotatedArticle {
                    article: Article {
                        id: id.to_owned(),
                        title: String::new(),
                        body: String::new(),
                        url: None,
                        source: None,
                        authors: Vec::new(),
                        published: None,
                        content_hash: String::new(),
                        mentions: Vec::new(),
                        statements: Vec::new(),
                        duplicate_of: None,
                    },
                    entities: Vec::new(),
                },
                origin: String::new(),
                bytes: 0,
            }),
        }
    }

    fn ids(due: &VecDeque<ToWrite>) -> Vec<&str> {
        due.iter()
            .map(|write| write.article.article.id.as_str())
            .collect()
    }

    #[test]
    fn slots_finished_out_of_order_are_released_in_input_order() {
        let mut order = InputOrder::default();
        let mut due = VecDeque::new();
        order.accept(slot(2, Some("c")), &mut due);
        order.accept(slot(3, None), &mut due);
        assert!(due.is_empty(), "nothing is due before position 0");
        order.accept(slot(0, Some("a")), &mut due);
        assert_eq!(ids(&due), ["a"]);
        // A rejected or skipped input lets the ones after it through.
        order.accept(slot(1, None), &mut due);
        assert_eq!(ids(&due), ["a", "c"]);
        order.accept(slot(5, Some("f")), &mut due);
        order.accept(slot(6, Some("g")), &mut due);
        assert_eq!(ids(&due), ["a", "c"]);
        // Threads that stopped never send position 4: what is held goes in order.
        order.release(&mut due);
        assert_eq!(ids(&due), ["a", "c", "f", "g"]);
    }
}
