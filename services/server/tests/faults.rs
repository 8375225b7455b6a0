//! The server under load and faults: bad articles in an ingest stream, ingest during a read load,
//! clients that go away mid-stream, and requests past the limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{TestServer, default_options};
use communique_proto::v1 as pb;
use communique_proto::v1::article_service_client::ArticleServiceClient;
use communique_proto::v1::entity_service_client::EntityServiceClient;
use communique_proto::v1::ingest_service_client::IngestServiceClient;
use communique_proto::v1::stance_service_client::StanceServiceClient;
use communique_store::{ArticleParts, ArticleStore};
use tonic::Code;
use tonic::transport::Channel;

const SEED: &str = "000_d9314bceb94995f8";

fn article(id: &str, title: &str, body: &str) -> pb::Article {
    pb::Article {
        id: id.into(),
        title: title.into(),
        body: body.into(),
        ..Default::default()
    }
}

fn message(article: pb::Article) -> pb::IngestArticlesRequest {
    pb::IngestArticlesRequest {
        article: Some(article),
        entities: Vec::new(),
    }
}

async fn full_article(channel: &Channel, id: &str) -> Result<pb::Article, tonic::Status> {
    let response = ArticleServiceClient::new(channel.clone())
        .get_article(pb::GetArticleRequest {
            id: id.into(),
            view: pb::ArticleView::Full as i32,
        })
        .await?;
    Ok(response.into_inner().article.unwrap())
}

