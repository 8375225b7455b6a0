//! Where annotated articles go: straight into a store the worker opened itself, or streamed to
//! a running server's IngestService (the server stays the store's single writer).

use std::sync::Mutex;

use communique_domain::AnnotatedArticle;
use communique_proto::v1 as pb;
use communique_proto::v1::ingest_service_client::IngestServiceClient;
use communique_store::{ArticleStore, PutOutcome, SledStore, StoreError};
use tokio::sync::mpsc;

/// Why an article could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// This article is refused; the batch goes on.
    #[error("{0}")]
    Rejected(String),
    /// Nothing more can be written; the batch stops.
    #[error("{0}")]
    Fatal(String),
}

/// What a sink reports when the batch ends, for outcomes it only learns then.
#[derive(Debug, Default)]
pub struct SinkSummary {
    pub ingested: u64,
    pub unchanged: u64,
    /// (article id, reason)
    pub rejected: Vec<(String, String)>,
}

pub trait ArticleSink: Sync {
    /// The stored content hash of an article, when the sink can tell, so unchanged input is not
    /// annotated again.
    fn stored_hash(&self, article_id: &str) -> Result<Option<String>, SinkError>;

    /// Writes one article. `None` when the outcome is only known at [`ArticleSink::finish`].
    fn put(&self, article: AnnotatedArticle) -> Result<Option<PutOutcome>, SinkError>;

    /// Writes several articles, each with its own outcome in input order (a `Rejected` error
    /// refuses that article alone); `Err` stops the batch. Sinks that can write many articles
    /// at once more cheaply than one by one override it.
    fn put_batch(
        &self,
        articles: Vec<AnnotatedArticle>,
    ) -> Result<Vec<Result<Option<PutOutcome>, SinkError>>, SinkError> {
        let mut outcomes = Vec::with_capacity(articles.len());
        for article in articles {
            match self.put(article) {
                Err(SinkError::Fatal(message)) => return Err(SinkError::Fatal(message)),
                other => outcomes.push(other),
            }
        }
        Ok(outcomes)
    }

    /// Writes batches as `batches` yields them, handing each batch's outcomes (as
    /// [`ArticleSink::put_batch`] returns them) to `done`, in batch order, once written; `done`
    /// returns false to stop. `Err` stops the batches. Sinks that can write one batch while the
    /// next is prepared override it.
    fn put_batches(
        &self,
        batches: &mut dyn Iterator<Item = Vec<AnnotatedArticle>>,
        done: &mut (dyn FnMut(BatchOutcomes) -> bool + Send),
    ) -> Result<(), SinkError> {
        for batch in batches {
            if !done(self.put_batch(batch)?) {
                break;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Result<SinkSummary, SinkError>;
}

/// Each article's outcome in a batch, in input order.
pub type BatchOutcomes = Vec<Result<Option<PutOutcome>, SinkError>>;

/// Writes into a store this process owns.
pub struct StoreSink<'a> {
    pub store: &'a dyn ArticleStore,
}

fn store_error(error: StoreError) -> SinkError {
    match error {
        StoreError::InvalidArticle { .. } => SinkError::Rejected(error.to_string()),
        other => SinkError::Fatal(other.to_string()),
    }
}

impl ArticleSink for StoreSink<'_> {
    fn stored_hash(&self, article_id: &str) -> Result<Option<String>, SinkError> {
        self.store.content_hash(article_id).map_err(store_error)
    }

    fn put(&self, article: AnnotatedArticle) -> Result<Option<PutOutcome>, SinkError> {
        self.store
            .put_article(article)
            .map(Some)
            .map_err(store_error)
    }

    fn put_batch(
        &self,
        articles: Vec<AnnotatedArticle>,
    ) -> Result<Vec<Result<Option<PutOutcome>, SinkError>>, SinkError> {
        let outcomes = self
            .store
            .put_articles(articles)
            .map_err(|error| SinkError::Fatal(error.to_string()))?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.map(Some).map_err(store_error))
            .collect())
    }

    fn finish(&self) -> Result<SinkSummary, SinkError> {
        self.store.flush().map_err(store_error)?;
        Ok(SinkSummary::default())
    }
}

/// Writes into a sled store this process owns, staging each batch while the one before is
/// applied ([`SledStore::put_article_batches`]): the worker's `--db` ingest.
pub struct SledSink<'a> {
    pub store: &'a SledStore,
}

