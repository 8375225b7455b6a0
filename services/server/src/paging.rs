//! AIP-158 pagination at the edge: page sizes (0 = default, above the maximum = clamped,
//! negative = INVALID_ARGUMENT) and opaque page tokens that carry a fingerprint of the query, so
//! a token replayed with other filters is refused.

use std::fmt::Write;

use communique_domain::content_hash;
use communique_domain::query::{EntitySearch, PageRequest};
use communique_grpc::ServiceError;
use communique_proto::v1 as pb;

const TOKEN_VERSION: &str = "p1";

#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub default_size: usize,
    pub max_size: usize,
}

impl Paging {
    /// `query` describes every filter of the request except the page fields.
    pub fn request(
        &self,
        page_size: i32,
        page_token: &str,
        query: &str,
    ) -> Result<PageRequest, ServiceError> {
        let size = match usize::try_from(page_size) {
            Err(_) => {
                return Err(ServiceError::invalid(
                    "page_size",
                    format!("{page_size} is negative: use 0 for the default or a positive size"),
                ));
            }
            Ok(0) => self.default_size,
            Ok(size) => size.min(self.max_size),
        };
        let resume_after = if page_token.is_empty() {
            None
        } else {
            Some(decode_token(page_token, &fingerprint(query)).ok_or_else(|| {
                ServiceError::invalid(
                    "page_token",
                    "is not a token this query issued: send the next_page_token of the previous response with the other fields unchanged",
                )
            })?)
        };
        Ok(PageRequest { size, resume_after })
    }

    /// The next page token: empty at the end of the results.
    pub fn token(&self, next: Option<Vec<u8>>, query: &str) -> String {
        match next {
            None => String::new(),
            Some(position) => format!("{TOKEN_VERSION}.{}.{}", fingerprint(query), hex(&position)),
        }
    }
}

fn fingerprint(query: &str) -> String {
    content_hash("page-token", query)
        .get(..16)
        .unwrap_or_default()
        .to_owned()
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        for digit in [byte >> 4, byte & 0x0F] {
            text.push(char::from_digit(u32::from(digit), 16).unwrap_or('0'));
        }
    }
    text
}

/// CompareStances' query as its page tokens describe it:
/// `format!("CompareStances {target:?} {government_codes:?} {published_after:?}
/// {published_before:?} {topic:?} {max_evidence}")`, written by hand when no date is given
/// (the formatting machinery cost about 3% of an answer; issued tokens carry this text's hash).
pub fn stance_query(
    target: &str,
    government_codes: &[String],
    published_after: Option<&pb::Date>,
    published_before: Option<&pb::Date>,
    topic: &str,
    max_evidence: i32,
) -> String {
    if published_after.is_some() || published_before.is_some() {
        return format!(
            "CompareStances {target:?} {government_codes:?} {published_after:?} {published_before:?} {topic:?} {max_evidence}"
        );
    }
    let mut query =
        String::with_capacity(48 + target.len() + topic.len() + 8 * government_codes.len());
    query.push_str("CompareStances ");
    push_quoted(&mut query, target);
    query.push_str(" [");
    for (index, code) in government_codes.iter().enumerate() {
        if index > 0 {
            query.push_str(", ");
        }
        push_quoted(&mut query, code);
    }
    query.push_str("] None None ");
    push_quoted(&mut query, topic);
    let _ = write!(query, " {max_evidence}");
    query
}

/// SearchEntities' query as its page tokens describe it: `format!("SearchEntities {search:?}")`,
/// written by hand when no kind is given.
pub fn search_query(search: &EntitySearch) -> String {
    if !search.kinds.is_empty() {
        return format!("SearchEntities {search:?}");
    }
    let mut query = String::with_capacity(48 + search.query.len());
    query.push_str("SearchEntities EntitySearch { query: ");
    push_quoted(&mut query, &search.query);
    query.push_str(", kinds: [] }");
    query
}

/// `value` as `{:?}` writes it: quoted, as is when every character is printable ASCII other
/// than a quote or a backslash, else escaped by `Debug`.
fn push_quoted(query: &mut String, value: &str) {
    if value
        .bytes()
        .all(|byte| matches!(byte, b' '..=b'~') && byte != b'"' && byte != b'\\')
    {
        query.push('"');
        query.push_str(value);
        query.push('"');
    } else {
        let _ = write!(query, "{value:?}");
    }
}

fn decode_token(token: &str, expected_fingerprint: &str) -> Option<Vec<u8>> {
    let mut parts = token.splitn(3, '.');
    let (version, fingerprint, position) = (parts.next()?, parts.next()?, parts.next()?);
    if version != TOKEN_VERSION || fingerprint != expected_fingerprint || position.len() % 2 != 0 {
        return None;
    }
    (0..position.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(position.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGING: Paging = Paging {
        default_size: 20,
        max_size: 100,
    };

    #[test]
    fn sizes_follow_aip_158() {
        assert_eq!(PAGING.request(0, "", "q").unwrap().size, 20);
        assert_eq!(PAGING.request(7, "", "q").unwrap().size, 7);
        assert_eq!(PAGING.request(1000, "", "q").unwrap().size, 100);
        assert!(PAGING.request(-1, "", "q").is_err());
    }

    #[test]
    fn positions_are_written_in_lower_case_hex() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0, 1, 0x0F, 0x10, 0xAB, 0xFF]), "00010f10abff");
    }

    #[test]
    fn queries_are_described_as_debug_formats_them() {
        let texts = [
            "Iran",
            "",
            "United States",
            "Côte d'Ivoire",
            "say \"no\"",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "~ !#$%&()*+,-./:;<=>?@[]^_`{|}",
        ];
        let codes: [Vec<String>; 4] = [
            Vec::new(),
            vec!["USA".into()],
            vec!["USA".into(), "GBR".into(), "IRN".into()],
            vec!["a\"b".into(), String::new()],
        ];
        let date = pb::Date {
            year: 2020,
            month: 1,
            day: 5,
        };
        for target in texts {
            for government_codes in &codes {
                for (after, before) in [(None, None), (Some(&date), None), (None, Some(&date))] {
                    for (index, max_evidence) in [0, 3, -1].into_iter().enumerate() {
                        let topic = texts[(target.len() + index) % texts.len()];
                        assert_eq!(
                            stance_query(
                                target,
                                government_codes,
                                after,
                                before,
                                topic,
                                max_evidence
                            ),
                            format!(
                                "CompareStances {target:?} {government_codes:?} {after:?} {before:?} {topic:?} {max_evidence}"
                            )
                        );
                    }
                }
            }
            for kinds in [Vec::new(), vec![communique_domain::EntityKind::Country]] {
                let search = EntitySearch {
                    query: target.to_owned(),
                    kinds,
                };
                assert_eq!(search_query(&search), format!("SearchEntities {search:?}"));
            }
        }
    }

    #[test]
    fn tokens_round_trip_only_for_the_same_query() {
        let token = PAGING.token(Some(vec![1, 0, 255]), "query a");
        let request = PAGING.request(5, &token, "query a").unwrap();
        assert_eq!(request.resume_after, Some(vec![1, 0, 255]));
        assert!(PAGING.request(5, &token, "query b").is_err());
        assert!(PAGING.request(5, "garbage", "query a").is_err());
        assert!(PAGING.request(5, "p1.x.zz", "query a").is_err());
        assert_eq!(PAGING.token(None, "query a"), "");
    }
}
