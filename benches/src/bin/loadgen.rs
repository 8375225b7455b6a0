//! `loadgen`: a closed-loop gRPC load generator. It opens N connections and keeps M requests in
//! flight on each for a fixed duration after a warm-up, records each successful request's
//! latency in an HDR histogram, and prints RPS, percentiles and errors as a table or JSON.
//!
//! ```sh
//! loadgen --target http://127.0.0.1:50051 --rpc get-article-basic -c 1 -m 64 --duration 5
//! loadgen --target http://127.0.0.1:50052 --rpc hello -c 1 -m 1 --json
//! ```

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use communique_bench::pb::{EchoRequest, EchoResponse, SayHelloRequest, SayHelloResponse};
use communique_bench::{Latency, RunResult, table_header, table_row};
use communique_proto::v1 as cpb;
use communique_proto::v1::article_service_client::ArticleServiceClient;
use hdrhistogram::Histogram;
use prost::Message;
use prost::bytes::Buf;
use tonic::Status;
use tonic::client::Grpc;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::{ProstCodec, ProstEncoder};

/// Largest response accepted: GetArticle FULL of a long article is well above tonic's 4 MiB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Latencies are recorded in nanoseconds, up to a minute, to three significant digits.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Rpc {
    /// bench.v1.BaselineService/SayHello on the baseline server.
    Hello,
    /// bench.v1.BaselineService/Echo on the baseline server: a reply of --payload-bytes.
    EchoPayload,
    /// communique.v1.ArticleService/GetArticle, view BASIC, cycling over article ids.
    GetArticleBasic,
    /// communique.v1.ArticleService/GetArticle, view FULL, cycling over article ids.
    GetArticleFull,
    /// communique.v1.EntityService/SearchEntities with --query.
    SearchEntities,
    /// communique.v1.StanceService/CompareStances with --query as the target.
    CompareStances,
}

/// What the client does with each response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Decode {
    /// Decode it into the generated message, as an application client does.
    Typed,
    /// Take its size and skip its bytes: the load measures the server alone. A CompareStances
    /// page decoded into generated types is about 900 strings, a cost on the client's core
    /// that hello's 16 bytes do not have, and on a two-core machine the client's core is
    /// one the server could use.
    Size,
}

#[derive(Parser, Debug)]
#[command(about = "Closed-loop gRPC load generator for communique and its baseline server")]
struct Cli {
    /// The server, e.g. http://127.0.0.1:50051.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    target: String,
    #[arg(long, value_enum)]
    rpc: Rpc,
    /// HTTP/2 connections.
    #[arg(short = 'c', long, default_value_t = 1)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(short = 'm', long, default_value_t = 64)]
    in_flight: usize,
    /// Measured seconds, after the warm-up.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds before a request counts as a `client-timeout` error.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Articles for get-article-*: these ids, or else the newest --articles from ListArticles.
    #[arg(long = "article-id")]
    article_ids: Vec<String>,
    #[arg(long, default_value_t = 200)]
    articles: i32,
    /// The search query (search-entities) or stance target (compare-stances).
    #[arg(long, default_value = "Iran")]
    query: String,
    /// search-entities and compare-stances: the page size asked for (0: the server's default).
    /// A fixed small page makes the answer the same size on stores of any size (the growth
    /// benchmark).
    #[arg(long, default_value_t = 0)]
    page_size: i32,
    /// echo-payload: bytes in each reply (0 echoes the request's payload).
    #[arg(long, default_value_t = 0)]
    payload_bytes: u32,
    /// echo-payload: bytes in each request's payload.
    #[arg(long, default_value_t = 0)]
    request_bytes: usize,
    /// What the client does with each response (the gRPC status is checked either way).
    #[arg(long, value_enum, default_value_t = Decode::Typed)]
    decode: Decode,
    /// Threads of the client's runtime; 1 leaves the other core to the server.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Names the run in reports (default: the RPC's name).
    #[arg(long)]
    label: Option<String>,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON result to this file.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Encodes requests with prost; a response is its size in bytes, not decoded.
struct SizeOnlyCodec<Req>(PhantomData<Req>);

impl<Req: Message + Send + 'static> Codec for SizeOnlyCodec<Req> {
    type Encode = Req;
    type Decode = usize;
    type Encoder = ProstEncoder<Req>;
    type Decoder = SizeDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        SizeDecoder
    }
}

struct SizeDecoder;

impl Decoder for SizeDecoder {
    type Item = usize;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<usize>, Status> {
        let len = src.remaining();
        src.advance(len);
        Ok(Some(len))
    }
}

