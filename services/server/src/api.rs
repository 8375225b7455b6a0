//! The gRPC adapters: each RPC validates its request, calls the store off the async runtime,
//! and converts the result. Every RPC is logged once with its method, status code and latency.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use communique_domain::query::{
    ArticleFilter, EntitySearch, Page, PageRequest, StanceQuery, StatementFilter,
};
use communique_domain::{AnnotatedArticle, EntitySummary, validate_article_id};
use communique_grpc::convert::{
    annotated_from_pb, article_to_pb, date_from_pb, entity_kind_from_pb, entity_to_pb,
    match_type_to_pb, mention_to_pb, statement_to_pb,
};
use communique_grpc::{ServiceError, Violation};
use communique_proto::v1 as pb;
use communique_store::{ArticleParts, ArticleStore, PutOutcome, StoreError};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use crate::answer::{Encoded, EncodedEntity, article_answer, stance_answer};
use crate::edge::{answer_within, request_timeout};
use crate::metrics::{IngestOutcome, Metrics};
use crate::paging::{Paging, search_query, stance_query};
use crate::statement_wires::{self, StatementWires};

/// Longest search query or stance target accepted, in bytes.
const MAX_QUERY_BYTES: usize = 256;
const DEFAULT_EVIDENCE: usize = 3;
const MAX_EVIDENCE: usize = 20;

/// The state every service shares.
#[derive(Clone)]
pub struct Api {
    store: Arc<dyn ArticleStore>,
    paging: Paging,
    metrics: Arc<Metrics>,
    /// One permit per request in flight; none left means RESOURCE_EXHAUSTED.
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    /// The largest request or response message, in bytes.
    max_message_bytes: usize,
    /// Evidence statements as CompareStances last wrote them.
    statement_wires: Arc<StatementWires>,
}

impl Api {
    pub fn new(
        store: Arc<dyn ArticleStore>,
        paging: Paging,
        metrics: Arc<Metrics>,
        max_concurrent: usize,
        max_message_bytes: usize,
    ) -> Api {
        Api {
            store,
            paging,
            metrics,
            permits: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            max_message_bytes,
            statement_wires: Arc::new(StatementWires::new(statement_wires::DEFAULT_MAX_BYTES)),
        }
    }

    /// Runs one RPC inside a span that records its method, status code and latency, logs and
    /// counts it once, and maps its error to a status. Past the concurrency limit the RPC is
    /// refused at once rather than queued; past the client's deadline (`timeout`) it ends with
    /// DEADLINE_EXCEEDED; an answer over the message size limit is refused here, with advice,
    /// rather than by the encoder.
    async fn observe<T: prost::Message>(
        &self,
        method: &'static str,
        timeout: Option<Duration>,
        work: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<Response<T>, Status> {
        let span = tracing::info_span!(
            "rpc",
            method,
            code = tracing::field::Empty,
            latency_us = tracing::field::Empty
        );
        let started = Instant::now();
        let result = match self.permits.try_acquire() {
            Ok(_permit) => {
                let work = work.instrument(span.clone());
                match timeout {
                    None => work.await,
                    Some(timeout) => tokio::time::timeout(answer_within(timeout), work)
                        .await
                        .unwrap_or(Err(ServiceError::DeadlineExceeded)),
                }
            }
            Err(_) => Err(ServiceError::Overloaded {
                limit: self.max_concurrent,
            }),
        };
        let limit = self.max_message_bytes;
        let result = result
            .and_then(|answer| match answer.encoded_len() {
                size if size > limit => Err(ServiceError::ResponseTooLarge { size, limit }),
                _ => Ok(answer),
            })
            .map(Response::new)
            .map_err(Status::from);
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(status) => status.code(),
        };
        let latency = started.elapsed();
        self.metrics.record_rpc(method, code, latency);
        span.record("code", tracing::field::debug(code));
        span.record("latency_us", latency.as_micros() as u64);
        let _entered = span.enter();
        match &result {
            Ok(_) => tracing::info!("rpc done"),
            Err(status) => tracing::info!(error = status.message(), "rpc failed"),
        }
        result
    }

