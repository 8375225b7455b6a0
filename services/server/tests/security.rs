//! What operators rely on: TLS, bearer tokens, message-size limits, deadlines, the concurrency
//! limit, and the metrics endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{TestServer, default_options};
use communique_proto::v1 as pb;
use communique_proto::v1::ingest_service_client::IngestServiceClient;
use communique_server::TlsPem;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const TOKEN: &str = "test-token-4f1c";

fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn get_seed() -> pb::GetArticleRequest {
    pb::GetArticleRequest {
        id: "000_d9314bceb94995f8".into(),
        view: 0,
    }
}

#[tokio::test]
async fn tls_serves_over_https() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let mut options = default_options();
    options.tls = Some(TlsPem {
        certificate: certified.cert.pem().into_bytes(),
        key: certified.signing_key.serialize_pem().into_bytes(),
        client_ca: None,
    });
    let server = TestServer::start_with(options).await;
    let article = server
        .articles()
        .get_article(get_seed())
        .await
        .unwrap()
        .into_inner();
    assert!(article.article.is_some());
    // A plaintext client cannot talk to it.
    let plaintext = tonic::transport::Channel::from_shared(format!("http://{}", server.address))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plaintext {
        let mut client =
            communique_proto::v1::article_service_client::ArticleServiceClient::new(channel);
        assert!(client.get_article(get_seed()).await.is_err());
    }
    server.stop().await;
}

#[tokio::test]
async fn ingest_requires_a_token_and_reads_do_not() {
    let mut options = default_options();
    options.tokens = vec![TOKEN.to_owned()];
    let server = TestServer::start_with(options).await;
    let mut ingest = IngestServiceClient::new(server.channel.clone());
    let no_token = ingest
        .ingest_articles(tokio_stream::iter(Vec::<pb::IngestArticlesRequest>::new()))
        .await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let wrong = ingest
        .ingest_articles(bearer(
            tokio_stream::iter(Vec::<pb::IngestArticlesRequest>::new()),
            "guess",
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert!(!wrong.message().contains(TOKEN) && !wrong.message().contains("guess"));
    let right = ingest
        .ingest_articles(bearer(
            tokio_stream::iter(Vec::<pb::IngestArticlesRequest>::new()),
            TOKEN,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(right.ingested_count, 0);
    assert!(
        server.articles().get_article(get_seed()).await.is_ok(),
        "reads stay open"
    );
    server.stop().await;

    let mut options = default_options();
    options.tokens = vec![TOKEN.to_owned()];
    options.require_token_for_reads = true;
    let server = TestServer::start_with(options).await;
    let refused = server.articles().get_article(get_seed()).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(
        server
            .articles()
            .get_article(bearer(get_seed(), TOKEN))
            .await
            .is_ok()
    );
    server.stop().await;
}

#[tokio::test]
async fn oversized_requests_and_expired_deadlines_get_their_codes() {
    let mut options = default_options();
    options.max_message_bytes = 4096;
    let server = TestServer::start_with(options).await;
    let huge = pb::SearchEntitiesRequest {
        query: "x".repeat(10_000),
        ..Default::default()
    };
    let status = server.entities().search_entities(huge).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    let mut request = tonic::Request::new(pb::ListArticlesRequest {
        page_size: 50,
        ..Default::default()
    });
    request.set_timeout(Duration::from_nanos(1));
    let status = server.articles().list_articles(request).await.unwrap_err();
    // A deadline already past when sent: tonic's client gives up by itself, as CANCELLED
    // (faults.rs covers a deadline that passes while the server works).
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    assert_eq!(status.message(), "Timeout expired", "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn past_the_concurrency_limit_requests_are_refused_not_queued() {
    let mut options = default_options();
    options.max_concurrent_requests = 1;
    let server = TestServer::start_with(options).await;
    // An open ingest stream holds the only permit until it ends. The stream itself may lose the
    // race for the permit to a probe, so the whole exchange is retried a few times.
    let mut refused = None;
    for _attempt in 0..5 {
        let (sender, receiver) = tokio::sync::mpsc::channel::<pb::IngestArticlesRequest>(1);
        let mut ingest = IngestServiceClient::new(server.channel.clone());
        let stream = tokio::spawn(async move {
            ingest
                .ingest_articles(tokio_stream::wrappers::ReceiverStream::new(receiver))
                .await
        });
        sender
            .send(pb::IngestArticlesRequest::default())
            .await
            .unwrap();
        // Let the stream reach the server before probing.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Err(status) = server.articles().get_article(get_seed()).await
            && status.code() == Code::ResourceExhausted
        {
            refused = Some(status);
        }
        drop(sender);
        let ended = stream.await.unwrap();
        if refused.is_some() {
            assert!(
                ended.is_ok(),
                "the stream holding the permit completes: {ended:?}"
            );
            break;
        }
    }
    let refused = refused.expect("a request past the limit is refused");
    assert_eq!(
        refused.message(),
        "the server is at its limit of 1 concurrent requests: retry with backoff"
    );
    {
        use tonic_types::StatusExt;
        let info = refused.get_details_error_info().unwrap();
        assert_eq!(info.reason, "TOO_MANY_CONCURRENT_REQUESTS");
        assert_eq!(info.metadata.get("limit").map(String::as_str), Some("1"));
    }
    assert!(
        server.articles().get_article(get_seed()).await.is_ok(),
        "served again once free"
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text() {
    let server = TestServer::start().await;
    server.articles().get_article(get_seed()).await.unwrap();
    let _ = server
        .articles()
        .get_article(pb::GetArticleRequest {
            id: "missing".into(),
            view: 0,
        })
        .await;
    let mut socket = tokio::net::TcpStream::connect(server.metrics_address)
        .await
        .unwrap();
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.contains(r#"communique_rpcs_total{method="GetArticle",code="Ok"} 1"#),
        "{response}"
    );
    assert!(
        response.contains(r#"communique_rpcs_total{method="GetArticle",code="NotFound"} 1"#),
        "{response}"
    );
    assert!(
        response.contains("communique_rpc_latency_seconds_bucket{method=\"GetArticle\""),
        "{response}"
    );
    assert!(response.contains("communique_articles 5"), "{response}");
    assert!(
        response.contains("communique_store_size_bytes "),
        "{response}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_sends_its_token() {
    use communique_worker::annotate::Annotator;
    use communique_worker::knowledge_base;
    use communique_worker::pipeline::{IngestOptions, ingest};
    use communique_worker::sink::ServerSink;

    let mut options = default_options();
    options.tokens = vec![TOKEN.to_owned()];
    let server = TestServer::start_with(options).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.jsonl");
    std::fs::write(
        &path,
        r#"{"id": "tokened", "title": "EU urges calm", "body": "The EU urged restraint."}"#,
    )
    .unwrap();
    let url = format!("http://{}", server.address);
    let run = move |token: Option<&'static str>| {
        let (url, path) = (url.clone(), path.clone());
        tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let sink = ServerSink::connect(&runtime, &url, token, None).unwrap();
            let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
            ingest(&[path], &annotator, &sink, &IngestOptions::default(), &())
        })
    };
    let refused = run(None).await.unwrap();
    assert!(
        refused
            .fatal
            .as_deref()
            .is_some_and(|f| f.contains("Unauthenticated")),
        "{refused:#?}"
    );
    let accepted = run(Some(TOKEN)).await.unwrap();
    assert!(
        accepted.is_clean() && accepted.ingested == 1,
        "{accepted:#?}"
    );
    server.stop().await;
}
