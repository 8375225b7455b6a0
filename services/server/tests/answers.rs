//! Answer identity for speed-only changes: a fixed list of read RPCs (every CompareStances page
//! of a few targets, narrowed and not; GetArticle in both views for the newest articles;
//! searches, entities, mentions and statements), each answer written as its encoded wire bytes
//! (or its status code and message). Two builds that give the same dump gave byte-identical
//! answers.
//!
//! By default the answers come from the seed store and the test only checks that every call
//! completes. With `COMMUNIQUE_ANSWERS_DB=DIR` (a store no other process holds, e.g. a copy of
//! the benchmark's corpus store) and `COMMUNIQUE_ANSWERS_OUT=FILE`, it dumps that store's
//! answers to FILE: run it on the build before a change and after, and compare the files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::Arc;

use communique_proto::v1 as pb;
use communique_proto::v1::article_service_client::ArticleServiceClient;
use communique_proto::v1::entity_service_client::EntityServiceClient;
use communique_proto::v1::stance_service_client::StanceServiceClient;
use communique_server::{Listeners, serve};
use communique_store::{ArticleStore, SledStore, StoreOptions};
use prost::Message;
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// Every answer in call order: a label, then the encoded answer or the status.
#[derive(Default)]
struct Dump {
    text: Vec<u8>,
    calls: usize,
}

impl Dump {
    fn record<T: Message>(
        &mut self,
        label: &str,
        answer: &Result<tonic::Response<T>, tonic::Status>,
    ) {
        self.calls += 1;
        match answer {
            Ok(response) => {
                let bytes = response.get_ref().encode_to_vec();
                writeln!(self.text, "{label} ok {}", bytes.len()).unwrap();
                self.text.extend_from_slice(&bytes);
                self.text.push(b'\n');
            }
            Err(status) => {
                writeln!(
                    self.text,
                    "{label} {:?} {}",
                    status.code(),
                    status.message()
                )
                .unwrap();
            }
        }
    }
}

async fn stance_pages(
    client: &mut StanceServiceClient<Channel>,
    dump: &mut Dump,
    label: &str,
    mut request: pb::CompareStancesRequest,
) {
    for page in 0..100 {
        let answer = client.compare_stances(request.clone()).await;
        dump.record(&format!("{label} page {page}"), &answer);
        match answer {
            Ok(response) if !response.get_ref().next_page_token.is_empty() => {
                request.page_token = response.into_inner().next_page_token;
            }
            _ => return,
        }
    }
}

