//! Two limits get the codes the gRPC spec gives them, where tonic reports them otherwise: a
//! request message over the size limit is RESOURCE_EXHAUSTED (tonic's decoder says OUT_OF_RANGE;
//! [`Edge`] wraps every API service to translate), and a request still running at its deadline
//! is DEADLINE_EXCEEDED (tonic's own deadline timer says CANCELLED; the API answers a little
//! earlier, by [`answer_within`] of the client's `grpc-timeout`).

use std::task::{Context, Poll};
use std::time::Duration;

use communique_grpc::ServiceError;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::{Code, Status};

/// How tonic's decoder words a request message over `max_decoding_message_size`.
const TONIC_MESSAGE_TOO_LARGE: &str = "Error, decoded message length too large";
const GRPC_TIMEOUT_HEADER: &str = "grpc-timeout";
/// The server answers DEADLINE_EXCEEDED this long before the client's deadline (at most a
/// twentieth of it), so the answer reaches the client before the client's own timer fires and
/// turns it into CANCELLED.
const MAX_DEADLINE_MARGIN: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    max_message_bytes: usize,
}

impl<S> Edge<S> {
    pub fn new(inner: S, max_message_bytes: usize) -> Edge<S> {
        Edge {
            inner,
            max_message_bytes,
        }
    }
}

impl<S: NamedService> NamedService for Edge<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for Edge<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Send + 'static,
{
    type Response = http::Response<ResponseBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let limit = self.max_message_bytes;
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            // A refused request ends with its status in the headers (a trailers-only response).
            if Status::from_header_map(response.headers())
                .is_some_and(|status| is_message_too_large(&status))
            {
                let headers = response.headers_mut();
                for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
                    headers.remove(name);
                }
                let status = Status::from(ServiceError::MessageTooLarge { limit });
                if let Err(unencodable) = status.add_header(headers) {
                    tracing::error!(status = ?unencodable, "cannot encode a status header");
                }
            }
            Ok(response)
        })
    }
}

/// Whether tonic's decoder refused a request message over the size limit.
pub fn is_message_too_large(status: &Status) -> bool {
    status.code() == Code::OutOfRange && status.message().starts_with(TONIC_MESSAGE_TOO_LARGE)
}

/// The client's deadline, from its `grpc-timeout` header.
pub fn request_timeout(metadata: &MetadataMap) -> Option<Duration> {
    metadata
        .get(GRPC_TIMEOUT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout)
}

/// How long the server works on a request whose client gives it `timeout`.
pub fn answer_within(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 20).min(MAX_DEADLINE_MARGIN))
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = (value.get(..split)?, value.get(split..)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_by_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("1n"), Some(Duration::from_nanos(1)));
        for bad in ["", "S", "123456789S", "12x", "-1S", "1.5S", "é"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_answer_comes_a_little_before_the_deadline() {
        assert_eq!(
            answer_within(Duration::from_secs(1)),
            Duration::from_millis(990)
        );
        assert_eq!(
            answer_within(Duration::from_millis(20)),
            Duration::from_millis(19)
        );
        assert_eq!(answer_within(Duration::ZERO), Duration::ZERO);
    }
}