    /// Runs blocking store work on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn ArticleStore) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|error| ServiceError::Internal(format!("store task failed: {error}")))?
    }

    /// Runs store work in place (`in_place`: for reads short enough that the blocking-pool hop
    /// would cost more than the read) or on the blocking pool.
    async fn store_work<T: Send + 'static>(
        &self,
        in_place: bool,
        work: impl FnOnce(&dyn ArticleStore) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        if in_place {
            work(self.store.as_ref())
        } else {
            self.blocking(work).await
        }
    }

    /// The part every list RPC shares: checks the page fields along with the violations the
    /// other fields already gave, reads one page (off the runtime unless `in_place`: for reads
    /// short enough that the blocking-pool hop would cost more), and issues the next page token.
    /// `fingerprint` names the query (every field but the page ones), binding tokens to it.
    async fn list_page<T: Send + 'static>(
        &self,
        mut checks: Checks,
        page_size: i32,
        page_token: &str,
        fingerprint: String,
        in_place: bool,
        read: impl FnOnce(&dyn ArticleStore, &PageRequest) -> Result<Page<T>, ServiceError>
        + Send
        + 'static,
    ) -> Result<(Vec<T>, String), ServiceError> {
        let page = checks.take(
            self.paging
                .request(page_size, page_token, &fingerprint)
                .map(Some),
        );
        checks.finish()?;
        let page = page.unwrap_or_default();
        let result = self
            .store_work(in_place, move |store| read(store, &page))
            .await?;
        Ok((result.items, self.paging.token(result.next, &fingerprint)))
    }
}

/// A failed request stream: a message over the size limit is RESOURCE_EXHAUSTED (tonic's decoder
/// says OUT_OF_RANGE); anything else (the client went away) passes through.
fn stream_error(status: Status, limit: usize) -> ServiceError {
    if crate::edge::is_message_too_large(&status) {
        ServiceError::MessageTooLarge { limit }
    } else {
        ServiceError::Stream(status)
    }
}

fn required<'a>(field: &str, value: &'a str) -> Result<&'a str, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "is required"));
    }
    Ok(value)
}

/// A required name or query, bounded in length so a lookup's cost stays bounded.
fn query_text(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = required(field, value)?;
    if value.len() > MAX_QUERY_BYTES {
        return Err(ServiceError::invalid(
            field,
            format!("is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    Ok(value.to_owned())
}

fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn government_code(field: &str, value: &str) -> Result<Option<String>, ServiceError> {
    let Some(code) = optional(value) else {
        return Ok(None);
    };
    if code.len() > 16 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{code:?} is not a government code: use ISO 3166-1 alpha-3 (GBR) or a body's code (NATO)"
            ),
        ));
    }
    Ok(Some(code.to_ascii_uppercase()))
}

fn date_range(
    after: Option<pb::Date>,
    before: Option<pb::Date>,
) -> Result<
    (
        Option<communique_domain::Date>,
        Option<communique_domain::Date>,
    ),
    ServiceError,
> {
    let after = date_from_pb("published_after", after)?;
    let before = date_from_pb("published_before", before)?;
    if let (Some(a), Some(b)) = (after, before)
        && a > b
    {
        return Err(ServiceError::invalid(
            "published_before",
            format!("{b} is before published_after {a}"),
        ));
    }
    Ok((after, before))
}

fn view_is_full(field: &str, view: i32) -> Result<bool, ServiceError> {
    match pb::ArticleView::try_from(view) {
        Ok(pb::ArticleView::Unspecified | pb::ArticleView::Basic) => Ok(false),
        Ok(pb::ArticleView::Full) => Ok(true),
        Err(_) => Err(ServiceError::invalid(
            field,
            format!("{view} is not ARTICLE_VIEW_BASIC or ARTICLE_VIEW_FULL"),
        )),
    }
}

/// Collects every violation of a request before failing, so a caller fixes them all at once.
#[derive(Default)]
struct Checks(Vec<Violation>);

impl Checks {
    fn take<T: Default>(&mut self, result: Result<T, ServiceError>) -> T {
        match result {
            Ok(value) => value,
            Err(ServiceError::InvalidArgument(violations)) => {
                self.0.extend(violations);
                T::default()
            }
            Err(other) => {
                self.0.push(Violation::new("request", other.to_string()));
                T::default()
            }
        }
    }

    fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(self.0))
        }
    }
}

/// The generated message of an encoded answer.
fn decoded<M: prost::Message + Default>(
    answer: Response<Encoded<M>>,
) -> Result<Response<M>, Status> {
    answer
        .into_inner()
        .decode()
        .map(Response::new)
        .map_err(|error| Status::internal(format!("cannot decode the answer: {error}")))
}

