//! `wait-serving`: polls `grpc.health.v1.Health/Check` until a service reports SERVING, then
//! prints how long that took since `--since-unix-ns` (the instant the server was started, e.g.
//! `date +%s%N` just before launching it) or since this program started.
//!
//! ```sh
//! t0=$(date +%s%N); target/release/communique-server & \
//!   wait-serving --target http://127.0.0.1:50051 --since-unix-ns "$t0"
//! ```

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[derive(Parser, Debug)]
#[command(about = "Wait until a gRPC server's health check says SERVING; print the time it took")]
struct Cli {
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    target: String,
    /// The service to check; empty means the server as a whole.
    #[arg(long, default_value = "communique.v1.ArticleService")]
    service: String,
    /// Measure from this instant (nanoseconds since the Unix epoch) instead of from now.
    #[arg(long)]
    since_unix_ns: Option<u128>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Pause between attempts, in milliseconds.
    #[arg(long, default_value_t = 2)]
    interval_ms: u64,
    /// Print `{"serving_ms": ...}` instead of a sentence.
    #[arg(long)]
    json: bool,
}

fn unix_ns() -> anyhow::Result<u128> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_nanos())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let since = match cli.since_unix_ns {
        Some(since) => since,
        None => unix_ns()?,
    };
    let endpoint = Endpoint::from_shared(cli.target.clone())
        .with_context(|| format!("invalid target {}", cli.target))?
        .connect_timeout(Duration::from_millis(200));
    let deadline = Instant::now() + Duration::from_secs_f64(cli.timeout);
    let mut last_problem = String::from("no attempt made");
    let mut client = None;
    loop {
        if Instant::now() >= deadline {
            bail!(
                "{} did not report {:?} SERVING within {} s (last: {last_problem})",
                cli.target,
                cli.service,
                cli.timeout
            );
        }
        if client.is_none() {
            match endpoint.connect().await {
                Ok(channel) => client = Some(HealthClient::new(channel)),
                Err(error) => last_problem = format!("connect: {error}"),
            }
        }
        if let Some(health) = client.as_mut() {
            let request = HealthCheckRequest {
                service: cli.service.clone(),
            };
            match health.check(request).await {
                Ok(response) if response.get_ref().status() == ServingStatus::Serving => break,
                Ok(response) => last_problem = format!("status {:?}", response.get_ref().status()),
                Err(status) => {
                    last_problem = format!("check: {status}");
                    // The connection may be the problem: open a fresh one next time.
                    if status.code() == tonic::Code::Unavailable {
                        client = None;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(cli.interval_ms)).await;
    }
    let elapsed_ms = unix_ns()?.saturating_sub(since) as f64 / 1e6;
    if cli.json {
        println!("{{\"serving_ms\": {elapsed_ms:.1}}}");
    } else {
        println!("{} SERVING after {elapsed_ms:.1} ms", cli.target);
    }
    Ok(())
}
