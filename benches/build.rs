//! Compiles the baseline service's proto with protox (pure Rust: no system `protoc`), as
//! `proto/build.rs` does for the communique contract.

use std::path::PathBuf;

const PROTO_DIR: &str = "proto";
const PROTO: &str = "proto/bench/v1/baseline.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO}");
    let descriptors = protox::compile([PathBuf::from(PROTO)], [PROTO_DIR])?;
    tonic_prost_build::configure()
        // `bytes::Bytes` for payloads: the echo reply is a cheap clone of one buffer.
        .bytes(".bench.v1")
        .compile_fds(descriptors)?;
    Ok(())
}