impl Api {
    /// GetArticle, answered by [`article_answer`]: the stored article encoded as
    /// `pb::GetArticleResponse` without being copied into it.
    pub async fn article_answer(
        &self,
        request: Request<pb::GetArticleRequest>,
    ) -> Result<Response<Encoded<pb::GetArticleResponse>>, Status> {
        self.observe("GetArticle", request_timeout(request.metadata()), async {
            let pb::GetArticleRequest { id, view } = request.into_inner();
            let mut checks = Checks::default();
            let id = checks.take(required("id", &id).map(str::to_owned));
            let full = checks.take(view_is_full("view", view));
            checks.finish()?;
            let parts = if full {
                ArticleParts::Full
            } else {
                ArticleParts::Metadata
            };
            // One or two point reads, served from sled's cache or the page cache: cheaper in
            // place than a hop to the blocking pool and back.
            let article = self
                .store
                .get_article(&id, parts)?
                .ok_or(ServiceError::NotFound {
                    kind: "article",
                    id,
                })?;
            Ok(article_answer(&article, full))
        })
        .await
    }
}

#[tonic::async_trait]
impl pb::article_service_server::ArticleService for Api {
    /// Served by [`Api::article_answer`] (see `routes.rs`); this decodes the generated response
    /// from its bytes, for a server that routes the RPC the generated way.
    async fn get_article(
        &self,
        request: Request<pb::GetArticleRequest>,
    ) -> Result<Response<pb::GetArticleResponse>, Status> {
        let answer = self.article_answer(request).await?;
        decoded(answer)
    }

    async fn list_articles(
        &self,
        request: Request<pb::ListArticlesRequest>,
    ) -> Result<Response<pb::ListArticlesResponse>, Status> {
        self.observe("ListArticles", request_timeout(request.metadata()), async {
            let pb::ListArticlesRequest {
                page_size,
                page_token,
                entity_id,
                government_code: code,
                published_after,
                published_before,
                source,
                view,
            } = request.into_inner();
            let mut checks = Checks::default();
            let government_code = checks.take(government_code("government_code", &code));
            let (after, before) = checks.take(date_range(published_after, published_before));
            let full = checks.take(view_is_full("view", view));
            let filter = ArticleFilter {
                entity_id: optional(&entity_id),
                government_code,
                published_after: after,
                published_before: before,
                source: optional(&source),
            };
            let fingerprint = format!("ListArticles {filter:?} {full}");
            let parts = if full {
                ArticleParts::Full
            } else {
                ArticleParts::Metadata
            };
            let (articles, next_page_token) = self
                .list_page(
                    checks,
                    page_size,
                    &page_token,
                    fingerprint,
                    false,
                    move |store, page| Ok(store.list_articles(&filter, parts, page)?),
                )
                .await?;
            Ok(pb::ListArticlesResponse {
                articles: articles
                    .into_iter()
                    .map(|a| article_to_pb(a, full))
                    .collect(),
                next_page_token,
            })
        })
        .await
    }
}

#[tonic::async_trait]
impl pb::entity_service_server::EntityService for Api {
    async fn search_entities(
        &self,
        request: Request<pb::SearchEntitiesRequest>,
    ) -> Result<Response<pb::SearchEntitiesResponse>, Status> {
        self.observe(
            "SearchEntities",
            request_timeout(request.metadata()),
            async {
                let pb::SearchEntitiesRequest {
                    query,
                    kinds,
                    page_size,
                    page_token,
                } = request.into_inner();
                let mut checks = Checks::default();
                let text = checks.take(query_text("query", &query));
                let mut domain_kinds = Vec::with_capacity(kinds.len());
                for (index, kind) in kinds.iter().enumerate() {
                    if let Some(kind) = checks
                        .take(entity_kind_from_pb(&format!("kinds[{index}]"), *kind).map(Some))
                    {
                        domain_kinds.push(kind);
                    }
                }
                let search = EntitySearch {
                    query: text,
                    kinds: domain_kinds,
                };
                let fingerprint = search_query(&search);
                // Once the store searches from memory (tens of µs), a hop to the blocking pool
                // and back costs more than the search: run it in place. Until then (the index
                // mirror loads after start) it may wait, so it goes to the pool.
                let in_place = self.store.indexes_in_memory();
                let (found, next_page_token) = self
                    .list_page(
                        checks,
                        page_size,
                        &page_token,
                        fingerprint,
                        in_place,
                        move |store, page| Ok(store.search_entities(&search, page)?),
                    )
                    .await?;
                let mut entities = Vec::with_capacity(found.len());
                let mut matches = Vec::with_capacity(found.len());
                for found in found {
                    matches.push(pb::EntityMatch {
                        entity_id: found.summary.entity.id.clone(),
                        match_type: match_type_to_pb(found.match_type) as i32,
                        matched_alias: found.matched_alias,
                        score: found.score,
                    });
                    entities.push(entity_to_pb(found.summary));
                }
                Ok(pb::SearchEntitiesResponse {
                    entities,
                    next_page_token,
                    matches,
                })
            },
        )
        .await
    }