async fn dump_answers(channel: Channel) -> Dump {
    let mut dump = Dump::default();
    let limit = 64 << 20;
    let mut articles = ArticleServiceClient::new(channel.clone()).max_decoding_message_size(limit);
    let mut entities = EntityServiceClient::new(channel.clone()).max_decoding_message_size(limit);
    let mut stances = StanceServiceClient::new(channel).max_decoding_message_size(limit);

    let targets = [
        "Iran",
        "Israel",
        "Russia",
        "Ukraine",
        "China",
        "United States",
        "Iraq",
        "Syria",
        "Boris Johnson",
        "irn",
        "Qasem Soleimani",
    ];
    for target in targets {
        let ask = pb::CompareStancesRequest {
            target: target.into(),
            ..Default::default()
        };
        stance_pages(
            &mut stances,
            &mut dump,
            &format!("stances {target}"),
            ask.clone(),
        )
        .await;
        let most_evidence = pb::CompareStancesRequest {
            max_evidence: 10,
            page_size: 7,
            ..ask.clone()
        };
        stance_pages(
            &mut stances,
            &mut dump,
            &format!("stances {target} x10"),
            most_evidence,
        )
        .await;
        let governments = pb::CompareStancesRequest {
            government_codes: vec!["USA".into(), "GBR".into(), "IRN".into()],
            ..ask.clone()
        };
        stance_pages(
            &mut stances,
            &mut dump,
            &format!("stances {target} gov"),
            governments,
        )
        .await;
        let topic = pb::CompareStancesRequest {
            topic: "nuclear attack".into(),
            ..ask.clone()
        };
        stance_pages(
            &mut stances,
            &mut dump,
            &format!("stances {target} topic"),
            topic,
        )
        .await;
        let dated = pb::CompareStancesRequest {
            published_after: Some(pb::Date {
                year: 2019,
                month: 6,
                day: 1,
            }),
            page_size: 5,
            ..ask
        };
        stance_pages(
            &mut stances,
            &mut dump,
            &format!("stances {target} dated"),
            dated,
        )
        .await;
    }

    // The newest articles, as the benchmark's GetArticle cycles over them.
    let mut ids = Vec::new();
    let mut page_token = String::new();
    for page in 0..5 {
        let answer = articles
            .list_articles(pb::ListArticlesRequest {
                page_size: 50,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await;
        dump.record(&format!("list articles page {page}"), &answer);
        let Ok(response) = answer else { break };
        let response = response.into_inner();
        ids.extend(response.articles.into_iter().map(|article| article.id));
        page_token = response.next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    for id in &ids {
        for view in [pb::ArticleView::Full, pb::ArticleView::Basic] {
            let answer = articles
                .get_article(pb::GetArticleRequest {
                    id: id.clone(),
                    view: view as i32,
                })
                .await;
            dump.record(&format!("article {id} {view:?}"), &answer);
        }
    }
    let missing = articles
        .get_article(pb::GetArticleRequest {
            id: "no-such-article".into(),
            view: pb::ArticleView::Full as i32,
        })
        .await;
    dump.record("article missing", &missing);

    let mut found = Vec::new();
    for query in [
        "Iran",
        "ira",
        "Irna",
        "united",
        "Boris",
        "Johnsen",
        "u",
        "Soleimani",
    ] {
        for page_size in [0, 3] {
            let answer = entities
                .search_entities(pb::SearchEntitiesRequest {
                    query: query.into(),
                    page_size,
                    ..Default::default()
                })
                .await;
            dump.record(&format!("search {query} {page_size}"), &answer);
            if let Ok(response) = answer {
                found.extend(
                    response
                        .into_inner()
                        .matches
                        .into_iter()
                        .map(|m| m.entity_id),
                );
            }
        }
    }
    let countries = entities
        .search_entities(pb::SearchEntitiesRequest {
            query: "ir".into(),
            kinds: vec![pb::EntityKind::Country as i32],
            ..Default::default()
        })
        .await;
    dump.record("search ir countries", &countries);
    found.sort();
    found.dedup();
    for id in found.iter().take(40) {
        let answer = entities
            .get_entity(pb::GetEntityRequest { id: id.clone() })
            .await;
        dump.record(&format!("entity {id}"), &answer);
    }
    for id in found.iter().take(5) {
        let mentions = entities
            .list_mentions(pb::ListMentionsRequest {
                entity_id: id.clone(),
                ..Default::default()
            })
            .await;
        dump.record(&format!("mentions {id}"), &mentions);
        let statements = stances
            .list_statements(pb::ListStatementsRequest {
                target_entity_id: id.clone(),
                ..Default::default()
            })
            .await;
        dump.record(&format!("statements about {id}"), &statements);
    }
    dump
}

#[tokio::test]
async fn read_answers_can_be_dumped() {
    let (server, store_dir) = match std::env::var_os("COMMUNIQUE_ANSWERS_DB") {
        Some(dir) => (None, Some(std::path::PathBuf::from(dir))),
        None => (Some(common::TestServer::start().await), None),
    };
    let (channel, stop, task) = match (&server, store_dir) {
        (Some(server), _) => (server.channel.clone(), None, None),
        (None, Some(dir)) => {
            let store = SledStore::open(&dir, &StoreOptions::default()).unwrap();
            let served: Arc<dyn ArticleStore> = Arc::new(store);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let listeners = Listeners {
                grpc: listener,
                metrics: None,
                health: None,
            };
            let mut options = common::default_options();
            options.max_message_bytes = 64 << 20;
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(serve(listeners, served, options, async {
                let _ = stopped.await;
            }));
            let channel = Channel::from_shared(format!("http://{address}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            (channel, Some(stop), Some(task))
        }
        (None, None) => unreachable!(),
    };
    let dump = dump_answers(channel).await;
    assert!(dump.calls > 20, "{} calls", dump.calls);
    if let Some(out) = std::env::var_os("COMMUNIQUE_ANSWERS_OUT") {
        std::fs::write(&out, &dump.text).unwrap();
        eprintln!(
            "{} answers, {} bytes, written to {out:?}",
            dump.calls,
            dump.text.len()
        );
    }
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    if let Some(task) = task {
        task.await.unwrap().unwrap();
    }
    if let Some(server) = server {
        server.stop().await;
    }
}
