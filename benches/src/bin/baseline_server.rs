//! `baseline-server`: a bare tonic server with `bench.v1.BaselineService` (`SayHello`, `Echo`)
//! and `grpc.health.v1.Health`, on tonic's defaults and tokio's default runtime like
//! communique-server. What communique's RPCs cost above it is what communique adds.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use communique_bench::pb::baseline_service_server::{BaselineService, BaselineServiceServer};
use communique_bench::pb::{EchoRequest, EchoResponse, SayHelloRequest, SayHelloResponse};
use prost::bytes::Bytes;
use tonic::{Request, Response, Status};

#[derive(Parser, Debug)]
#[command(about = "A bare tonic hello-world server, the baseline of communique's benchmarks")]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:50052")]
    listen: SocketAddr,
    /// Largest request or reply, as communique-server's server.max_message_bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message_bytes: usize,
    /// How connections are accepted.
    #[arg(long, value_enum, default_value_t = Incoming::Tonic)]
    incoming: Incoming,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Incoming {
    /// tonic binds the address itself (`serve_with_shutdown`): TCP_NODELAY is set on every
    /// accepted connection (tonic's default).
    Tonic,
    /// A tokio `TcpListener` wrapped in `TcpListenerStream`, as communique-server's `serve`
    /// does: tonic then ignores its `tcp_nodelay` setting, so Nagle's algorithm stays on.
    ListenerStream,
}

struct Baseline {
    /// Replies of `reply_bytes` are slices of this buffer: no allocation per request.
    filler: Bytes,
}

#[tonic::async_trait]
impl BaselineService for Baseline {
    async fn say_hello(
        &self,
        request: Request<SayHelloRequest>,
    ) -> Result<Response<SayHelloResponse>, Status> {
        Ok(Response::new(SayHelloResponse {
            message: format!("Hello {}!", request.into_inner().name),
        }))
    }

    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        let EchoRequest {
            payload,
            reply_bytes,
        } = request.into_inner();
        let payload = if reply_bytes == 0 {
            payload
        } else {
            let size = reply_bytes as usize;
            if size > self.filler.len() {
                return Err(Status::invalid_argument(format!(
                    "reply_bytes {size} is above the limit {}",
                    self.filler.len()
                )));
            }
            self.filler.slice(..size)
        };
        Ok(Response::new(EchoResponse { payload }))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let limit = cli.max_message_bytes;
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<BaselineServiceServer<Baseline>>()
        .await;
    let service = BaselineServiceServer::new(Baseline {
        // Room for the reply and its framing inside the message limit.
        filler: Bytes::from(vec![0x5a; limit.saturating_sub(64)]),
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    eprintln!(
        "baseline-server listening on {} ({:?})",
        cli.listen, cli.incoming
    );
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(service);
    match cli.incoming {
        Incoming::Tonic => {
            router
                .serve_with_shutdown(cli.listen, shutdown_signal())
                .await
        }
        Incoming::ListenerStream => {
            let listener = tokio::net::TcpListener::bind(cli.listen)
                .await
                .with_context(|| format!("cannot listen on {}", cli.listen))?;
            router
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    shutdown_signal(),
                )
                .await
        }
    }
    .with_context(|| format!("cannot serve on {}", cli.listen))?;
    Ok(())
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
