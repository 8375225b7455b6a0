//! The `communique-server` binary as an operator runs it: configured by environment, seeding an
//! empty store on first start, and stopping cleanly on SIGTERM with everything flushed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use communique_proto::v1 as pb;
use communique_proto::v1::article_service_client::ArticleServiceClient;
use communique_proto::v1::ingest_service_client::IngestServiceClient;
use tonic::Code;
use tonic::transport::Channel;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data_dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_communique-server"))
        .env(
            "COMMUNIQUE__SERVER__LISTEN_ADDRESS",
            format!("127.0.0.1:{port}"),
        )
        .env("COMMUNIQUE__STORE__DATA_DIR", data_dir)
        .env(
            "COMMUNIQUE__SEED__PATHS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds"),
        )
        .env("COMMUNIQUE__SERVER__LOG_FORMAT", "json")
        .env(
            "COMMUNIQUE__METRICS__LISTEN_ADDRESS",
            format!("127.0.0.1:{}", free_port()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn article_count(port: u16) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut client) =
            ArticleServiceClient::connect(format!("http://127.0.0.1:{port}")).await
        {
            let request = pb::ListArticlesRequest {
                page_size: 100,
                ..Default::default()
            };
            if let Ok(response) = client.list_articles(request).await {
                return response.into_inner().articles.len();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the child's log as it comes, so that a busy server never blocks on a full pipe.
fn collect_stdout(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut log = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut log).unwrap();
        log
    })
}

fn terminate(child: Child) -> std::process::Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_on_first_start_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let port = free_port();
    let server = start(&data, port);
    assert_eq!(article_count(port).await, 5);
    let output = terminate(server);
    let log = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(
        log.contains("SIGTERM received") && log.contains("store flushed"),
        "{log}"
    );
    assert!(
        log.contains("\"method\":\"ListArticles\""),
        "JSON logs carry the RPC span: {log}"
    );

    // The next start serves what was stored, without seeding again.
    let port = free_port();
    let server = start(&data, port);
    assert_eq!(article_count(port).await, 5);
    let output = terminate(server);
    let log = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(!log.contains("store seeded"), "{log}");
}

/// What the clients saw while the server was told to stop.
#[derive(Default)]
struct Seen {
    reads_ok: u64,
    /// Ids whose ingest the server acknowledged (their stream's response was OK).
    acknowledged: Vec<String>,
    /// Every failure other than UNAVAILABLE.
    unexpected: Vec<String>,
}

/// How a request may fail once the server has begun to stop: UNAVAILABLE (refused: the
/// listener is closed), or CANCELLED by the client's own transport for a request it had queued
/// on a connection the server then closed gracefully, or INTERNAL for one the server's GOAWAY
/// turned away: in each case the server never saw it.
fn server_gone(status: &tonic::Status) -> bool {
    use std::error::Error;
    match status.code() {
        Code::Unavailable => true,
        Code::Cancelled => format!("{:?}", status.source()).contains("connection closed"),
        // A request that raced the server's graceful GOAWAY: the server never accepted its
        // stream (it is above the GOAWAY's last stream id), so nothing of it was done and it can
        // be retried elsewhere. tonic's client reports this h2 condition as INTERNAL, not
        // UNAVAILABLE as grpc-go does.
        Code::Internal => {
            let source = format!("{:?}", status.source());
            source.contains("GoAway(") && source.contains("NO_ERROR, Remote")
        }
        _ => false,
    }
}

/// Reads until the first failure, which must be [`server_gone`].
async fn keep_reading(channel: Channel, seen: Arc<Mutex<Seen>>) {
    let mut client = ArticleServiceClient::new(channel);
    loop {
        let request = pb::ListArticlesRequest {
            page_size: 100,
            view: pb::ArticleView::Full as i32,
            ..Default::default()
        };
        match client.list_articles(request).await {
            Ok(_) => seen.lock().unwrap().reads_ok += 1,
            Err(status) => {
                if !server_gone(&status) {
                    seen.lock()
                        .unwrap()
                        .unexpected
                        .push(format!("read: {status:?}"));
                }
                return;
            }
        }
    }
}

/// Streams two articles at a time until the first failure, keeping the acknowledged ids.
async fn keep_ingesting(channel: Channel, writer: usize, seen: Arc<Mutex<Seen>>) {
    let mut client = IngestServiceClient::new(channel);
    for batch in 0.. {
        let ids: Vec<String> = (0..2).map(|n| format!("w{writer}-b{batch}-{n}")).collect();
        let requests: Vec<pb::IngestArticlesRequest> = ids
            .iter()
            .map(|id| pb::IngestArticlesRequest {
                article: Some(pb::Article {
                    id: id.clone(),
                    title: format!("Story {id}"),
                    body: format!("The EU urged restraint in story {id}."),
                    ..Default::default()
                }),
                entities: Vec::new(),
            })
            .collect();
        match client.ingest_articles(tokio_stream::iter(requests)).await {
            Ok(response) => {
                let response = response.into_inner();
                let mut seen = seen.lock().unwrap();
                if response.ingested_count == 2 {
                    seen.acknowledged.extend(ids);
                } else {
                    seen.unexpected.push(format!("ingest: {response:?}"));
                }
            }
            Err(status) => {
                if !server_gone(&status) {
                    seen.lock()
                        .unwrap()
                        .unexpected
                        .push(format!("ingest: {status:?}"));
                }
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_or_refuses_requests_and_keeps_every_acknowledged_article() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = start(&data, port);
    let log = collect_stdout(&mut server);
    assert_eq!(article_count(port).await, 5);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let address = format!("http://127.0.0.1:{port}");
    let mut clients = Vec::new();
    for client in 0..6 {
        let channel = Channel::from_shared(address.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let seen = Arc::clone(&seen);
        clients.push(if client < 3 {
            tokio::spawn(keep_reading(channel, seen))
        } else {
            tokio::spawn(keep_ingesting(channel, client, seen))
        });
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().acknowledged.len() < 30 {
        assert!(Instant::now() < deadline, "no ingest progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let terminated = Arc::new(AtomicBool::new(false));
    let output = {
        let terminated = Arc::clone(&terminated);
        tokio::task::spawn_blocking(move || {
            let output = terminate(server);
            terminated.store(true, Ordering::Relaxed);
            output
        })
    };
    let output = output.await.unwrap();
    assert!(terminated.load(Ordering::Relaxed));
    let log = log.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains("store flushed"), "{log}");
    for client in clients {
        tokio::time::timeout(Duration::from_secs(10), client)
            .await
            .expect("clients stop once the server has gone")
            .unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(seen.unexpected, Vec::<String>::new());
    assert!(seen.reads_ok > 0);

    // The next start serves every acknowledged article, whole.
    let port = free_port();
    let mut server = start(&data, port);
    let log = collect_stdout(&mut server);
    let stored = article_count(port).await;
    assert!(stored >= 5 + seen.acknowledged.len(), "{stored} stored");
    let mut client = ArticleServiceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    for id in &seen.acknowledged {
        let article = client
            .get_article(pb::GetArticleRequest {
                id: id.clone(),
                view: pb::ArticleView::Full as i32,
            })
            .await
            .unwrap_or_else(|status| panic!("acknowledged {id} lost: {status:?}"))
            .into_inner()
            .article
            .unwrap();
        assert_eq!(article.title, format!("Story {id}"));
        assert_eq!(
            article.body,
            format!("The EU urged restraint in story {id}.")
        );
    }
    let output = terminate(server);
    assert_eq!(output.status.code(), Some(0), "{}", log.join().unwrap());
}
