//! The `communique-server` binary as an operator runs it: configured by environment, seeding an
//! empty store on first start, and stopping cleanly on SIGTERM with everything flushed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use communique_proto::v1 as pb;
use communique_proto::v1::article_service_client::ArticleServiceClient;

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
