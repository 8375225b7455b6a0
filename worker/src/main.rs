//! `communique-worker`: ingest articles into a store or a running server, and evaluate the
//! annotator against gold annotations.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use communique_store::{SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::annotate::eval::{Dating, EvalReport, evaluate};
use communique_worker::input::{InputFormat, ReadOptions};
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, IngestReport, Progress, Shard, ingest};
use communique_worker::sink::{ServerSink, SledSink};

// mimalloc instead of glibc's malloc: about 30% less CPU for an ingest (sled copies a tree node
// for every key it inserts; the annotator makes many small strings).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells mimalloc to keep the memory it frees instead of handing it back to the OS after 10 ms
/// (its default): an ingest frees and reallocates sled's node copies all the time, and each
/// page handed back faults in (zeroed, as a transparent huge page) when reused. Measured on the
/// corpus ingest: page faults 50k -> 0.8k, 0.87x the CPU, 0.84x the wall time, peak RSS about
/// 2-4% higher. Set here, not through `MIMALLOC_PURGE_DELAY`, which mimalloc reads only at
/// start; the worker is a batch job that exits when done, so memory kept is not withheld long.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    use std::ffi::{c_int, c_long};
    /// `mi_option_purge_delay` in the `mi_option_e` enum of mimalloc.h (15 in both the v2 and
    /// v3 headers vendored by libmimalloc-sys 0.1.49).
    const MI_OPTION_PURGE_DELAY: c_int = 15;
    /// Milliseconds before freed memory is purged; -1 is never.
    const NEVER: c_long = -1;
    unsafe extern "C" {
        // Defined by mimalloc, which libmimalloc-sys compiles and links for `ALLOCATOR`.
        fn mi_option_set(option: c_int, value: c_long);
    }
    // SAFETY: the declaration matches mimalloc.h (`void mi_option_set(mi_option_t option, long
    // value)`, `mi_option_t` a C enum, so an int); it only stores the value in mimalloc's option
    // table, for any option number below `_mi_option_last` and any value.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, NEVER) }
}

/// Exit status when some input was rejected but the rest was stored.
const EXIT_REJECTED: u8 = 2;

