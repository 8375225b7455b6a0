//! One JSON-lines record → one [`RawArticle`], or a [`Rejection`] saying what is wrong with it.

use communique_domain::{DateSource, PublishedDate, validate_article_id};
use serde::Deserialize;
use serde_json::Value;

use super::clean::{clean_body, clean_title};
use super::dates::{infer_date, parse_published_at};
use super::{Origin, RawArticle, Rejection};

/// The fields read from a record; any others are skipped unparsed. Values are kept as JSON so
/// that a wrong type can be reported by field name.
#[derive(Deserialize)]
struct Record {
    id: Option<Value>,
    title: Option<Value>,
    body: Option<Value>,
    url: Option<Value>,
    source: Option<Value>,
    published_at: Option<Value>,
    #[serde(alias = "author")]
    authors: Option<Value>,
}

/// The longest `published_at` value quoted back in a rejection.
const MAX_QUOTED_CHARS: usize = 60;

/// Parses one JSONL record line. Known fields: `id`, `title`, `body`, `url`, `source`,
/// `published_at` and `authors` (an array of strings or one string); others are ignored. A record
/// needs a title or a body: a headline-only brief is an article.
pub fn parse_jsonl_record(origin: Origin, line: &str) -> Result<RawArticle, Rejection> {
    match read_record(line) {
        Ok(record) => build_article(origin, record),
        Err(reason) => Err(Rejection::new(origin, reason)),
    }
}

fn read_record(line: &str) -> Result<Record, String> {
    let line = line.trim();
    if !line.starts_with('{') {
        // Valid JSON of another kind gets a clearer message than serde's "invalid type". Skipping
        // a value does not recurse, so deep nesting is safe here.
        return match serde_json::from_str::<serde::de::IgnoredAny>(line) {
            Ok(_) => Err(format!(
                "record is {}, not a JSON object",
                json_kind(line.chars().next())
            )),
            Err(error) => Err(describe_json_error(&error)),
        };
    }
    serde_json::from_str(line).map_err(|error| describe_json_error(&error))
}

/// What a valid JSON value that starts with `first` is.
fn json_kind(first: Option<char>) -> &'static str {
    match first {
        Some('[') => "an array",
        Some('"') => "a string",
        Some('t' | 'f') => "a boolean",
        Some('n') => "null",
        _ => "a number",
    }
}

/// "malformed JSON: expected `:` at column 17"; the line is already in the origin.
fn describe_json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = message
        .rfind(" at line ")
        .and_then(|end| message.get(..end))
        .unwrap_or(&message);
    let column = error.column();
    match error.classify() {
        serde_json::error::Category::Data => format!("malformed record: {message}"),
        _ if column > 0 => format!("malformed JSON: {message} at column {column}"),
        _ => format!("malformed JSON: {message}"),
    }
}

fn build_article(origin: Origin, record: Record) -> Result<RawArticle, Rejection> {
    let reject = |reason: String| Rejection::new(origin.clone(), reason);
    let id = string_field("id", record.id).map_err(reject)?;
    if let Some(id) = &id {
        validate_article_id(id).map_err(|error| reject(format!("invalid `id`: {error}")))?;
    }
    let raw_title = string_field("title", record.title).map_err(reject)?;
    let raw_body = string_field("body", record.body).map_err(reject)?;
    let url = non_empty(string_field("url", record.url).map_err(reject)?);
    let source = non_empty(string_field("source", record.source).map_err(reject)?);
    let authors = authors_field(record.authors).map_err(reject)?;
    let published_at =
        non_empty(string_field("published_at", record.published_at).map_err(reject)?);
    let metadata_date = match published_at {
        Some(text) => Some(parse_published_at(&text).ok_or_else(|| {
            reject(format!(
                "`published_at` is not a date: {:?} (expected YYYY-MM-DD or an RFC 3339 timestamp such as 2020-01-03T15:01:00Z)",
                truncate_chars(&text, MAX_QUOTED_CHARS)
            ))
        })?),
        None => None,
    };

    let raw_title = raw_title.unwrap_or_default();
    let raw_body = raw_body.unwrap_or_default();
    let title = clean_title(&raw_title);
    let body = clean_body(&raw_body);
    if title.is_empty() && body.is_empty() {
        let reason = if raw_title.trim().is_empty() && raw_body.trim().is_empty() {
            "record has neither title nor body"
        } else {
            "record has no text left once site furniture is removed"
        };
        return Err(reject(reason.to_owned()));
    }
    let published = match metadata_date {
        Some(date) => Some(PublishedDate {
            date,
            source: DateSource::Metadata,
        }),
        None => infer_date(&title, &body).map(|date| PublishedDate {
            date,
            source: DateSource::Text,
        }),
    };
    Ok(RawArticle {
        origin,
        id,
        title,
        body,
        url,
        source,
        authors,
        published,
    })
}

