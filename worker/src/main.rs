//! `communique-worker`: ingest articles into a store or a running server, and evaluate the
//! annotator against gold annotations.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use communique_store::{SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::input::{InputFormat, ReadOptions};
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, IngestReport, Progress, ingest};
use communique_worker::sink::{ServerSink, StoreSink};

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
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Auto,
    Text,
    Jsonl,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Ingest {
            paths,
            db,
            server,
            format,
            max_input_bytes,
            knowledge_base,
            threads,
            cache_mb,
            json,
        } => {
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
            };
            match run_ingest(
                &paths,
                &db,
                server.as_deref(),
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

fn run_ingest(
    paths: &[PathBuf],
    db: &std::path::Path,
    server: Option<&str>,
    extra_kb: &[PathBuf],
    cache_mb: u64,
    options: &IngestOptions,
) -> Result<IngestReport, String> {
    let kb = knowledge_base::load(extra_kb).map_err(|e| e.to_string())?;
    let annotator = Annotator::new(&kb);
    let progress = ProgressBar::new();
    let report = match server {
        Some(url) => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            let sink = ServerSink::connect(&runtime, url).map_err(|e| e.to_string())?;
            ingest(paths, &annotator, &sink, options, &progress)
        }
        None => {
            let store_options = StoreOptions {
                cache_capacity_bytes: cache_mb.saturating_mul(1024 * 1024),
            };
            let store = SledStore::open(db, &store_options).map_err(|e| e.to_string())?;
            ingest(
                paths,
                &annotator,
                &StoreSink { store: &store },
                options,
                &progress,
            )
        }
    };
    progress.finish();
    Ok(report)
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
