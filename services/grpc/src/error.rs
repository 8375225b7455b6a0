//! The service's errors and their one mapping to gRPC statuses (AIP-193): a canonical code, a
//! short lower-case message, `google.rpc.ErrorInfo` with a reason and the ids involved, and
//! `BadRequest` field violations for invalid arguments.

use std::collections::HashMap;

use communique_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "communique.v1";

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<Violation>),
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    #[error("the server is at its limit of {limit} concurrent requests: retry with backoff")]
    Overloaded { limit: usize },
    /// A request message larger than the server accepts (gRPC: RESOURCE_EXHAUSTED).
    #[error(
        "the request message is over the server's limit of {limit} bytes: send smaller messages (an ingest stream takes one article per message)"
    )]
    MessageTooLarge { limit: usize },
    /// An answer larger than the server sends (gRPC: RESOURCE_EXHAUSTED).
    #[error(
        "the answer is {size} bytes, over the server's limit of {limit} bytes: ask for a smaller page_size or the BASIC view"
    )]
    ResponseTooLarge { size: usize, limit: usize },
    /// The client's deadline passed before the answer was ready.
    #[error("the deadline passed before the request finished: retry with a longer deadline")]
    DeadlineExceeded,
    /// A request stream failed (the client went away): its status passes through unchanged.
    #[error("request stream failed: {}", .0.message())]
    Stream(Status),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One invalid request field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            description: description.into(),
        }
    }
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> ServiceError {
        ServiceError::InvalidArgument(vec![Violation::new(field, description)])
    }

    /// The request field at fault (the first, when several are), for invalid input.
    pub fn invalid_field(&self) -> Option<&str> {
        match self {
            ServiceError::InvalidArgument(violations) => {
                violations.first().map(|v| v.field.as_str())
            }
            ServiceError::Store(error) => error.invalid_field(),
            _ => None,
        }
    }
}

