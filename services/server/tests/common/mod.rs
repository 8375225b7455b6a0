//! A communique server started in-process on 127.0.0.1:0 over a temporary store holding the
//! annotated seed articles, with clients connected to it. Shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use communique_proto::v1::article_service_client::ArticleServiceClient;
use communique_proto::v1::entity_service_client::EntityServiceClient;
use communique_proto::v1::stance_service_client::StanceServiceClient;
use communique_server::{Listeners, Paging, ServeOptions, serve};
use communique_store::{ArticleStore, SledStore, StoreOptions};
use communique_worker::annotate::Annotator;
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, ingest};
use communique_worker::sink::StoreSink;
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

pub struct TestServer {
    pub address: std::net::SocketAddr,
    pub metrics_address: std::net::SocketAddr,
    pub health_address: std::net::SocketAddr,
    pub channel: Channel,
    /// The store the server serves, for integrity checks next to the RPCs.
    pub store: Arc<SledStore>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// The options the tests start from: plaintext, no tokens.
pub fn default_options() -> ServeOptions {
    ServeOptions {
        paging: Paging {
            default_size: 20,
            max_size: 50,
        },
        max_message_bytes: 1 << 20,
        drain: Duration::from_secs(5),
        max_concurrent_requests: 64,
        tls: None,
        tokens: Vec::new(),
        require_token_for_reads: false,
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(default_options()).await
    }

    /// Starts with `options`; a TLS server is reached over https trusting its own certificate.
    pub async fn start_with(options: ServeOptions) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), &StoreOptions::default()).unwrap();
        let seeds = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds"));
        let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
        let report = ingest(
            &[seeds],
            &annotator,
            &StoreSink { store: &store },
            &IngestOptions::default(),
            &(),
        );
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.ingested, 5);
        let store = Arc::new(store);
        let served: Arc<dyn ArticleStore> = store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_address = metrics_listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let tls_certificate = options.tls.as_ref().map(|tls| tls.certificate.clone());
        let listeners = Listeners {
            grpc: listener,
            metrics: Some(metrics_listener),
            health: Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
        };
        let health_address = listeners.health.as_ref().unwrap().local_addr().unwrap();
        let task = tokio::spawn(serve(listeners, served, options, async {
            let _ = stopped.await;
        }));
        let channel = match tls_certificate {
            None => Channel::from_shared(format!("http://{address}")).unwrap(),
            Some(certificate) => {
                Channel::from_shared(format!("https://localhost:{}", address.port()))
                    .unwrap()
                    .tls_config(
                        ClientTlsConfig::new()
                            .ca_certificate(Certificate::from_pem(certificate))
                            .domain_name("localhost"),
                    )
                    .unwrap()
            }
        }
        .connect()
        .await
        .unwrap();
        TestServer {
            address,
            metrics_address,
            health_address,
            channel,
            store,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn articles(&self) -> ArticleServiceClient<Channel> {
        ArticleServiceClient::new(self.channel.clone())
    }

    pub fn entities(&self) -> EntityServiceClient<Channel> {
        EntityServiceClient::new(self.channel.clone())
    }

    pub fn stances(&self) -> StanceServiceClient<Channel> {
        StanceServiceClient::new(self.channel.clone())
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}
