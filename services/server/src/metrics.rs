//! Metrics for operators, as Prometheus text on a separate port: RPC counts and latency
//! histograms by method and code, ingest outcomes, and the store's size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use communique_store::ArticleStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    /// Cumulative counts per bucket bound, Prometheus style.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Default)]
pub struct Metrics {
    rpcs: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<BTreeMap<(&'static str, String), Histogram>>,
    ingested: AtomicU64,
    unchanged: AtomicU64,
    rejected: AtomicU64,
}

/// What an ingest stream did with one article.
#[derive(Clone, Copy, Debug)]
pub enum IngestOutcome {
    Ingested,
    Unchanged,
    Rejected,
}

impl Metrics {
    pub fn record_rpc(&self, method: &'static str, code: tonic::Code, latency: Duration) {
        let code = format!("{code:?}");
        if let Ok(mut rpcs) = self.rpcs.lock() {
            *rpcs.entry((method, code.clone())).or_default() += 1;
        }
        if let Ok(mut latency_by_method) = self.latency.lock() {
            let histogram = latency_by_method.entry((method, code)).or_default();
            let seconds = latency.as_secs_f64();
            for (bound, bucket) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
                if seconds <= *bound {
                    *bucket += 1;
                }
            }
            histogram.count += 1;
            histogram.sum_seconds += seconds;
        }
    }

    pub fn record_ingest(&self, outcome: IngestOutcome) {
        let counter = match outcome {
            IngestOutcome::Ingested => &self.ingested,
            IngestOutcome::Unchanged => &self.unchanged,
            IngestOutcome::Rejected => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, store: &dyn ArticleStore) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP communique_rpcs_total RPCs served, by method and status code.\n");
        out.push_str("# TYPE communique_rpcs_total counter\n");
        if let Ok(rpcs) = self.rpcs.lock() {
            for ((method, code), count) in rpcs.iter() {
                let _ = writeln!(
                    out,
                    "communique_rpcs_total{{method=\"{method}\",code=\"{code}\"}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP communique_rpc_latency_seconds RPC latency, by method and status code.\n",
        );
        out.push_str("# TYPE communique_rpc_latency_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for ((method, code), histogram) in latency.iter() {
                let labels = format!("method=\"{method}\",code=\"{code}\"");
                for (bound, count) in BUCKETS.iter().zip(histogram.buckets.iter()) {
                    let _ = writeln!(
                        out,
                        "communique_rpc_latency_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "communique_rpc_latency_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "communique_rpc_latency_seconds_sum{{{labels}}} {}",
                    histogram.sum_seconds
                );
                let _ = writeln!(
                    out,
                    "communique_rpc_latency_seconds_count{{{labels}}} {}",
                    histogram.count
                );
            }
        }
        out.push_str("# HELP communique_ingested_articles_total Articles received over IngestService, by outcome.\n");
        out.push_str("# TYPE communique_ingested_articles_total counter\n");
        for (outcome, counter) in [
            ("ingested", &self.ingested),
            ("unchanged", &self.unchanged),
            ("rejected", &self.rejected),
        ] {
            let _ = writeln!(
                out,
                "communique_ingested_articles_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        if let Ok(articles) = store.article_count() {
            out.push_str("# HELP communique_articles Articles in the store.\n");
            out.push_str("# TYPE communique_articles gauge\n");
            let _ = writeln!(out, "communique_articles {articles}");
        }
        if let Ok(bytes) = store.size_on_disk() {
            out.push_str("# HELP communique_store_size_bytes The store's size on disk.\n");
            out.push_str("# TYPE communique_store_size_bytes gauge\n");
            let _ = writeln!(out, "communique_store_size_bytes {bytes}");
        }
        out
    }
}

/// Longest request head read from a scraper.
const MAX_REQUEST_BYTES: usize = 8192;

/// Serves `GET /metrics` over plain HTTP/1.1 until the task is dropped. Anything else gets 404.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: std::sync::Arc<Metrics>,
    store: std::sync::Arc<dyn ArticleStore>,
) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let metrics = std::sync::Arc::clone(&metrics);
        let store = std::sync::Arc::clone(&store);
        tokio::spawn(async move {
            let mut head = Vec::with_capacity(512);
            let mut buffer = [0u8; 1024];
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_BYTES {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(buffer.get(..n).unwrap_or_default()),
                    }
                }
            })
            .await;
            if read.is_err() {
                return;
            }
            let request_line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            let (status, body) = if request_line.starts_with(b"GET /metrics ") {
                let store = std::sync::Arc::clone(&store);
                let body = tokio::task::spawn_blocking(move || metrics.render(store.as_ref()))
                    .await
                    .unwrap_or_default();
                ("200 OK", body)
            } else {
                (
                    "404 Not Found",
                    "not found: metrics are at /metrics\n".to_owned(),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}