    async fn get_entity(
        &self,
        request: Request<pb::GetEntityRequest>,
    ) -> Result<Response<pb::GetEntityResponse>, Status> {
        self.observe("GetEntity", request_timeout(request.metadata()), async {
            let pb::GetEntityRequest { id } = request.into_inner();
            let id = required("id", &id)?.to_owned();
            let entity = self.entity(id).await?;
            Ok(pb::GetEntityResponse {
                entity: Some(entity_to_pb(entity)),
            })
        })
        .await
    }

    async fn list_mentions(
        &self,
        request: Request<pb::ListMentionsRequest>,
    ) -> Result<Response<pb::ListMentionsResponse>, Status> {
        self.observe("ListMentions", request_timeout(request.metadata()), async {
            let pb::ListMentionsRequest {
                entity_id,
                page_size,
                page_token,
            } = request.into_inner();
            let mut checks = Checks::default();
            let entity_id = checks.take(required("entity_id", &entity_id).map(str::to_owned));
            let fingerprint = format!("ListMentions {entity_id}");
            let (mentions, next_page_token) = self
                .list_page(
                    checks,
                    page_size,
                    &page_token,
                    fingerprint,
                    false,
                    move |store, page| {
                        // A list under an unknown parent is NOT_FOUND, not an empty page.
                        if store.get_entity(&entity_id)?.is_none() {
                            return Err(ServiceError::NotFound {
                                kind: "entity",
                                id: entity_id,
                            });
                        }
                        Ok(store.list_mentions(&entity_id, page)?)
                    },
                )
                .await?;
            Ok(pb::ListMentionsResponse {
                mentions: mentions
                    .into_iter()
                    .map(|m| mention_to_pb(&m.article_id, m.mention, m.sentence))
                    .collect(),
                next_page_token,
            })
        })
        .await
    }
}

impl Api {
    async fn entity(&self, id: String) -> Result<EntitySummary, ServiceError> {
        let lookup = id.clone();
        self.store_work(self.store.indexes_in_memory(), move |store| {
            Ok(store.get_entity(&lookup)?)
        })
        .await?
        .ok_or(ServiceError::NotFound { kind: "entity", id })
    }
}

/// The entity a stance target names (an id or an exact alias, else the best search match):
/// its id and its encoding, written from the store's own summary when the store lends it.
/// NOT_FOUND names the target as given.
fn resolve_target(
    store: &dyn ArticleStore,
    target: String,
) -> Result<(String, EncodedEntity), ServiceError> {
    let mut resolved = None;
    store.lend_resolved_entity(&target, &mut |entity| {
        resolved = entity.map(|summary| (summary.entity.id.clone(), EncodedEntity::of(summary)));
    })?;
    if let Some(resolved) = resolved {
        return Ok(resolved);
    }
    let search = EntitySearch {
        query: target,
        kinds: Vec::new(),
    };
    let first = communique_domain::query::PageRequest {
        size: 1,
        resume_after: None,
    };
    let found = store
        .search_entities(&search, &first)?
        .items
        .into_iter()
        .next()
        .map(|m| (m.summary.entity.id.clone(), EncodedEntity::of(&m.summary)));
    found.ok_or(ServiceError::NotFound {
        kind: "entity",
        id: search.query,
    })
}