impl ArticleSink for SledSink<'_> {
    fn stored_hash(&self, article_id: &str) -> Result<Option<String>, SinkError> {
        self.store
            .stored_content_hash(article_id)
            .map_err(store_error)
    }

    fn put(&self, article: AnnotatedArticle) -> Result<Option<PutOutcome>, SinkError> {
        StoreSink { store: self.store }.put(article)
    }

    fn put_batch(&self, articles: Vec<AnnotatedArticle>) -> Result<BatchOutcomes, SinkError> {
        StoreSink { store: self.store }.put_batch(articles)
    }

    fn put_batches(
        &self,
        batches: &mut dyn Iterator<Item = Vec<AnnotatedArticle>>,
        done: &mut (dyn FnMut(BatchOutcomes) -> bool + Send),
    ) -> Result<(), SinkError> {
        self.store
            .put_article_batches(batches, |outcomes| {
                done(
                    outcomes
                        .into_iter()
                        .map(|outcome| outcome.map(Some).map_err(store_error))
                        .collect(),
                )
            })
            .map_err(|error| SinkError::Fatal(error.to_string()))
    }

    fn finish(&self) -> Result<SinkSummary, SinkError> {
        StoreSink { store: self.store }.finish()
    }
}

/// Streams articles to a running server over one client-streaming IngestArticles call.
pub struct ServerSink {
    sender: Mutex<Option<mpsc::Sender<pb::IngestArticlesRequest>>>,
    call: Mutex<Option<tokio::task::JoinHandle<Result<pb::IngestArticlesResponse, tonic::Status>>>>,
    runtime: tokio::runtime::Handle,
}

/// Articles buffered between annotation and the network.
const STREAM_BUFFER: usize = 256;

impl ServerSink {
    /// Connects to `url` (e.g. `http://communique:50051`, or `https://` with the system's roots
    /// plus `ca_pem` if given) and opens the ingest stream, sending `token` as a bearer token.
    pub fn connect(
        runtime: &tokio::runtime::Runtime,
        url: &str,
        token: Option<&str>,
        ca_pem: Option<&[u8]>,
    ) -> Result<ServerSink, SinkError> {
        let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
            .map_err(|e| SinkError::Fatal(format!("invalid server URL {url:?}: {e}")))?;
        if url.starts_with("https://") {
            let mut tls = tonic::transport::ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = ca_pem {
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(ca));
            }
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| SinkError::Fatal(format!("cannot set up TLS for {url}: {e}")))?;
        }
        let authorization: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> =
            match token {
                None => None,
                Some(token) => Some(format!("Bearer {token}").parse().map_err(|_| {
                    SinkError::Fatal("the token holds characters a header cannot carry".into())
                })?),
            };
        let channel = runtime
            .block_on(endpoint.connect())
            .map_err(|e| SinkError::Fatal(format!("cannot connect to the server at {url}: {e}")))?;
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let call = runtime.spawn(async move {
            let add_token = move |mut request: tonic::Request<()>| {
                if let Some(value) = &authorization {
                    request
                        .metadata_mut()
                        .insert("authorization", value.clone());
                }
                Ok(request)
            };
            let mut client = IngestServiceClient::with_interceptor(channel, add_token)
                .max_encoding_message_size(64 << 20)
                .max_decoding_message_size(64 << 20);
            let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
            client
                .ingest_articles(stream)
                .await
                .map(tonic::Response::into_inner)
        });
        Ok(ServerSink {
            sender: Mutex::new(Some(sender)),
            call: Mutex::new(Some(call)),
            runtime: runtime.handle().clone(),
        })
    }
}

impl ArticleSink for ServerSink {
    fn stored_hash(&self, _article_id: &str) -> Result<Option<String>, SinkError> {
        // The server skips unchanged articles itself.
        Ok(None)
    }

    fn put(&self, article: AnnotatedArticle) -> Result<Option<PutOutcome>, SinkError> {
        let sender = self
            .sender
            .lock()
            .map_err(|_| SinkError::Fatal("ingest stream lock poisoned".into()))?
            .clone()
            .ok_or_else(|| SinkError::Fatal("the ingest stream is closed".into()))?;
        sender
            .blocking_send(communique_grpc::convert::annotated_to_pb(article))
            .map_err(|_| SinkError::Fatal("the server closed the ingest stream".into()))?;
        Ok(None)
    }

    fn finish(&self) -> Result<SinkSummary, SinkError> {
        // Dropping the sender ends the stream; the server then answers with its counts.
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let call = self
            .call
            .lock()
            .map_err(|_| SinkError::Fatal("ingest call lock poisoned".into()))?
            .take()
            .ok_or_else(|| SinkError::Fatal("the ingest stream was already finished".into()))?;
        let response = self
            .runtime
            .block_on(call)
            .map_err(|e| SinkError::Fatal(format!("ingest task failed: {e}")))?
            .map_err(|status| {
                SinkError::Fatal(format!(
                    "the server refused the ingest stream: {:?}: {}",
                    status.code(),
                    status.message()
                ))
            })?;
        Ok(SinkSummary {
            ingested: u64::from(response.ingested_count),
            unchanged: u64::from(response.unchanged_count),
            rejected: response
                .rejected
                .into_iter()
                .map(|r| (r.article_id, r.reason))
                .collect(),
        })
    }
}