#[tokio::test]
async fn each_bad_article_in_a_stream_is_rejected_by_field_and_the_good_ones_are_stored() {
    let server = TestServer::start().await;
    let mention_past_the_end = pb::Article {
        mentions: vec![pb::Mention {
            entity_id: "irn".into(),
            entity_name: "Iran".into(),
            kind: pb::EntityKind::Country as i32,
            text: "Iran".into(),
            span: Some(pb::TextSpan {
                field: pb::TextField::Body as i32,
                start: 0,
                end: 1_000,
            }),
            ..Default::default()
        }],
        ..article("span-past-end", "Iran", "Iran spoke.")
    };
    let undefined_entity = pb::Article {
        id: "undefined-entity".into(),
        ..mention_past_the_end.clone()
    };
    let iran = pb::Entity {
        id: "irn".into(),
        name: "Iran".into(),
        kind: pb::EntityKind::Country as i32,
        government_code: "IRN".into(),
        ..Default::default()
    };
    let date_without_source = pb::Article {
        published_date: Some(pb::Date {
            year: 2020,
            month: 1,
            day: 5,
        }),
        ..article("date-without-source", "Dated", "A dated story.")
    };
    let impossible_date = pb::Article {
        published_date: Some(pb::Date {
            year: 2020,
            month: 13,
            day: 5,
        }),
        date_source: pb::DateSource::Metadata as i32,
        ..article("impossible-date", "Dated", "A dated story.")
    };
    let requests = vec![
        message(article(
            "good-a",
            "EU calls for calm",
            "The EU urged restraint.",
        )),
        pb::IngestArticlesRequest::default(),
        message(article("", "No id", "An article without an id.")),
        message(article("bad/id", "Slash", "An id with a slash.")),
        message(undefined_entity),
        pb::IngestArticlesRequest {
            article: Some(mention_past_the_end),
            entities: vec![iran],
        },
        message(date_without_source),
        message(impossible_date),
        message(article(
            "good-b",
            "NATO meets",
            "NATO allies met in Brussels.",
        )),
    ];
    let response = IngestServiceClient::new(server.channel.clone())
        .ingest_articles(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let rejected: Vec<(String, String)> = response
        .rejected
        .iter()
        .map(|r| (r.article_id.clone(), r.reason.clone()))
        .collect();
    // Each reason names the field at fault, as a path into the request.
    let expected: Vec<(String, String)> = [
        ("", "invalid argument: article: is required"),
        ("", "invalid article \"\": article.id: article id is empty"),
        (
            "bad/id",
            "invalid article \"bad/id\": article.id: article id \"bad/id\" holds '/': use letters, digits and . _ : - only (no '/', which separates statement ordinals)",
        ),
        (
            "undefined-entity",
            "invalid article \"undefined-entity\": article.mentions[0].entity_id: names entity \"irn\", which `entities` does not define",
        ),
        (
            "span-past-end",
            "invalid article \"span-past-end\": article.mentions[0].span: [0, 1000) is not a range of character boundaries in the body",
        ),
        (
            "date-without-source",
            "invalid argument: article.date_source: is required with published_date",
        ),
        (
            "impossible-date",
            "invalid argument: article.published_date: 2020-13-05 is not a calendar date",
        ),
    ]
    .into_iter()
    .map(|(id, reason)| (id.to_owned(), reason.to_owned()))
    .collect();
    assert_eq!(rejected, expected);
    assert_eq!((response.ingested_count, response.unchanged_count), (2, 0));
    for (id, title) in [("good-a", "EU calls for calm"), ("good-b", "NATO meets")] {
        assert_eq!(
            full_article(&server.channel, id).await.unwrap().title,
            title
        );
    }
    assert_eq!(server.store.article_count().unwrap(), 7);
    assert_eq!(
        server.store.integrity_problems().unwrap(),
        Vec::<String>::new()
    );
    server.stop().await;
}

/// Counts of one reader's outcomes.
#[derive(Default)]
struct ReadTally {
    ok: AtomicU64,
    errors: std::sync::Mutex<Vec<String>>,
}

/// Keeps `in_flight` reads of every kind going on its own connection until `stop`.
async fn read_load(
    address: String,
    in_flight: usize,
    stop: Arc<AtomicBool>,
    tally: Arc<ReadTally>,
) {
    let channel = Channel::from_shared(address)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for slot in 0..in_flight {
        let channel = channel.clone();
        let stop = Arc::clone(&stop);
        let tally = Arc::clone(&tally);
        tasks.push(tokio::spawn(async move {
            let mut articles = ArticleServiceClient::new(channel.clone());
            let mut entities = EntityServiceClient::new(channel.clone());
            let mut stances = StanceServiceClient::new(channel);
            let mut round = slot;
            while !stop.load(Ordering::Relaxed) {
                let outcome = match round % 4 {
                    0 => articles
                        .get_article(pb::GetArticleRequest {
                            id: SEED.into(),
                            view: pb::ArticleView::Full as i32,
                        })
                        .await
                        .map(drop),
                    1 => articles
                        .list_articles(pb::ListArticlesRequest {
                            page_size: 50,
                            ..Default::default()
                        })
                        .await
                        .map(drop),
                    2 => entities
                        .search_entities(pb::SearchEntitiesRequest {
                            query: "Qassim Suleimani".into(),
                            ..Default::default()
                        })
                        .await
                        .map(drop),
                    _ => stances
                        .compare_stances(pb::CompareStancesRequest {
                            target: "Iran".into(),
                            ..Default::default()
                        })
                        .await
                        .map(drop),
                };
                match outcome {
                    Ok(()) => {
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(status) => tally.errors.lock().unwrap().push(format!("{status:?}")),
                }
                round += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_under_load_are_unharmed_by_ingest_and_clients_that_go_away() {
    const READERS: usize = 4;
    const IN_FLIGHT: usize = 12;
    const STREAMED: usize = 30;
    let mut options = default_options();
    options.max_concurrent_requests = 256;
    let server = TestServer::start_with(options).await;
    let address = format!("http://{}", server.address);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(ReadTally::default());
    let load: Vec<_> = (0..READERS)
        .map(|_| {
            tokio::spawn(read_load(
                address.clone(),
                IN_FLIGHT,
                Arc::clone(&stop),
                Arc::clone(&tally),
            ))
        })
        .collect();
    while tally.ok.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A client that goes away halfway through its stream: what it sent before may be stored,
    // each article whole, and nothing else.
    let (sender, receiver) = tokio::sync::mpsc::channel::<pb::IngestArticlesRequest>(4);
    let mut dropped_client = IngestServiceClient::new(server.channel.clone());
    let abandoned = tokio::spawn(async move {
        dropped_client
            .ingest_articles(tokio_stream::wrappers::ReceiverStream::new(receiver))
            .await
    });
    for n in 0..5 {
        let body = format!(
            "Abandoned story {n} about Iran. {}",
            "More words. ".repeat(50)
        );
        sender
            .send(message(article(
                &format!("abandoned-{n}"),
                "Abandoned",
                &body,
            )))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    drop(sender);

    // Reads the client gives up on at once, in flight or not yet sent: each either completes or
    // is cancelled by the client, and the server goes on.
    let mut cancelled_reads = Vec::new();
    for delay_us in (0..400).step_by(20) {
        let mut reader = ArticleServiceClient::new(server.channel.clone());
        let read = tokio::spawn(async move {
            reader
                .list_articles(pb::ListArticlesRequest {
                    page_size: 50,
                    view: pb::ArticleView::Full as i32,
                    ..Default::default()
                })
                .await
        });
        cancelled_reads.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_micros(delay_us)).await;
            read.abort();
            match read.await {
                Ok(finished) => assert!(finished.is_ok(), "{finished:?}"),
                Err(error) => assert!(error.is_cancelled()),
            }
        }));
    }
    for read in cancelled_reads {
        read.await.unwrap();
    }

    // A complete stream, acknowledged.
    let streamed: Vec<pb::IngestArticlesRequest> = (0..STREAMED)
        .map(|n| {
            message(article(
                &format!("streamed-{n}"),
                &format!("Streamed story {n}"),
                &format!("The EU urged restraint in story {n}."),
            ))
        })
        .collect();
    let response = IngestServiceClient::new(server.channel.clone())
        .ingest_articles(tokio_stream::iter(streamed))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.ingested_count as usize, STREAMED, "{response:?}");
    assert!(response.rejected.is_empty(), "{response:?}");

    let reads_during = tally.ok.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    assert!(
        tally.ok.load(Ordering::Relaxed) > reads_during,
        "reads went on during ingest"
    );
    assert_eq!(*tally.errors.lock().unwrap(), Vec::<String>::new());

    for n in 0..STREAMED {
        let stored = full_article(&server.channel, &format!("streamed-{n}"))
            .await
            .unwrap();
        assert_eq!(stored.title, format!("Streamed story {n}"));
        assert_eq!(stored.body, format!("The EU urged restraint in story {n}."));
    }
    for n in 0..5 {
        let id = format!("abandoned-{n}");
        if let Some(stored) = server.store.get_article(&id, ArticleParts::Full).unwrap() {
            assert!(
                stored
                    .article
                    .body
                    .starts_with(&format!("Abandoned story {n}"))
            );
        }
    }
    assert_eq!(
        server.store.integrity_problems().unwrap(),
        Vec::<String>::new()
    );
    server.stop().await;
}

fn error_reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn page_sizes_above_the_maximum_are_clamped_and_negative_ones_refused() {
    let mut options = default_options();
    options.paging.max_size = 2;
    let server = TestServer::start_with(options).await;
    let mut articles = server.articles();
    let mut entities = server.entities();
    let mut stances = server.stances();
    let listed = articles
        .list_articles(pb::ListArticlesRequest {
            page_size: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.articles.len(), 2);
    assert!(!listed.next_page_token.is_empty());
    let mentions = entities
        .list_mentions(pb::ListMentionsRequest {
            entity_id: "irn".into(),
            page_size: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mentions.mentions.len(), 2);
    assert!(!mentions.next_page_token.is_empty());
    let statements = stances
        .list_statements(pb::ListStatementsRequest {
            government_code: "GBR".into(),
            page_size: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(statements.statements.len(), 2);
    assert!(!statements.next_page_token.is_empty());
    let found = entities
        .search_entities(pb::SearchEntitiesRequest {
            query: "Iran".into(),
            page_size: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(found.entities.len() <= 2, "{found:?}");

    let refusals = [
        articles
            .list_articles(pb::ListArticlesRequest {
                page_size: -1,
                ..Default::default()
            })
            .await
            .map(drop),
        entities
            .list_mentions(pb::ListMentionsRequest {
                entity_id: "irn".into(),
                page_size: -1,
                ..Default::default()
            })
            .await
            .map(drop),
        entities
            .search_entities(pb::SearchEntitiesRequest {
                query: "Iran".into(),
                page_size: -1,
                ..Default::default()
            })
            .await
            .map(drop),
        stances
            .list_statements(pb::ListStatementsRequest {
                page_size: -1,
                ..Default::default()
            })
            .await
            .map(drop),
    ];
    for refusal in refusals {
        let status = refusal.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(error_reason(&status), "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), ["page_size"]);
        assert_eq!(
            status.message(),
            "invalid argument: page_size: -1 is negative: use 0 for the default or a positive size"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn messages_over_the_size_limit_are_resource_exhausted() {
    let mut options = default_options();
    options.max_message_bytes = 4096;
    let server = TestServer::start_with(options).await;
    let status = server
        .entities()
        .search_entities(pb::SearchEntitiesRequest {
            query: "x".repeat(10_000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(error_reason(&status), "MESSAGE_TOO_LARGE");
    assert_eq!(
        status.message(),
        "the request message is over the server's limit of 4096 bytes: send smaller messages (an ingest stream takes one article per message)"
    );

    // In a stream, the articles before the oversized one stay stored.
    let requests = vec![
        message(article("small", "A small story", "The EU urged restraint.")),
        message(article("huge", "A huge story", &"word ".repeat(2_000))),
        message(article("after", "After the huge one", "Never read.")),
    ];
    let status = IngestServiceClient::new(server.channel.clone())
        .ingest_articles(tokio_stream::iter(requests))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(error_reason(&status), "MESSAGE_TOO_LARGE");
    assert_eq!(
        full_article(&server.channel, "small").await.unwrap().title,
        "A small story"
    );
    for id in ["huge", "after"] {
        let missing = full_article(&server.channel, id).await.unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
    }
    assert_eq!(
        server.store.integrity_problems().unwrap(),
        Vec::<String>::new()
    );
    // The server serves on.
    let basic = server
        .articles()
        .get_article(pb::GetArticleRequest {
            id: SEED.into(),
            view: pb::ArticleView::Basic as i32,
        })
        .await;
    assert!(basic.is_ok(), "{basic:?}");
    // An answer over the limit is refused with advice, before it is sent.
    let too_big_to_answer = full_article(&server.channel, SEED).await.unwrap_err();
    assert_eq!(too_big_to_answer.code(), Code::ResourceExhausted);
    assert_eq!(error_reason(&too_big_to_answer), "RESPONSE_TOO_LARGE");
    assert!(
        too_big_to_answer
            .message()
            .ends_with("bytes, over the server's limit of 4096 bytes: ask for a smaller page_size or the BASIC view"),
        "{too_big_to_answer:?}"
    );
    server.stop().await;
}

async fn metrics_text(server: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(server.metrics_address)
        .await
        .unwrap();
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_still_running_at_its_deadline_is_deadline_exceeded() {
    let server = TestServer::start().await;
    // An ingest stream the client keeps open runs until its deadline.
    let (sender, receiver) = tokio::sync::mpsc::channel::<pb::IngestArticlesRequest>(1);
    sender
        .send(message(article(
            "early",
            "Before the deadline",
            "Sent in time.",
        )))
        .await
        .unwrap();
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(receiver));
    request.set_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let status = IngestServiceClient::new(server.channel.clone())
        .ingest_articles(request)
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(290));
    // The server answers DEADLINE_EXCEEDED a few milliseconds before the deadline, and counts it
    // before answering. A tonic client runs its own timer to the same deadline and reports
    // CANCELLED when that fires first, which a starved test machine can make happen.
    let metrics = metrics_text(&server).await;
    let counted = metrics
        .contains(r#"communique_rpcs_total{method="IngestArticles",code="DeadlineExceeded"} 1"#);
    if status.code() == Code::Cancelled {
        assert_eq!(status.message(), "Timeout expired", "{status:?}");
    } else {
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert_eq!(error_reason(&status), "DEADLINE_EXCEEDED");
        assert_eq!(
            status.message(),
            "the deadline passed before the request finished: retry with a longer deadline"
        );
        assert!(counted, "{metrics}");
    }
    drop(sender);
    // The article stored before the deadline is whole.
    assert_eq!(
        full_article(&server.channel, "early").await.unwrap().body,
        "Sent in time."
    );
    assert_eq!(
        server.store.integrity_problems().unwrap(),
        Vec::<String>::new()
    );
    server.stop().await;
}
