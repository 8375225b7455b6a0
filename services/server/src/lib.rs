//! communique's gRPC server: the article, entity and stance services (plus the internal
//! IngestService) over an [`ArticleStore`], with health checking and server reflection.
//! `main.rs` wires configuration, logging, the store and signals around [`serve`].

mod answer;
mod api;
mod auth;
pub mod config;
mod edge;
mod metrics;
mod paging;
mod routes;
mod statement_wires;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use communique_proto::v1::article_service_server::ArticleServiceServer;
use communique_proto::v1::entity_service_server::EntityServiceServer;
use communique_proto::v1::ingest_service_server::IngestServiceServer;
use communique_proto::v1::stance_service_server::StanceServiceServer;
use communique_store::ArticleStore;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

pub use api::Api;
pub use auth::{Authenticator, load_tokens};
use edge::Edge;
use metrics::{Metrics, serve_metrics};
pub use paging::Paging;
use routes::{ArticleRoutes, EntityRoutes, StanceRoutes};

/// The services that reflection lists; IngestService is internal and left out.
pub const PUBLIC_SERVICES: [&str; 4] = [
    "communique.v1.ArticleService",
    "communique.v1.EntityService",
    "communique.v1.StanceService",
    "grpc.health.v1.Health",
];

/// What `serve` needs besides the store and the listener.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub paging: Paging,
    pub max_message_bytes: usize,
    /// How long in-flight requests may run after shutdown begins.
    pub drain: Duration,
    /// Requests served at once; more get RESOURCE_EXHAUSTED.
    pub max_concurrent_requests: usize,
    /// Certificates for TLS; `None` serves plaintext.
    pub tls: Option<TlsPem>,
    /// Bearer tokens; empty leaves IngestService open.
    pub tokens: Vec<String>,
    /// Require a token for the read services too.
    pub require_token_for_reads: bool,
}

/// PEM-encoded TLS material.
#[derive(Clone)]
pub struct TlsPem {
    pub certificate: Vec<u8>,
    pub key: Vec<u8>,
    /// When present, clients must present a certificate this CA signed.
    pub client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TlsPem")
            .field("client_ca", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

/// The sockets the server answers on.
pub struct Listeners {
    /// The gRPC API (TLS when configured).
    pub grpc: TcpListener,
    /// Prometheus text at /metrics.
    pub metrics: Option<TcpListener>,
    /// Plaintext grpc.health.v1 only, for probes that cannot speak TLS (the kubelet's).
    pub health: Option<TcpListener>,
}

/// Serves until `shutdown` completes, then reports NOT_SERVING, drains in-flight requests (up
/// to `drain`) and flushes the store.
pub async fn serve(
    listeners: Listeners,
    store: Arc<dyn ArticleStore>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::default());
    let api = Api::new(
        Arc::clone(&store),
        options.paging,
        Arc::clone(&metrics),
        options.max_concurrent_requests,
        options.max_message_bytes,
    );
    let limit = options.max_message_bytes;
    let has_tokens = !options.tokens.is_empty();
    if !has_tokens {
        tracing::warn!(
            "auth.tokens_file is not set: IngestService accepts unauthenticated streams"
        );
    }
    let ingest_auth = Authenticator::new(&options.tokens, has_tokens);
    let read_auth = Authenticator::new(&options.tokens, options.require_token_for_reads);

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ArticleServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<EntityServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<StanceServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<IngestServiceServer<Api>>()
        .await;

    let mut reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(communique_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(communique_proto::ERROR_DETAILS_DESCRIPTOR_SET);
    let mut reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(communique_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(communique_proto::ERROR_DETAILS_DESCRIPTOR_SET);
    for service in PUBLIC_SERVICES {
        reflection_v1 = reflection_v1.with_service_name(service);
        reflection_v1alpha = reflection_v1alpha.with_service_name(service);
    }

    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let reporter = health_reporter.clone();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: reporting NOT_SERVING and draining requests");
        reporter
            .set_not_serving::<ArticleServiceServer<Api>>()
            .await;
        reporter.set_not_serving::<EntityServiceServer<Api>>().await;
        reporter.set_not_serving::<StanceServiceServer<Api>>().await;
        reporter.set_not_serving::<IngestServiceServer<Api>>().await;
        // The whole server (service "") too: Kubernetes probes ask for it.
        reporter
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        let _ = stopping_tx.send(());
    };

    let Listeners {
        grpc: listener,
        metrics: metrics_listener,
        health: health_listener,
    } = listeners;
    let metrics_task = metrics_listener.map(|listener| {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "serving metrics at /metrics");
        }
        tokio::spawn(serve_metrics(
            listener,
            Arc::clone(&metrics),
            Arc::clone(&store),
        ))
    });

