//! Compiles `communique/v1/*.proto` with protox (pure Rust: no system `protoc`) and writes the
//! encoded descriptor set to OUT_DIR for server reflection, which `compile_fds` does not do.

use std::path::PathBuf;

use prost::Message;

const PROTO_DIR: &str = "communique/v1";
/// Served by reflection only, so clients can decode error details.
const ERROR_DETAILS: &str = "reflection/google/rpc/error_details.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(PROTO_DIR)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();

    println!("cargo:rerun-if-changed={PROTO_DIR}");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("communique_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;

    println!("cargo:rerun-if-changed={ERROR_DETAILS}");
    let error_details = protox::compile([ERROR_DETAILS], ["reflection"])?;
    std::fs::write(
        out_dir.join("error_details_descriptor.bin"),
        error_details.encode_to_vec(),
    )?;
    Ok(())
}
