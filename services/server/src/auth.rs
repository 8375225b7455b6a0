//! Bearer-token authentication. Tokens come from a file (a mounted Secret), one per line; the
//! token a caller sends is compared in constant time and never logged.

use std::path::Path;
use std::sync::Arc;

use communique_grpc::ServiceError;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Checks `authorization: Bearer <token>` on every request of the services it wraps.
#[derive(Clone)]
pub struct Authenticator {
    tokens: Arc<Vec<Vec<u8>>>,
    required: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read auth.tokens_file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("auth.tokens_file {path} holds no token")]
    Empty { path: String },
}

/// Reads one token per line; blank lines and `#` comments are skipped.
pub fn load_tokens(path: &Path) -> Result<Vec<String>, TokenFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if tokens.is_empty() {
        return Err(TokenFileError::Empty {
            path: path.display().to_string(),
        });
    }
    Ok(tokens)
}

impl Authenticator {
    /// `required` false lets every request through (a service left open).
    pub fn new(tokens: &[String], required: bool) -> Authenticator {
        Authenticator {
            tokens: Arc::new(tokens.iter().map(|t| t.as_bytes().to_vec()).collect()),
            required,
        }
    }

    fn accepts(&self, presented: &[u8]) -> bool {
        // Visit every token so the time taken does not reveal which one nearly matched.
        self.tokens.iter().fold(false, |found, token| {
            found | constant_time_eq(token, presented)
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl Interceptor for Authenticator {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        if !self.required {
            return Ok(request);
        }
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if self.accepts(token.as_bytes()) => Ok(request),
            _ => Err(ServiceError::Unauthenticated.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(value) = value {
            request
                .metadata_mut()
                .insert("authorization", value.parse().unwrap());
        }
        request
    }

    #[test]
    fn checks_bearer_tokens() {
        let mut auth = Authenticator::new(&["s3cret".into(), "other".into()], true);
        assert!(auth.call(with_header(Some("Bearer s3cret"))).is_ok());
        assert!(auth.call(with_header(Some("Bearer other"))).is_ok());
        for bad in [
            None,
            Some("Bearer wrong"),
            Some("s3cret"),
            Some("Bearer s3cre"),
        ] {
            let status = auth.call(with_header(bad)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
            assert!(!status.message().contains("s3cret"));
        }
        let mut open = Authenticator::new(&[], false);
        assert!(open.call(with_header(None)).is_ok());
    }

    #[test]
    fn token_files_skip_comments_and_must_hold_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# ingest workers\n\n  abc  \ndef\n").unwrap();
        assert_eq!(load_tokens(&path).unwrap(), ["abc", "def"]);
        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(load_tokens(&path).is_err());
        assert!(load_tokens(&dir.path().join("missing")).is_err());
    }
}
