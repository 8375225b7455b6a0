//! `communique-server`: loads configuration, opens the store (ingesting the seed articles when
//! it is empty), and serves gRPC until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use communique_server::config::{LogFormat, ServerConfig, TlsSection};
use communique_server::{Listeners, Paging, ServeOptions, TlsPem, load_tokens, serve};
use communique_store::{ArticleStore, SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, ingest};
use communique_worker::sink::StoreSink;

// glibc's malloc took about a quarter of the server's CPU under load (fastbin consolidation
// around every large reply buffer, many small strings per answer); mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Serve communique's gRPC API over a store of annotated news"
)]
struct Cli {
    /// A TOML configuration file; environment variables COMMUNIQUE__SECTION__KEY override it.
    #[arg(long, env = "COMMUNIQUE_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = ServerConfig::load(cli.config.as_deref(), std::env::vars().collect())?;
    init_logging(config.server.log_format);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let store = open_store(&config)?;
    runtime.block_on(run(config, store))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Opens the store and, when it holds no article yet, ingests the configured seed paths so a
/// fresh start serves something.
fn open_store(config: &ServerConfig) -> anyhow::Result<Arc<SledStore>> {
    let options = StoreOptions {
        cache_capacity_bytes: config.store.cache_capacity_mb.saturating_mul(1024 * 1024),
        // Searches and stance comparisons read it: loaded while the server starts.
        load_indexes_at_open: true,
    };
    let store = SledStore::open(&config.store.data_dir, &options)?;
    tracing::info!(data_dir = %config.store.data_dir.display(), "store open");
    if store.article_count()? == 0 && !config.seed.paths.is_empty() {
        let kb = knowledge_base::load(&config.seed.knowledge_base_paths)?;
        let annotator = Annotator::new(&kb);
        let report = ingest(
            &config.seed.paths,
            &annotator,
            &StoreSink { store: &store },
            &IngestOptions::default(),
            &(),
        );
        if let Some(fatal) = &report.fatal {
            anyhow::bail!("seeding the store failed: {fatal}");
        }
        for rejection in &report.rejected {
            tracing::warn!(origin = %rejection.origin, reason = %rejection.reason, "seed input rejected");
        }
        tracing::info!(
            ingested = report.ingested,
            rejected = report.rejected.len(),
            elapsed_ms = report.elapsed.as_millis() as u64,
            "store seeded"
        );
    }
    Ok(Arc::new(store))
}

async fn run(config: ServerConfig, store: Arc<SledStore>) -> anyhow::Result<()> {
    let address = config.server.listen_address;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let metrics_listener = match config.metrics.address() {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?,
        ),
        None => None,
    };
    let health_listener = match &config.server.health_listen_address {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for health checks on {address}"))?,
        ),
        None => None,
    };
    let options = ServeOptions {
        paging: Paging {
            default_size: config.server.default_page_size,
            max_size: config.server.max_page_size,
        },
        max_message_bytes: config.server.max_message_bytes,
        drain: Duration::from_secs(config.server.drain_seconds),
        max_concurrent_requests: config.server.max_concurrent_requests,
        tls: load_tls(&config.tls)?,
        tokens: if config.auth.tokens_file.as_os_str().is_empty() {
            Vec::new()
        } else {
            load_tokens(&config.auth.tokens_file)?
        },
        require_token_for_reads: config.auth.require_for_reads,
    };
    let store: Arc<dyn ArticleStore> = store;
    let listeners = Listeners {
        grpc: listener,
        metrics: metrics_listener,
        health: health_listener,
    };
    serve(listeners, store, options, shutdown_signal()).await
}

fn load_tls(tls: &TlsSection) -> anyhow::Result<Option<TlsPem>> {
    if !tls.enabled() {
        return Ok(None);
    }
    let read = |key: &str, path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("cannot read {key} {}", path.display()))
    };
    Ok(Some(TlsPem {
        certificate: read("tls.cert_path", &tls.cert_path)?,
        key: read("tls.key_path", &tls.key_path)?,
        client_ca: if tls.client_ca_path.as_os_str().is_empty() {
            None
        } else {
            Some(read("tls.client_ca_path", &tls.client_ca_path)?)
        },
    }))
}

/// Completes on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