/// A string field: absent or `null` is `None`; any other type is an error naming the field.
fn string_field(name: &str, value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!(
            "`{name}` must be a string, not {}",
            describe_type(&other)
        )),
    }
}

/// `authors`: an array of strings or a single string, blank names dropped.
fn authors_field(value: Option<Value>) -> Result<Vec<String>, String> {
    let names = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(name)) => vec![name],
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(name) => Ok(name),
                other => Err(format!(
                    "`authors` must hold strings; item {} is {}",
                    index + 1,
                    describe_type(&other)
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "`authors` must be an array of strings or a string, not {}",
                describe_type(&other)
            ));
        }
    };
    Ok(names
        .iter()
        .map(|name| clean_title(name))
        .filter(|name| !name.is_empty())
        .collect())
}

fn describe_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use communique_domain::Date;

    use super::*;

    fn parse(line: &str) -> Result<RawArticle, Rejection> {
        parse_jsonl_record(Origin::line("corpus.jsonl", 7), line)
    }

    fn reason(line: &str) -> String {
        match parse(line) {
            Ok(article) => panic!("expected a rejection, got {article:?}"),
            Err(rejection) => {
                assert_eq!(rejection.origin, Origin::line("corpus.jsonl", 7));
                rejection.reason
            }
        }
    }

    #[test]
    fn reads_all_fields() {
        let article = parse(
            r#"{"id": "bbc-001", "title": "Ad sales boost Time Warner", "body": "Profits jumped.\n\nShares rose.", "url": "https://example.com/a", "source": "BBC", "published_at": "2020-01-03T15:01:00Z", "authors": ["Jane Doe", " "], "category": "business", "topics": [1, {"x": [2]}]}"#,
        )
        .unwrap();
        assert_eq!(article.id.as_deref(), Some("bbc-001"));
        assert_eq!(article.title, "Ad sales boost Time Warner");
        assert_eq!(article.body, "Profits jumped.\n\nShares rose.");
        assert_eq!(article.url.as_deref(), Some("https://example.com/a"));
        assert_eq!(article.source.as_deref(), Some("BBC"));
        assert_eq!(article.authors, vec!["Jane Doe".to_owned()]);
        let published = article.published.unwrap();
        assert_eq!(published.date, Date::new(2020, 1, 3).unwrap());
        assert_eq!(published.source, DateSource::Metadata);
    }

    #[test]
    fn accepts_optional_and_alternative_forms() {
        let article =
            parse(r#"{"title": "Brief", "author": "Jane Doe", "published_at": null, "url": ""}"#)
                .unwrap();
        assert_eq!(article.id, None);
        assert_eq!(article.body, "");
        assert_eq!(article.authors, vec!["Jane Doe".to_owned()]);
        assert_eq!(article.url, None);
        assert_eq!(article.published, None);
        let article =
            parse(r#"{"body": "Text only.", "published_at": "1987-02-26T15:01:01"}"#).unwrap();
        assert_eq!(article.title, "");
        assert_eq!(
            article.published.unwrap().date,
            Date::new(1987, 2, 26).unwrap()
        );
        let article =
            parse(r#"{"body": "Text only.", "published_at": "2020-01-03 15:01:00"}"#).unwrap();
        assert_eq!(
            article.published.unwrap().date,
            Date::new(2020, 1, 3).unwrap()
        );
    }

    #[test]
    fn infers_a_missing_date_from_the_text() {
        let article =
            parse(r#"{"title": "Talks", "body": "TEHRAN, Jan. 8, 2020 (Reuters) - Talks began."}"#)
                .unwrap();
        let published = article.published.unwrap();
        assert_eq!(published.date, Date::new(2020, 1, 8).unwrap());
        assert_eq!(published.source, DateSource::Text);
    }

    #[test]
    fn cleans_body_and_title() {
        let article = parse(r#"{"title": " ZENITH &lt;ZEN&gt;\nGETS APPROVAL ", "body": "Zenith Laboratories Inc said\nit received Food and Drug Administration approval to market\nCephalexin, an antibiotic.\n    It also said so.\n REUTER"}"#).unwrap();
        assert_eq!(article.title, "ZENITH <ZEN> GETS APPROVAL");
        assert_eq!(
            article.body,
            "Zenith Laboratories Inc said it received Food and Drug Administration approval to market Cephalexin, an antibiotic.\n\nIt also said so."
        );
    }

    #[test]
    fn rejects_bad_records() {
        assert_eq!(
            reason(r#"{"title" "x"}"#),
            "malformed JSON: expected `:` at column 10"
        );
        assert_eq!(
            reason(r#"{"title": "x""#),
            "malformed JSON: EOF while parsing an object at column 13"
        );
        assert_eq!(
            reason(r#"{"title": "x"} trailing"#),
            "malformed JSON: trailing characters at column 16"
        );
        assert_eq!(reason("[1, 2]"), "record is an array, not a JSON object");
        assert_eq!(
            reason(r#""just a string""#),
            "record is a string, not a JSON object"
        );
        assert_eq!(reason("42"), "record is a number, not a JSON object");
        assert_eq!(reason("null"), "record is null, not a JSON object");
        assert!(reason("hello").starts_with("malformed JSON: expected value at column 1"));
        assert_eq!(
            reason("not json"),
            "malformed JSON: expected ident at column 2"
        );
        assert_eq!(
            reason("[1, 2"),
            "malformed JSON: EOF while parsing a list at column 5"
        );
        assert_eq!(reason("true"), "record is a boolean, not a JSON object");
        assert_eq!(
            reason(r#"{"title": 5}"#),
            "`title` must be a string, not a number"
        );
        assert_eq!(
            reason(r#"{"body": ["a"]}"#),
            "`body` must be a string, not an array"
        );
        assert_eq!(
            reason(r#"{"title": "t", "authors": ["a", 3]}"#),
            "`authors` must hold strings; item 2 is a number"
        );
        assert_eq!(
            reason(r#"{"title": "t", "authors": {"a": 1}}"#),
            "`authors` must be an array of strings or a string, not an object"
        );
        assert_eq!(
            reason(r#"{"title": "t", "id": 12}"#),
            "`id` must be a string, not a number"
        );
        assert!(
            reason(r#"{"title": "t", "id": "a/b"}"#)
                .starts_with("invalid `id`: article id \"a/b\" holds '/'")
        );
        assert_eq!(
            reason(r#"{"title": "t", "title": "u"}"#),
            "malformed record: duplicate field `title`"
        );
        assert_eq!(
            reason(r#"{"title": "", "body": "  "}"#),
            "record has neither title nor body"
        );
        assert_eq!(
            reason(r#"{"id": "x"}"#),
            "record has neither title nor body"
        );
        assert_eq!(
            reason(r#"{"body": "Advertisement\n\nREUTER"}"#),
            "record has no text left once site furniture is removed"
        );
        assert_eq!(
            reason(r#"{"title": "t", "published_at": "last Tuesday"}"#),
            "`published_at` is not a date: \"last Tuesday\" (expected YYYY-MM-DD or an RFC 3339 timestamp such as 2020-01-03T15:01:00Z)"
        );
        assert_eq!(
            reason(r#"{"title": "t", "published_at": 2020}"#),
            "`published_at` must be a string, not a number"
        );
    }

    #[test]
    fn deep_nesting_is_a_rejection_not_a_crash() {
        for depth in [200, 100_000] {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            // serde_json skips unknown fields without recursing, so depth there is harmless.
            let line = format!(r#"{{"title": "t", "extra": {nested}}}"#);
            assert_eq!(parse(&line).unwrap().title, "t");
            let line = format!(r#"{{"title": {nested}}}"#);
            assert!(
                reason(&line).starts_with("malformed JSON: recursion limit exceeded at column ")
            );
            assert_eq!(reason(&nested), "record is an array, not a JSON object");
            let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
            assert_eq!(
                parse(&objects).unwrap_err().reason,
                "record has neither title nor body"
            );
            let objects = format!("{}1{}", r#"{"body":"#.repeat(depth), "}".repeat(depth));
            assert!(reason(&objects).starts_with("malformed JSON: recursion limit exceeded"));
        }
    }
}