#[derive(Parser)]
#[command(version, about = "Ingest news articles into communique")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read, clean and annotate articles, then store them.
    ///
    /// PATHs are files, folders (read recursively) or `-` for standard input; gzip files are
    /// read as they are. Exits 0 when everything was stored, 2 when some input was rejected
    /// (the rest is stored), 1 when the run could not go on.
    Ingest {
        /// Files, folders or `-`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write into the store in this directory; no other process may hold it.
        #[arg(long, default_value = "./data", conflicts_with = "server")]
        db: PathBuf,
        /// Stream to a running server's IngestService instead, e.g. http://localhost:50051.
        #[arg(long)]
        server: Option<String>,
        /// A file holding the bearer token for --server (first non-empty line).
        #[arg(long, requires = "server")]
        token_file: Option<PathBuf>,
        /// A PEM CA bundle to trust for an https:// --server, besides the system's roots.
        #[arg(long, requires = "server")]
        ca_file: Option<PathBuf>,
        /// Take only shard INDEX of --shard-count (inputs whose position modulo the count is
        /// INDEX), so parallel workers over the same paths split them.
        #[arg(long, requires = "shard_count", env = "JOB_COMPLETION_INDEX")]
        shard_index: Option<u64>,
        /// The number of shards (workers) the input is split into.
        #[arg(long, requires = "shard_index")]
        shard_count: Option<u64>,
        /// Input format; `auto` detects JSONL by extension or a leading `{`.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Largest text file or JSONL line accepted, in bytes.
        #[arg(long, default_value_t = 10 * 1024 * 1024)]
        max_input_bytes: u64,
        /// Extra knowledge-base files or folders (TOML; see docs/knowledge-base.md).
        #[arg(long = "kb")]
        knowledge_base: Vec<PathBuf>,
        /// Annotation threads; 0 means one per core.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// The store's page cache, in megabytes (with --db).
        #[arg(long, default_value_t = 256)]
        cache_mb: u64,
        /// Print the report as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Read, date and annotate gold documents as ingest does, and print precision and recall
    /// per category with every miss (and the figures at the gold dates when they differ).
    Eval {
        /// Gold annotations (JSON, the format of worker/tests/fixtures/seeds_gold.json).
        #[arg(long)]
        gold: PathBuf,
        /// The folder holding the gold documents as `<document id>.txt`.
        #[arg(long, default_value = "seeds")]
        documents: PathBuf,
        /// Extra knowledge-base files or folders.
        #[arg(long = "kb")]
        knowledge_base: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Auto,
    Text,
    Jsonl,
}

fn main() -> ExitCode {
    keep_freed_memory();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Eval {
            gold,
            documents,
            knowledge_base,
        } => match run_eval(&gold, &documents, &knowledge_base) {
            Ok((shipped, at_gold_dates)) => {
                let mut text = shipped.to_string();
                if at_gold_dates != shipped {
                    text.push_str("\nAt the gold dates instead of the dates ingest found:\n\n");
                    text.push_str(&at_gold_dates.to_string());
                }
                // A closed pipe (`| head`) is no reason to panic.
                match writeln!(std::io::stdout(), "{text}") {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(_) => ExitCode::FAILURE,
                }
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
        Command::Ingest {
            paths,
            db,
            server,
            token_file,
            ca_file,
            shard_index,
            shard_count,
            format,
            max_input_bytes,
            knowledge_base,
            threads,
            cache_mb,
            json,
        } => {
            let shard = match (shard_index, shard_count) {
                (Some(index), Some(count)) => match Shard::new(index, count) {
                    Ok(shard) => Some(shard),
                    Err(message) => {
                        eprintln!("error: {message}");
                        return ExitCode::FAILURE;
                    }
                },
                _ => None,
            };
            let connection = server.map(|url| Connection {
                url,
                token_file,
                ca_file,
            });
            let options = IngestOptions {
                read: ReadOptions {
                    format: match format {
                        Format::Auto => InputFormat::Auto,
                        Format::Text => InputFormat::Text,
                        Format::Jsonl => InputFormat::Jsonl,
                    },
                    max_input_bytes,
                },
                threads,
                shard,
            };
            match run_ingest(
                &paths,
                &db,
                connection.as_ref(),
                &knowledge_base,
                cache_mb,
                &options,
            ) {
                Ok(report) => finish(&report, json),
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The evaluation of the shipped pipeline, and the same at the gold dates.
fn run_eval(
    gold: &std::path::Path,
    documents: &std::path::Path,
    extra_kb: &[PathBuf],
) -> Result<(EvalReport, EvalReport), String> {
    let gold_json = std::fs::read_to_string(gold)
        .map_err(|e| format!("cannot read --gold {}: {e}", gold.display()))?;
    let mut texts = std::collections::HashMap::new();
    let entries = std::fs::read_dir(documents)
        .map_err(|e| format!("cannot read --documents {}: {e}", documents.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "txt")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            texts.insert(stem.to_owned(), text);
        }
    }
    let kb = knowledge_base::load(extra_kb).map_err(|e| e.to_string())?;
    let annotator = Annotator::new(&kb);
    let run = |dating| evaluate(&annotator, &gold_json, &texts, dating).map_err(|e| e.to_string());
    Ok((run(Dating::Pipeline)?, run(Dating::Gold)?))
}

/// Where and how to reach a running server.
struct Connection {
    url: String,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
}

fn run_ingest(
    paths: &[PathBuf],
    db: &std::path::Path,
    server: Option<&Connection>,
    extra_kb: &[PathBuf],
    cache_mb: u64,
    options: &IngestOptions,
) -> Result<IngestReport, String> {
    let kb = knowledge_base::load(extra_kb).map_err(|e| e.to_string())?;
    let annotator = Annotator::new(&kb);
    let progress = ProgressBar::new();
    let report = match server {
        Some(connection) => {
            let token = match &connection.token_file {
                None => None,
                Some(path) => Some(read_token(path)?),
            };
            let ca = match &connection.ca_file {
                None => None,
                Some(path) => Some(
                    std::fs::read(path)
                        .map_err(|e| format!("cannot read --ca-file {}: {e}", path.display()))?,
                ),
            };
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            let sink =
                ServerSink::connect(&runtime, &connection.url, token.as_deref(), ca.as_deref())
                    .map_err(|e| e.to_string())?;
            ingest(paths, &annotator, &sink, options, &progress)
        }
        None => {
            let store_options = StoreOptions {
                cache_capacity_bytes: cache_mb.saturating_mul(1024 * 1024),
                // Loaded by the first write: an unchanged re-ingest writes nothing.
                load_indexes_at_open: false,
            };
            let store = SledStore::open(db, &store_options).map_err(|e| e.to_string())?;
            let report = ingest(
                paths,
                &annotator,
                &SledSink { store: &store },
                options,
                &progress,
            );
            if report.fatal.is_none() {
                // Flushed by the sink's `finish`: dropping the store now would only free its
                // memory (the mirror, sled's cached nodes) and stop sled's threads, which the
                // process's exit does at once.
                leak_at_exit(store);
            }
            report
        }
    };
    progress.finish();
    leak_at_exit(annotator);
    Ok(report)
}

/// Leaves `value` to the process's exit instead of dropping it: the worker exits right after an
/// ingest, and freeing a corpus-sized store and the annotator piece by piece took about 0.3 s
/// of wall time after the corpus ingest (0.91x its wall time, 0.93x its CPU without it), which
/// the exit does not need. Only for what holds nothing left to write.
fn leak_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// The first non-empty, non-comment line of a token file (a mounted Secret).
fn read_token(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --token-file {}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .ok_or_else(|| format!("--token-file {} holds no token", path.display()))
}

fn finish(report: &IngestReport, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: cannot write the report: {error}"),
        }
    } else {
        let seconds = report.elapsed.as_secs_f64();
        let megabytes = report.bytes as f64 / 1e6;
        println!(
            "ingested {}, unchanged {}, rejected {} in {seconds:.2} s ({megabytes:.2} MB, {:.1} MB/s)",
            report.ingested,
            report.unchanged,
            report.rejected.len(),
            if seconds > 0.0 {
                megabytes / seconds
            } else {
                0.0
            },
        );
        if let Some(peak) = report.peak_memory_bytes {
            println!("peak memory {:.0} MB", peak as f64 / 1e6);
        }
        for rejection in &report.rejected {
            println!("rejected {}: {}", rejection.origin, rejection.reason);
        }
        if let Some(fatal) = &report.fatal {
            println!("stopped early: {fatal}");
        }
    }
    if report.fatal.is_some() {
        ExitCode::FAILURE
    } else if !report.rejected.is_empty() {
        ExitCode::from(EXIT_REJECTED)
    } else {
        ExitCode::SUCCESS
    }
}

/// A progress bar on a terminal; silent otherwise.
struct ProgressBar(Option<indicatif::ProgressBar>);

impl ProgressBar {
    fn new() -> ProgressBar {
        if !std::io::stderr().is_terminal() {
            return ProgressBar(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} articles [{elapsed}] {per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        ProgressBar(Some(bar))
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Progress for ProgressBar {
    fn article_done(&self, _bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }
}
