//! communique's benchmarks. The binaries are the serving benchmark's parts:
//!
//! - `loadgen`: a closed-loop gRPC load generator (N connections x M requests in flight) that
//!   records latency in an HDR histogram and prints RPS and percentiles, as a table or JSON;
//! - `baseline-server`: a bare tonic server (`bench.v1.BaselineService`: `SayHello`, `Echo`),
//!   the baseline every communique figure is divided by;
//! - `wait-serving`: polls `grpc.health.v1.Health` until a service is SERVING and reports the
//!   time since a given instant (the server's start);
//! - `bench-report`: reads `loadgen --json` results and prints the ratios to the baseline with
//!   PASS or MISS per target.
//!
//! `run-serving.sh` drives them; `benches/annotate.rs` and `benches/store.rs` are criterion
//! benches of the worker's annotator and the sled store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The baseline service, generated from `proto/bench/v1/baseline.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod pb {
    tonic::include_proto!("bench.v1");
}

/// Latency percentiles of the successful requests, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Latency {
    /// Reads the percentiles of a histogram of nanoseconds.
    pub fn from_histogram(histogram: &hdrhistogram::Histogram<u64>) -> Latency {
        let us = |ns: u64| ns as f64 / 1_000.0;
        Latency {
            mean_us: histogram.mean() / 1_000.0,
            p50_us: us(histogram.value_at_quantile(0.50)),
            p90_us: us(histogram.value_at_quantile(0.90)),
            p99_us: us(histogram.value_at_quantile(0.99)),
            p999_us: us(histogram.value_at_quantile(0.999)),
            max_us: us(histogram.max()),
        }
    }
}

/// One `loadgen` run, as `loadgen --json` prints it and `bench-report` reads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Names the run in reports; the RPC's name unless `--label` was given.
    pub label: String,
    pub rpc: String,
    pub target: String,
    pub connections: usize,
    /// Requests in flight per connection.
    pub in_flight: usize,
    /// connections x in_flight.
    pub total_in_flight: usize,
    pub client_threads: usize,
    pub warmup_s: f64,
    /// From the end of the warm-up to the last completed request.
    pub measured_s: f64,
    /// Successful requests in the measured window.
    pub requests: u64,
    pub errors: u64,
    /// Error count per gRPC code (or `client-timeout`).
    pub error_codes: BTreeMap<String, u64>,
    /// Successful requests per second.
    pub rps: f64,
    pub latency: Latency,
    /// Mean encoded size of a response message.
    pub response_bytes_mean: f64,
    /// Distinct request variants cycled through (article ids for GetArticle).
    pub variants: usize,
    /// Seconds since the Unix epoch when the run ended.
    pub finished_unix_s: u64,
}

/// The one-line header of [`table_row`].
pub fn table_header() -> String {
    format!(
        "{:<22} {:>9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "label",
        "conn x m",
        "requests",
        "errors",
        "rps",
        "p50 us",
        "p99 us",
        "p999 us",
        "max us",
        "resp bytes"
    )
}

/// One run as a table row under [`table_header`].
pub fn table_row(run: &RunResult) -> String {
    format!(
        "{:<22} {:>9} {:>9} {:>7} {:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>11.0}",
        run.label,
        format!("{}x{}", run.connections, run.in_flight),
        run.requests,
        run.errors,
        run.rps,
        run.latency.p50_us,
        run.latency.p99_us,
        run.latency.p999_us,
        run.latency.max_us,
        run.response_bytes_mean
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_reads_percentiles_in_microseconds() {
        let mut histogram =
            hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for us in 1..=1000u64 {
            histogram.record(us * 1_000).unwrap();
        }
        let latency = Latency::from_histogram(&histogram);
        assert!((latency.p50_us - 500.0).abs() < 1.0, "{latency:?}");
        assert!((latency.p99_us - 990.0).abs() < 1.0, "{latency:?}");
        assert!((latency.max_us - 1000.0).abs() < 1.0, "{latency:?}");
    }

    #[test]
    fn a_result_round_trips_through_json() {
        let run = RunResult {
            label: "hello".into(),
            rps: 1234.5,
            ..RunResult::default()
        };
        let json = serde_json::to_string(&run).unwrap();
        assert_eq!(serde_json::from_str::<RunResult>(&json).unwrap(), run);
    }
}
