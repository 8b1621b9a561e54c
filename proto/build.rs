//! Compiles the codex-central protobuf contract with protox (no system `protoc`) and generates
//! tonic clients and servers plus a file descriptor set for gRPC reflection.

use std::{env, error::Error, fs, path::PathBuf};

use protox::prost::Message as _;

const PROTOS: [&str; 6] = [
    "codexcentral/common/v1/common.proto",
    "codexcentral/auth/v1/auth.proto",
    "codexcentral/fleet/v1/fleet.proto",
    "codexcentral/usage/v1/usage.proto",
    "codexcentral/config/v1/config.proto",
    "codexcentral/memory/v1/memory.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=codexcentral");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    // Includes source info (comments) and imports (google/protobuf/timestamp.proto), so
    // reflection clients can resolve every type from this one set.
    let fds = protox::compile(PROTOS, ["."])?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("codexcentral_descriptor.bin"),
        fds.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