    let health_task = health_listener.map(|listener| {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "serving plaintext health checks");
        }
        let health = health_service.clone();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health)
                .serve_with_incoming(incoming(listener)),
        )
    });

    let local = listener.local_addr()?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &options.tls {
        let mut config =
            ServerTlsConfig::new().identity(Identity::from_pem(&tls.certificate, &tls.key));
        if let Some(ca) = &tls.client_ca {
            config = config.client_ca_root(Certificate::from_pem(ca));
        }
        builder = builder.tls_config(config)?;
    }
    let router = builder
        .add_service(health_service)
        .add_service(reflection_v1.build_v1()?)
        .add_service(reflection_v1alpha.build_v1alpha()?)
        .add_service(InterceptedService::new(
            // GetArticle is encoded from the stored article (see `routes.rs`).
            Edge::new(ArticleRoutes::new(api.clone(), limit), limit),
            read_auth.clone(),
        ))
        .add_service(InterceptedService::new(
            // SearchEntities is encoded through a vector (see `routes.rs`).
            Edge::new(EntityRoutes::new(api.clone(), limit), limit),
            read_auth.clone(),
        ))
        .add_service(InterceptedService::new(
            // CompareStances is encoded from the store's rows (see `routes.rs`).
            Edge::new(StanceRoutes::new(api.clone(), limit), limit),
            read_auth,
        ))
        .add_service(InterceptedService::new(
            Edge::new(
                IngestServiceServer::new(api)
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit),
                limit,
            ),
            ingest_auth,
        ));
    tracing::info!(address = %local, tls = options.tls.is_some(), "serving gRPC");
    // The listener closes the moment shutdown begins, not when the last connection has drained:
    // tonic would hold it open meanwhile, and connections waiting in its backlog would then be
    // reset (UNKNOWN on the client) instead of refused (UNAVAILABLE). Ending the stream of
    // accepted connections makes tonic drain gracefully, as its own shutdown signal would.
    let accepted = UntilShutdown {
        accepting: Some(incoming(listener)),
        shutdown: Box::pin(graceful),
    };
    let server = router.serve_with_incoming_shutdown(accepted, std::future::pending());
    tokio::pin!(server);
    // Drain: once shutdown begins, in-flight requests get `drain` to finish.
    tokio::select! {
        result = &mut server => result?,
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(options.drain).await;
        } => tracing::warn!(drain_seconds = options.drain.as_secs(), "drain time over: closing remaining connections"),
    }
    for task in [
        metrics_task.map(|t| t.abort_handle()),
        health_task.map(|t| t.abort_handle()),
    ]
    .into_iter()
    .flatten()
    {
        task.abort();
    }
    let flushed = tokio::task::spawn_blocking(move || store.flush()).await?;
    flushed?;
    tracing::info!("store flushed; stopped");
    Ok(())
}

/// Accepted connections with TCP_NODELAY on. Without it Nagle's algorithm holds back the last
/// segment of every small reply until the client's delayed ACK (tens of milliseconds per RPC);
/// tonic applies its own `tcp_nodelay` setting only to listeners it binds itself.
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Accepted connections until `shutdown` completes; then the listener is closed at once.
struct UntilShutdown<S> {
    accepting: Option<S>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl<S: tokio_stream::Stream + Unpin> tokio_stream::Stream for UntilShutdown<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.accepting.is_some() && self.shutdown.as_mut().poll(context).is_ready() {
            self.accepting = None;
        }
        match self.accepting.as_mut() {
            Some(accepting) => Pin::new(accepting).poll_next(context),
            None => Poll::Ready(None),
        }
    }
}