impl Api {
    /// CompareStances, answered by [`stance_answer`]: the rows as the store gives them,
    /// encoded as `pb::CompareStancesResponse` without being copied into it.
    pub async fn stance_answer(
        &self,
        request: Request<pb::CompareStancesRequest>,
    ) -> Result<Response<Encoded<pb::CompareStancesResponse>>, Status> {
        self.observe(
            "CompareStances",
            request_timeout(request.metadata()),
            async {
                let pb::CompareStancesRequest {
                    target,
                    government_codes,
                    published_after,
                    published_before,
                    topic,
                    max_evidence,
                    page_size,
                    page_token,
                } = request.into_inner();
                let mut checks = Checks::default();
                let fingerprint = stance_query(
                    &target,
                    &government_codes,
                    published_after.as_ref(),
                    published_before.as_ref(),
                    &topic,
                    max_evidence,
                );
                let page = checks.take(
                    self.paging
                        .request(page_size, &page_token, &fingerprint)
                        .map(Some),
                );
                let target = checks.take(query_text("target", &target));
                let mut codes = Vec::with_capacity(government_codes.len());
                for (index, code) in government_codes.iter().enumerate() {
                    let field = format!("government_codes[{index}]");
                    match checks.take(government_code(&field, code)) {
                        Some(code) => codes.push(code),
                        None if code.trim().is_empty() => {
                            checks.0.push(Violation::new(field, "is empty"))
                        }
                        None => {}
                    }
                }
                let (after, before) = checks.take(date_range(published_after, published_before));
                let max_evidence = match usize::try_from(max_evidence) {
                    Ok(0) => DEFAULT_EVIDENCE,
                    Ok(n) => n.min(MAX_EVIDENCE),
                    Err(_) => {
                        checks
                            .0
                            .push(Violation::new("max_evidence", "must not be negative"));
                        0
                    }
                };
                checks.finish()?;
                let topic_words = topic
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                let page = page.unwrap_or_default();
                let mut query = StanceQuery {
                    target_entity_id: String::new(),
                    government_codes: codes,
                    published_after: after,
                    published_before: before,
                    topic_words,
                    max_evidence,
                };
                // Unnarrowed, the rows are the in-memory tallies plus at most page size x
                // max_evidence claims, also in memory: cheaper in place than the hop to the
                // blocking pool and back, which also made every evidence string be freed on
                // another thread than the one that allocated it. A narrowed query scans all the
                // target's claims, so it goes to the pool.
                let in_place = !query.is_narrowed() && self.store.indexes_in_memory();
                let paging = self.paging;
                let statement_wires = Arc::clone(&self.statement_wires);
                self.store_work(in_place, move |store| {
                    let (target_id, target) = resolve_target(store, target)?;
                    query.target_entity_id = target_id;
                    // Written while the store lends the rows: nothing of them is copied.
                    let mut answer = None;
                    store.lend_stances(&query, &page, &mut |rows| {
                        answer = Some(stance_answer(
                            &target,
                            &rows.items,
                            &paging.token(rows.next, &fingerprint),
                            &statement_wires,
                        ));
                    })?;
                    answer.ok_or_else(|| {
                        ServiceError::Internal("the store lent no stance page".to_owned())
                    })
                })
                .await
            },
        )
        .await
    }
}

#[tonic::async_trait]
impl pb::stance_service_server::StanceService for Api {
    /// Served by [`Api::stance_answer`] (see `routes.rs`); this decodes the generated response
    /// from its bytes, for a server that routes the RPC the generated way.
    async fn compare_stances(
        &self,
        request: Request<pb::CompareStancesRequest>,
    ) -> Result<Response<pb::CompareStancesResponse>, Status> {
        let answer = self.stance_answer(request).await?;
        decoded(answer)
    }

    async fn list_statements(
        &self,
        request: Request<pb::ListStatementsRequest>,
    ) -> Result<Response<pb::ListStatementsResponse>, Status> {
        self.observe(
            "ListStatements",
            request_timeout(request.metadata()),
            async {
                let pb::ListStatementsRequest {
                    page_size,
                    page_token,
                    government_code: code,
                    speaker_entity_id,
                    target_entity_id,
                    article_id,
                } = request.into_inner();
                let mut checks = Checks::default();
                let government_code = checks.take(government_code("government_code", &code));
                let article_id = optional(&article_id);
                if let Some(id) = &article_id
                    && let Err(error) = validate_article_id(id)
                {
                    checks
                        .0
                        .push(Violation::new("article_id", error.to_string()));
                }
                let filter = StatementFilter {
                    government_code,
                    speaker_entity_id: optional(&speaker_entity_id),
                    target_entity_id: optional(&target_entity_id),
                    article_id,
                };
                let fingerprint = format!("ListStatements {filter:?}");
                let (statements, next_page_token) = self
                    .list_page(
                        checks,
                        page_size,
                        &page_token,
                        fingerprint,
                        false,
                        move |store, page| Ok(store.list_statements(&filter, page)?),
                    )
                    .await?;
                Ok(pb::ListStatementsResponse {
                    statements: statements
                        .into_iter()
                        .map(|s| statement_to_pb(&s.article_id, s.statement))
                        .collect(),
                    next_page_token,
                })
            },
        )
        .await
    }
}

