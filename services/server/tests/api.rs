//! The server end to end, called through the generated clients (see `common` for the setup).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use communique_proto::v1 as pb;
use communique_proto::v1::ingest_service_client::IngestServiceClient;
use communique_worker::annotate::Annotator;
use communique_worker::knowledge_base;
use communique_worker::pipeline::{IngestOptions, ingest};
use tonic::Code;

const SEED_WITH_JOHNSON: &str = "000_d9314bceb94995f8";

fn field_violations(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn articles_are_served_in_both_views() {
    let server = TestServer::start().await;
    let mut client = server.articles();
    let full = client
        .get_article(pb::GetArticleRequest {
            id: SEED_WITH_JOHNSON.into(),
            view: pb::ArticleView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    assert_eq!(full.title, "Boris Johnson finally responds to Iran crisis");
    assert_eq!(
        full.published_date,
        Some(pb::Date {
            year: 2020,
            month: 1,
            day: 5
        })
    );
    assert!(!full.body.is_empty());
    assert!(
        !full.statements.is_empty(),
        "a seed full of quotes has statements"
    );
    assert!(
        full.statements
            .iter()
            .any(|s| s.text.contains("we will not lament his death"))
    );
    assert!(!full.mentions.is_empty());
    for mention in &full.mentions {
        let span = mention.span.unwrap();
        let text = if span.field == pb::TextField::Title as i32 {
            &full.title
        } else {
            &full.body
        };
        assert_eq!(&text[span.start as usize..span.end as usize], mention.text);
    }

    let basic = client
        .get_article(pb::GetArticleRequest {
            id: SEED_WITH_JOHNSON.into(),
            view: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    assert!(basic.body.is_empty() && basic.statements.is_empty());
    assert_eq!(basic.statement_count as usize, full.statements.len());

    let missing = client
        .get_article(pb::GetArticleRequest {
            id: "no-such-article".into(),
            view: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("no-such-article"));
    let empty = client
        .get_article(pb::GetArticleRequest::default())
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&empty), ["id"]);
    server.stop().await;
}

#[tokio::test]
async fn list_articles_pages_and_refuses_foreign_tokens() {
    let server = TestServer::start().await;
    let mut client = server.articles();
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_articles(pb::ListArticlesRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.articles.len() <= 2);
        ids.extend(page.articles.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    ids.sort();
    assert_eq!(ids.len(), 5);
    ids.dedup();
    assert_eq!(ids.len(), 5);

    let first = client
        .list_articles(pb::ListArticlesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let foreign = client
        .list_articles(pb::ListArticlesRequest {
            page_size: 1,
            page_token: first.next_page_token,
            government_code: "GBR".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&foreign), ["page_token"]);

    let bad = client
        .list_articles(pb::ListArticlesRequest {
            page_size: -3,
            published_after: Some(pb::Date {
                year: 2020,
                month: 2,
                day: 30,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let mut fields = field_violations(&bad);
    fields.sort();
    assert_eq!(fields, ["page_size", "published_after"]);

    let in_range = client
        .list_articles(pb::ListArticlesRequest {
            published_after: Some(pb::Date {
                year: 2020,
                month: 1,
                day: 4,
            }),
            published_before: Some(pb::Date {
                year: 2020,
                month: 1,
                day: 5,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = in_range.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [SEED_WITH_JOHNSON],
        "only the seed dated 2020-01-05 lies in the range"
    );
    server.stop().await;
}

#[tokio::test]
async fn entities_are_found_by_any_spelling() {
    let server = TestServer::start().await;
    let mut client = server.entities();
    let found = client
        .search_entities(pb::SearchEntitiesRequest {
            query: "Soleimani".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let soleimani: Vec<&pb::Entity> = found
        .entities
        .iter()
        .filter(|e| {
            e.name.contains("Soleimani") || e.aliases.iter().any(|a| a.contains("Soleimani"))
        })
        .collect();
    assert_eq!(soleimani.len(), 1, "{:?}", found.entities);
    let soleimani = soleimani[0];
    let names: Vec<&str> = std::iter::once(soleimani.name.as_str())
        .chain(soleimani.aliases.iter().map(String::as_str))
        .collect();
    assert!(
        names.iter().any(|n| n.contains("Qasem")) && names.iter().any(|n| n.contains("Qassem")),
        "{names:?}"
    );
    assert_eq!(found.matches.len(), found.entities.len());

    for typo in ["Soleimany", "Qassim Suleimani"] {
        let fuzzy = client
            .search_entities(pb::SearchEntitiesRequest {
                query: typo.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            fuzzy.entities.first().map(|e| e.id.as_str()),
            Some(soleimani.id.as_str()),
            "{typo}"
        );
    }

    let entity = client
        .get_entity(pb::GetEntityRequest {
            id: soleimani.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entity
        .unwrap();
    assert!(entity.article_count >= 4, "{entity:?}");
    let mentions = client
        .list_mentions(pb::ListMentionsRequest {
            entity_id: soleimani.id.clone(),
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mentions.mentions.len(), 3);
    assert!(!mentions.next_page_token.is_empty());
    assert!(
        mentions
            .mentions
            .iter()
            .all(|m| !m.sentence.is_empty() && !m.article_id.is_empty())
    );

    let empty = client
        .search_entities(pb::SearchEntitiesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(field_violations(&empty), ["query"]);
    let unknown = client
        .get_entity(pb::GetEntityRequest {
            id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let unknown = client
        .list_mentions(pb::ListMentionsRequest {
            entity_id: "nobody".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn stances_toward_iran_are_negative_for_the_us_and_the_uk() {
    let server = TestServer::start().await;
    let mut client = server.stances();
    let response = client
        .compare_stances(pb::CompareStancesRequest {
            target: "Iran".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.target.as_ref().map(|t| t.government_code.as_str()),
        Some("IRN")
    );
    let score = |code: &str| {
        response
            .rows
            .iter()
            .find(|row| row.government.as_ref().is_some_and(|g| g.code == code))
            .map(|row| row.score)
    };
    assert!(
        score("USA").is_some_and(|s| s < 0.0),
        "{:#?}",
        response.rows
    );
    assert!(
        score("GBR").is_some_and(|s| s < 0.0),
        "{:#?}",
        response.rows
    );
    for row in &response.rows {
        assert!(row.statement_count >= 1 && !row.evidence.is_empty() && row.evidence.len() <= 3);
    }

    // Narrowed by governments and dates, the same question still answers.
    let narrowed = client
        .compare_stances(pb::CompareStancesRequest {
            target: "Iran".into(),
            government_codes: vec!["gbr".into()],
            published_after: Some(pb::Date {
                year: 2020,
                month: 1,
                day: 1,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(narrowed.rows.len(), 1);
    assert_eq!(narrowed.rows[0].government.as_ref().unwrap().code, "GBR");

    let statements = client
        .list_statements(pb::ListStatementsRequest {
            government_code: "GBR".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!statements.statements.is_empty());
    assert!(
        statements
            .statements
            .iter()
            .all(|s| s.governments.iter().any(|g| g.code == "GBR"))
    );

    let missing = client
        .compare_stances(pb::CompareStancesRequest {
            target: "Zzyzx Qwrtp".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let bad = client
        .compare_stances(pb::CompareStancesRequest {
            target: String::new(),
            government_codes: vec!["G8R!".into()],
            max_evidence: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    let mut fields = field_violations(&bad);
    fields.sort();
    assert_eq!(fields, ["government_codes[0]", "max_evidence", "target"]);
    server.stop().await;
}

#[tokio::test]
async fn ingest_service_stores_streamed_articles_and_reports_bad_ones() {
    let server = TestServer::start().await;
    let mut articles = server.articles();
    let original = articles
        .get_article(pb::GetArticleRequest {
            id: SEED_WITH_JOHNSON.into(),
            view: pb::ArticleView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    let mut copy = original.clone();
    copy.id = "copy-of-000".into();
    let mut broken = original.clone();
    broken.id = "broken".into();
    broken.mentions[0].span = Some(pb::TextSpan {
        field: pb::TextField::Body as i32,
        start: 0,
        end: 1_000_000,
    });
    // The entities the article refers to travel with it.
    let mut ids: Vec<String> = copy.mentions.iter().map(|m| m.entity_id.clone()).collect();
    for statement in &copy.statements {
        ids.extend(
            statement
                .speaker
                .iter()
                .map(|s| s.entity_id.clone())
                .filter(|id| !id.is_empty()),
        );
        ids.extend(statement.targets.iter().map(|t| t.entity_id.clone()));
    }
    ids.sort();
    ids.dedup();
    let mut entity_client = server.entities();
    let mut entities = Vec::new();
    for id in ids {
        let entity = entity_client
            .get_entity(pb::GetEntityRequest { id })
            .await
            .unwrap()
            .into_inner()
            .entity
            .unwrap();
        entities.push(entity);
    }
    let requests = vec![
        pb::IngestArticlesRequest {
            article: Some(copy),
            entities: entities.clone(),
        },
        pb::IngestArticlesRequest {
            article: Some(original),
            entities: entities.clone(),
        },
        pb::IngestArticlesRequest {
            article: Some(broken),
            entities,
        },
    ];
    let mut client = IngestServiceClient::new(server.channel.clone());
    let response = client
        .ingest_articles(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.ingested_count, 1, "{response:?}");
    assert_eq!(response.unchanged_count, 1, "{response:?}");
    assert_eq!(response.rejected.len(), 1, "{response:?}");
    assert_eq!(response.rejected[0].article_id, "broken");
    assert!(response.rejected[0].reason.contains("span"), "{response:?}");
    assert_eq!(response.rejected[0].field, "article.mentions[0].span");
    let stored = articles
        .get_article(pb::GetArticleRequest {
            id: "copy-of-000".into(),
            view: pb::ArticleView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    assert_eq!(stored.statements.len(), stored.statement_count as usize);
    server.stop().await;
}

#[tokio::test]
async fn the_worker_streams_to_a_running_server() {
    use communique_worker::sink::ServerSink;

    let server = TestServer::start().await;
    let address = format!("http://{}", server.address);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nato.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "streamed-1", "title": "NATO condemns attack", "body": "NATO Secretary-General Jens Stoltenberg said: \"I condemn the Iranian missile attacks.\"", "published_at": "2020-01-08"}"#,
            "\n",
            r#"{"id": "streamed-2", "title": "", "body": ""}"#,
            "\n"
        ),
    )
    .unwrap();
    // The worker's sink blocks on its own runtime, as the command line does.
    let report = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sink = ServerSink::connect(&runtime, &address, None, None).unwrap();
        let annotator = Annotator::new(&knowledge_base::load(&[]).unwrap());
        ingest(&[path], &annotator, &sink, &IngestOptions::default(), &())
    })
    .await
    .unwrap();
    assert_eq!(report.ingested, 1, "{report:#?}");
    assert_eq!(report.rejected.len(), 1, "{report:#?}");
    assert!(
        report.rejected[0].origin.ends_with("nato.jsonl:2"),
        "{report:#?}"
    );
    let stored = server
        .articles()
        .get_article(pb::GetArticleRequest {
            id: "streamed-1".into(),
            view: pb::ArticleView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    assert!(
        stored
            .statements
            .iter()
            .any(|s| s.text.contains("I condemn")),
        "{stored:#?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn stance_rows_page_with_tokens_bound_to_the_question() {
    let server = TestServer::start().await;
    let mut client = server.stances();
    let ask = |page_size: i32, page_token: String, topic: &str| pb::CompareStancesRequest {
        target: "Iran".into(),
        topic: topic.into(),
        page_size,
        page_token,
        ..Default::default()
    };
    let whole = client
        .compare_stances(ask(100, String::new(), ""))
        .await
        .unwrap()
        .into_inner();
    assert!(whole.rows.len() >= 3, "{:#?}", whole.rows);
    assert!(whole.next_page_token.is_empty());

    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .compare_stances(ask(1, token, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.rows.len(), 1);
        paged.extend(page.rows);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, whole.rows);

    // A token belongs to the question it was issued for.
    let first = client
        .compare_stances(ask(1, String::new(), ""))
        .await
        .unwrap()
        .into_inner();
    let other_question = client
        .compare_stances(ask(1, first.next_page_token, "death"))
        .await
        .unwrap_err();
    assert_eq!(other_question.code(), Code::InvalidArgument);
    let negative = client
        .compare_stances(ask(-1, String::new(), ""))
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
}