/// Calls `path` with `request` on one connection (`grpc`, as the generated clients do) and
/// returns the response's encoded size, decoding the response as `Resp` or not by `decode`.
async fn unary<Req, Resp>(
    grpc: &mut Grpc<Channel>,
    decode: Decode,
    path: &'static str,
    request: Req,
) -> Result<usize, Status>
where
    Req: Message + Send + Sync + 'static,
    Resp: Message + Default + Send + Sync + 'static,
{
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(format!("connection not ready: {error}")))?;
    let request = tonic::Request::new(request);
    let path = PathAndQuery::from_static(path);
    match decode {
        Decode::Size => Ok(grpc
            .unary(request, path, SizeOnlyCodec(PhantomData))
            .await?
            .into_inner()),
        Decode::Typed => {
            let response = grpc
                .unary(request, path, ProstCodec::<Req, Resp>::default())
                .await?;
            Ok(response.get_ref().encoded_len())
        }
    }
}

/// What every request of a run carries, prepared once.
struct Workload {
    rpc: Rpc,
    decode: Decode,
    article_ids: Vec<String>,
    query: String,
    page_size: i32,
    payload: prost::bytes::Bytes,
    reply_bytes: u32,
}

impl Workload {
    fn variants(&self) -> usize {
        match self.rpc {
            Rpc::GetArticleBasic | Rpc::GetArticleFull => self.article_ids.len(),
            _ => 1,
        }
    }