#[tonic::async_trait]
impl pb::ingest_service_server::IngestService for Api {
    async fn ingest_articles(
        &self,
        request: Request<Streaming<pb::IngestArticlesRequest>>,
    ) -> Result<Response<pb::IngestArticlesResponse>, Status> {
        let timeout = request_timeout(request.metadata());
        let mut stream = request.into_inner();
        self.observe("IngestArticles", timeout, async move {
            let mut response = pb::IngestArticlesResponse::default();
            let mut ended = false;
            while !ended {
                // Wait for one message, then take those already here too (up to a batch): the
                // store writes a batch much faster than its articles one by one.
                let mut batch = IngestBatch::default();
                let mut next = stream.message().await;
                loop {
                    match next {
                        Ok(Some(message)) => batch.accept(message, &self.metrics),
                        Ok(None) => ended = true,
                        Err(status) => {
                            // A stream error (the client went away, a message too large) ends
                            // the stream; every article received before it is stored.
                            self.store_batch(batch, &mut response).await?;
                            return Err(stream_error(status, self.max_message_bytes));
                        }
                    }
                    if ended || batch.articles.len() >= MAX_INGEST_BATCH {
                        break;
                    }
                    match ready_now(stream.message()) {
                        Some(message) => next = message,
                        None => break,
                    }
                }
                self.store_batch(batch, &mut response).await?;
            }
            Ok(response)
        })
        .await
    }
}

/// Most articles of an ingest stream written in one store call.
const MAX_INGEST_BATCH: usize = 1024;

/// Messages received on an ingest stream and not yet answered for: the articles to store, with
/// their ids for the report, and, in stream order, each message's rejection when it did not
/// convert (`None` for the next article), so the report lists rejections in stream order.
#[derive(Default)]
struct IngestBatch {
    ids: Vec<String>,
    articles: Vec<AnnotatedArticle>,
    order: Vec<Option<pb::RejectedArticle>>,
}

impl IngestBatch {
    /// Takes one message: an article to store, or a rejection when it does not convert.
    fn accept(&mut self, message: pb::IngestArticlesRequest, metrics: &Metrics) {
        let article_id = message
            .article
            .as_ref()
            .map(|a| a.id.clone())
            .unwrap_or_default();
        match annotated_from_pb(message) {
            Ok(annotated) => {
                self.ids.push(article_id);
                self.articles.push(annotated);
                self.order.push(None);
            }
            Err(error) => {
                metrics.record_ingest(IngestOutcome::Rejected);
                self.order.push(Some(pb::RejectedArticle {
                    article_id,
                    reason: error.to_string(),
                    field: error.invalid_field().unwrap_or_default().to_owned(),
                }));
            }
        }
    }
}

impl Api {
    /// Stores a batch in one store call and reports each message in `response`, in stream
    /// order; an invalid article is refused alone, a store failure ends the stream.
    async fn store_batch(
        &self,
        batch: IngestBatch,
        response: &mut pb::IngestArticlesResponse,
    ) -> Result<(), ServiceError> {
        let IngestBatch {
            ids,
            articles,
            order,
        } = batch;
        let outcomes = if articles.is_empty() {
            Vec::new()
        } else {
            self.blocking(move |store| Ok(store.put_articles(articles)?))
                .await?
        };
        let mut stored = ids.into_iter().zip(outcomes);
        for rejection in order {
            if let Some(rejection) = rejection {
                response.rejected.push(rejection);
                continue;
            }
            let Some((article_id, outcome)) = stored.next() else {
                return Err(ServiceError::Internal(
                    "the store answered for fewer articles than it was given".into(),
                ));
            };
            match outcome {
                Ok(PutOutcome::Inserted | PutOutcome::Replaced) => {
                    self.metrics.record_ingest(IngestOutcome::Ingested);
                    response.ingested_count += 1;
                }
                Ok(PutOutcome::Unchanged) => {
                    self.metrics.record_ingest(IngestOutcome::Unchanged);
                    response.unchanged_count += 1;
                }
                Err(error @ StoreError::InvalidArticle { .. }) => {
                    self.metrics.record_ingest(IngestOutcome::Rejected);
                    response.rejected.push(pb::RejectedArticle {
                        article_id,
                        reason: error.to_string(),
                        field: error.invalid_field().unwrap_or_default().to_owned(),
                    });
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(())
    }
}

/// The output of `future` if it is ready at its first poll, without waiting. Polling a stream's
/// next message this way is safe: the stream keeps what it has buffered, and the next real
/// wait registers its own waker.
fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}
