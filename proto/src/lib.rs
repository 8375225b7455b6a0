//! The `communique.v1` gRPC contract, generated from `proto/communique/v1/*.proto`.
//!
//! Only the service edge (the server's adapters and the worker's client) depends on this crate;
//! the domain and the store know nothing of it.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("communique.v1");
}

/// The encoded `FileDescriptorSet` of every communique proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/communique_descriptor.bin"));

/// The encoded descriptor of `google.rpc.ErrorInfo` and `google.rpc.BadRequest`, which error
/// details carry: registered with reflection so reflection clients can decode them.
pub const ERROR_DETAILS_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/error_details_descriptor.bin"));