fn info(reason: &str, metadata: impl IntoIterator<Item = (String, String)>) -> ErrorDetails {
    ErrorDetails::with_error_info(
        reason,
        ERROR_DOMAIN,
        metadata.into_iter().collect::<HashMap<_, _>>(),
    )
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Status {
        let message = error.to_string();
        match error {
            ServiceError::InvalidArgument(violations) => {
                let mut details = info(
                    "INVALID_ARGUMENT",
                    violations
                        .iter()
                        .map(|v| ("field".to_owned(), v.field.clone()))
                        .take(1),
                );
                details.set_bad_request(
                    violations
                        .into_iter()
                        .map(|v| FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ServiceError::NotFound { kind, id } => {
                let reason = format!("{}_NOT_FOUND", kind.to_ascii_uppercase());
                let details = info(&reason, [(format!("{kind}_id"), id)]);
                Status::with_error_details(Code::NotFound, message, details)
            }
            ServiceError::Store(store_error) => match store_error {
                StoreError::BadPagePosition => {
                    let mut details = info("INVALID_PAGE_TOKEN", []);
                    details.set_bad_request(vec![FieldViolation::new(
                        "page_token",
                        "does not belong to this query: send the token from the previous response with unchanged filters",
                    )]);
                    Status::with_error_details(Code::InvalidArgument, message, details)
                }
                StoreError::InvalidArticle { article_id, source } => {
                    let mut details =
                        info("INVALID_ARTICLE", [("article_id".to_owned(), article_id)]);
                    details.set_bad_request(vec![FieldViolation::new(
                        source.field.clone(),
                        source.problem.clone(),
                    )]);
                    Status::with_error_details(Code::InvalidArgument, message, details)
                }
                StoreError::Locked { .. } | StoreError::Io(_) => {
                    tracing::error!(error = %message, "store unavailable");
                    Status::with_error_details(
                        Code::Unavailable,
                        "the store is unavailable",
                        info("STORE_UNAVAILABLE", []),
                    )
                }
                StoreError::SchemaMismatch {
                    found, expected, ..
                } => {
                    // Only opening a store can meet this; a server never starts on such a store.
                    tracing::error!(error = %message, "store schema mismatch");
                    Status::with_error_details(
                        Code::FailedPrecondition,
                        "the store was written by another version of communique",
                        info(
                            "STORE_SCHEMA_MISMATCH",
                            [
                                ("found".to_owned(), found.to_string()),
                                ("expected".to_owned(), expected.to_string()),
                            ],
                        ),
                    )
                }
                StoreError::Corrupt { .. } => {
                    tracing::error!(error = %message, "stored data unreadable");
                    Status::with_error_details(
                        Code::DataLoss,
                        "stored data is unreadable",
                        info("STORE_CORRUPT", []),
                    )
                }
            },
            ServiceError::Unauthenticated => Status::with_error_details(
                Code::Unauthenticated,
                message,
                info("UNAUTHENTICATED", []),
            ),
            ServiceError::Overloaded { limit } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                info(
                    "TOO_MANY_CONCURRENT_REQUESTS",
                    [("limit".to_owned(), limit.to_string())],
                ),
            ),
            ServiceError::MessageTooLarge { limit } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                info(
                    "MESSAGE_TOO_LARGE",
                    [("limit_bytes".to_owned(), limit.to_string())],
                ),
            ),
            ServiceError::ResponseTooLarge { size, limit } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                info(
                    "RESPONSE_TOO_LARGE",
                    [
                        ("size_bytes".to_owned(), size.to_string()),
                        ("limit_bytes".to_owned(), limit.to_string()),
                    ],
                ),
            ),
            ServiceError::DeadlineExceeded => Status::with_error_details(
                Code::DeadlineExceeded,
                message,
                info("DEADLINE_EXCEEDED", []),
            ),
            ServiceError::Stream(status) => status,
            ServiceError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::with_error_details(Code::Internal, "internal error", info("INTERNAL", []))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code and `ErrorInfo` reason a store error reaches clients with.
    fn code_and_reason(error: StoreError) -> (Code, String, HashMap<String, String>) {
        let status = Status::from(ServiceError::from(error));
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.domain, ERROR_DOMAIN);
        (status.code(), info.reason, info.metadata)
    }

    #[test]
    fn each_store_error_has_its_code_and_reason() {
        let cases = [
            (
                StoreError::Io("disk gone".into()),
                Code::Unavailable,
                "STORE_UNAVAILABLE",
            ),
            (
                StoreError::Locked { path: "/d".into() },
                Code::Unavailable,
                "STORE_UNAVAILABLE",
            ),
            (
                StoreError::Corrupt {
                    record: "claim",
                    detail: "bad".into(),
                },
                Code::DataLoss,
                "STORE_CORRUPT",
            ),
            (
                StoreError::BadPagePosition,
                Code::InvalidArgument,
                "INVALID_PAGE_TOKEN",
            ),
            (
                StoreError::SchemaMismatch {
                    path: "/d".into(),
                    found: 1,
                    expected: 2,
                },
                Code::FailedPrecondition,
                "STORE_SCHEMA_MISMATCH",
            ),
        ];
        for (error, code, reason) in cases {
            let (got_code, got_reason, metadata) = code_and_reason(error);
            assert_eq!((got_code, got_reason.as_str()), (code, reason));
            if reason == "STORE_SCHEMA_MISMATCH" {
                assert_eq!(metadata.get("found").map(String::as_str), Some("1"));
                assert_eq!(metadata.get("expected").map(String::as_str), Some("2"));
            }
        }
    }

    #[test]
    fn store_failures_do_not_leak_paths_or_details_to_clients() {
        let status = Status::from(ServiceError::from(StoreError::Io(
            "cannot open /var/lib/secret".into(),
        )));
        assert!(
            !status.message().contains("/var/lib"),
            "{}",
            status.message()
        );
    }
}