    /// Sends request number `n` on `grpc`; returns the encoded size of the response.
    async fn call(&self, grpc: &mut Grpc<Channel>, n: usize) -> Result<usize, Status> {
        match self.rpc {
            Rpc::Hello => {
                let request = SayHelloRequest {
                    name: "loadgen".into(),
                };
                unary::<_, SayHelloResponse>(
                    grpc,
                    self.decode,
                    "/bench.v1.BaselineService/SayHello",
                    request,
                )
                .await
            }
            Rpc::EchoPayload => {
                let request = EchoRequest {
                    payload: self.payload.clone(),
                    reply_bytes: self.reply_bytes,
                };
                unary::<_, EchoResponse>(
                    grpc,
                    self.decode,
                    "/bench.v1.BaselineService/Echo",
                    request,
                )
                .await
            }
            Rpc::GetArticleBasic | Rpc::GetArticleFull => {
                let view = if self.rpc == Rpc::GetArticleFull {
                    cpb::ArticleView::Full
                } else {
                    cpb::ArticleView::Basic
                };
                let id = self
                    .article_ids
                    .get(n % self.article_ids.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                let request = cpb::GetArticleRequest {
                    id,
                    view: view as i32,
                };
                unary::<_, cpb::GetArticleResponse>(
                    grpc,
                    self.decode,
                    "/communique.v1.ArticleService/GetArticle",
                    request,
                )
                .await
            }
            Rpc::SearchEntities => {
                let request = cpb::SearchEntitiesRequest {
                    query: self.query.clone(),
                    page_size: self.page_size,
                    ..Default::default()
                };
                unary::<_, cpb::SearchEntitiesResponse>(
                    grpc,
                    self.decode,
                    "/communique.v1.EntityService/SearchEntities",
                    request,
                )
                .await
            }
            Rpc::CompareStances => {
                let request = cpb::CompareStancesRequest {
                    target: self.query.clone(),
                    page_size: self.page_size,
                    ..Default::default()
                };
                unary::<_, cpb::CompareStancesResponse>(
                    grpc,
                    self.decode,
                    "/communique.v1.StanceService/CompareStances",
                    request,
                )
                .await
            }
        }
    }
}

/// What one in-flight slot saw during the measured window.
struct SlotStats {
    histogram: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    response_bytes: u64,
    last_done: Option<Instant>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.connections == 0 || cli.in_flight == 0 {
        bail!("--connections and --in-flight must be at least 1");
    }
    if !(cli.duration > 0.0 && cli.warmup >= 0.0 && cli.timeout > 0.0) {
        bail!("--duration and --timeout must be positive and --warmup not negative");
    }
    if cli.page_size < 0 {
        bail!("--page-size must not be negative (0 asks for the server's default)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the client runtime")?;
    let result = runtime.block_on(run(&cli))?;
    let json = serde_json::to_string_pretty(&result)?;
    if let Some(path) = &cli.output {
        std::fs::write(path, format!("{json}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if cli.json {
        println!("{json}");
    } else {
        println!("{}", table_header());
        println!("{}", table_row(&result));
        for (code, count) in &result.error_codes {
            println!("  error {code}: {count}");
        }
    }
    Ok(())
}

async fn connect(target: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(target.to_owned())
        .with_context(|| format!("invalid target {target}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5));
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot connect to {target}"))
}

async fn run(cli: &Cli) -> anyhow::Result<RunResult> {
    let mut channels = Vec::with_capacity(cli.connections);
    for _ in 0..cli.connections {
        channels.push(connect(&cli.target).await?);
    }
    let first = channels
        .first()
        .cloned()
        .context("no connection was opened")?;
    let article_ids = match cli.rpc {
        Rpc::GetArticleBasic | Rpc::GetArticleFull if cli.article_ids.is_empty() => {
            list_article_ids(first, cli.articles).await?
        }
        _ => cli.article_ids.clone(),
    };
    let workload = Arc::new(Workload {
        rpc: cli.rpc,
        decode: cli.decode,
        article_ids,
        query: cli.query.clone(),
        page_size: cli.page_size,
        payload: prost::bytes::Bytes::from(vec![0x5a; cli.request_bytes]),
        reply_bytes: cli.payload_bytes,
    });

    let started = Instant::now();
    let measure_from = started + Duration::from_secs_f64(cli.warmup);
    let end = measure_from + Duration::from_secs_f64(cli.duration);
    let timeout = Duration::from_secs_f64(cli.timeout);
    let slots = cli.connections * cli.in_flight;
    let mut tasks = Vec::with_capacity(slots);
    for (connection, channel) in channels.into_iter().enumerate() {
        // One client per connection; its clones share the connection.
        let grpc = Grpc::new(channel)
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
            .max_encoding_message_size(MAX_RESPONSE_BYTES);
        for slot in 0..cli.in_flight {
            let mut grpc = grpc.clone();
            let workload = Arc::clone(&workload);
            let first_request = connection * cli.in_flight + slot;
            tasks.push(tokio::spawn(async move {
                let mut stats = SlotStats {
                    histogram: Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_NS, 3)?,
                    errors: BTreeMap::new(),
                    response_bytes: 0,
                    last_done: None,
                };
                let mut n = first_request;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let outcome = tokio::time::timeout(timeout, workload.call(&mut grpc, n)).await;
                    let done = Instant::now();
                    n += slots;
                    if sent < measure_from {
                        continue;
                    }
                    stats.last_done = Some(done);
                    match outcome {
                        Ok(Ok(bytes)) => {
                            let ns = u64::try_from(done.duration_since(sent).as_nanos())
                                .unwrap_or(MAX_LATENCY_NS);
                            stats.histogram.saturating_record(ns.max(1));
                            stats.response_bytes += bytes as u64;
                        }
                        Ok(Err(status)) => {
                            *stats
                                .errors
                                .entry(format!("{:?}", status.code()))
                                .or_default() += 1;
                        }
                        Err(_) => *stats.errors.entry("client-timeout".into()).or_default() += 1,
                    }
                }
                anyhow::Ok(stats)
            }));
        }
    }

    let mut histogram = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_NS, 3)?;
    let mut error_codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut response_bytes = 0u64;
    let mut last_done = measure_from;
    for task in tasks {
        let stats = task.await.context("a load task failed")??;
        histogram.add(&stats.histogram)?;
        for (code, count) in stats.errors {
            *error_codes.entry(code).or_default() += count;
        }
        response_bytes += stats.response_bytes;
        if let Some(done) = stats.last_done {
            last_done = last_done.max(done);
        }
    }
    let measured = last_done
        .duration_since(measure_from)
        .max(Duration::from_millis(1))
        .as_secs_f64();
    let requests = histogram.len();
    Ok(RunResult {
        label: cli
            .label
            .clone()
            .unwrap_or_else(|| rpc_name(cli.rpc).to_owned()),
        rpc: rpc_name(cli.rpc).to_owned(),
        target: cli.target.clone(),
        connections: cli.connections,
        in_flight: cli.in_flight,
        total_in_flight: slots,
        client_threads: cli.client_threads.max(1),
        warmup_s: cli.warmup,
        measured_s: measured,
        requests,
        errors: error_codes.values().sum(),
        error_codes,
        rps: requests as f64 / measured,
        latency: Latency::from_histogram(&histogram),
        response_bytes_mean: if requests == 0 {
            0.0
        } else {
            response_bytes as f64 / requests as f64
        },
        variants: workload.variants(),
        finished_unix_s: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    })
}

fn rpc_name(rpc: Rpc) -> &'static str {
    match rpc {
        Rpc::Hello => "hello",
        Rpc::EchoPayload => "echo-payload",
        Rpc::GetArticleBasic => "get-article-basic",
        Rpc::GetArticleFull => "get-article-full",
        Rpc::SearchEntities => "search-entities",
        Rpc::CompareStances => "compare-stances",
    }
}

/// The ids of the newest `count` articles.
async fn list_article_ids(channel: Channel, count: i32) -> anyhow::Result<Vec<String>> {
    let mut client =
        ArticleServiceClient::new(channel).max_decoding_message_size(MAX_RESPONSE_BYTES);
    let response = client
        .list_articles(cpb::ListArticlesRequest {
            page_size: count,
            view: cpb::ArticleView::Basic as i32,
            ..Default::default()
        })
        .await
        .context("ListArticles failed while choosing the articles to get")?;
    let ids: Vec<String> = response
        .into_inner()
        .articles
        .into_iter()
        .map(|article| article.id)
        .collect();
    if ids.is_empty() {
        bail!("the server holds no article: ingest some first");
    }
    Ok(ids)
}
