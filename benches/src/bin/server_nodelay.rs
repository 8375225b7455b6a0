//! `server-nodelay`: a diagnostic, not a product. It serves a communique store through the very
//! same `communique_server::serve` as communique-server, with one difference: TCP_NODELAY is
//! set on the listening socket, which Linux copies to every accepted connection.
//!
//! Why: `serve` accepts connections through a `TcpListenerStream`, and tonic ignores its
//! `tcp_nodelay` setting for such a stream, so Nagle's algorithm holds back the last segment of
//! any response written in more than one piece until the client's delayed ACK (about 40 ms on
//! Linux). run-serving.sh measures the server as shipped, then this what-if on the same store,
//! so the cost of that one setting is separated from the store's and the conversions' costs.
//!
//! ```sh
//! server-nodelay --db /tmp/communique-bench/corpus-db-KEY --listen 127.0.0.1:50151
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use communique_server::{Listeners, Paging, ServeOptions, serve};
use communique_store::{ArticleStore, SledStore, StoreOptions};

#[derive(Parser, Debug)]
#[command(about = "communique's serve() over a store, with TCP_NODELAY on accepted connections")]
struct Cli {
    /// The store (no other process may hold it).
    #[arg(long)]
    db: PathBuf,
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    #[arg(long, default_value_t = 256)]
    cache_capacity_mb: u64,
    #[arg(long, default_value_t = 1_000_000)]
    max_concurrent_requests: usize,
    /// Leave Nagle's algorithm on, exactly as communique-server does (for an A/B check).
    #[arg(long)]
    no_nodelay: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let store = SledStore::open(
        &cli.db,
        &StoreOptions {
            cache_capacity_bytes: cli.cache_capacity_mb.saturating_mul(1024 * 1024),
        },
    )?;
    let store: Arc<dyn ArticleStore> = Arc::new(store);
    runtime.block_on(async {
        let socket = if cli.listen.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.set_nodelay(!cli.no_nodelay)?;
        socket
            .bind(cli.listen)
            .with_context(|| format!("cannot listen on {}", cli.listen))?;
        let listener = socket.listen(1024)?;
        let options = ServeOptions {
            paging: Paging {
                default_size: 20,
                max_size: 200,
            },
            max_message_bytes: 16 * 1024 * 1024,
            drain: Duration::from_secs(2),
            max_concurrent_requests: cli.max_concurrent_requests,
            tls: None,
            tokens: Vec::new(),
            require_token_for_reads: false,
        };
        eprintln!(
            "server-nodelay serving {} on {} (nodelay: {})",
            cli.db.display(),
            cli.listen,
            !cli.no_nodelay
        );
        let listeners = Listeners {
            grpc: listener,
            metrics: None,
            health: None,
        };
        serve(listeners, store, options, shutdown_signal()).await
    })
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
