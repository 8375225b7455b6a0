//! communique's gRPC edge, shared by the server and the worker's IngestService client:
//! conversions between the communique.v1 wire types and the domain (`convert`), and the
//! service errors with their single mapping to `tonic::Status` (`error`).

pub mod convert;
pub mod error;

pub use error::{ERROR_DOMAIN, ServiceError, Violation};
