//! Release builds carry the dashboard inside the binary: every file of the built SPA
//! (`clients/dashboard/dist`, made by `npm run build` there) becomes a `(path, bytes)` entry of
//! a sorted table. Debug builds embed nothing and read that folder at run time, so a rebuilt
//! dashboard shows up without recompiling the server.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("dashboard.rs");
    let dashboard = manifest.join("../clients/dashboard");
    let dist = dashboard.join("dist");
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    // Cargo sets CARGO_CFG_DEBUG_ASSERTIONS exactly when the crate compiles with
    // `debug_assertions`, the cfg the run-time code switches on.
    if env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        // A folder given to rerun-if-changed is scanned whole; before the first dashboard
        // build, the parent changes when `dist` appears.
        let watched = if dist.is_dir() { &dist } else { &dashboard };
        println!("cargo:rerun-if-changed={}", watched.display());
        collect(&dist, &dist, &mut files);
    }
    files.sort();

    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (name, path) in files {
        code.push_str(&format!("    ({name:?}, include_bytes!({path:?})),\n"));
    }
    code.push_str("];\n");
    fs::write(&out, code).expect("OUT_DIR is writable");
}

/// Every regular file under `dir`, named by its `/`-separated path below `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((name, path.to_string_lossy().into_owned()));
        }
    }
}
