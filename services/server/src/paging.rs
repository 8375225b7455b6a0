//! AIP-158 pagination at the edge: page sizes (0 = default, above the maximum = clamped,
//! negative = INVALID_ARGUMENT) and opaque page tokens that carry a fingerprint of the query, so
//! a token replayed with other filters is refused.

use communique_domain::content_hash;
use communique_domain::query::PageRequest;
use communique_grpc::ServiceError;

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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
