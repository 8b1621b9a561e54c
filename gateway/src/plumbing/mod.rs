//! Plumbing every surface shares: extracting and authenticating the caller, the service
//! clients and the in-process facade, the error envelope, script answers, lenient input types,
//! observability and JSON views. Nothing here imports a surface.

pub mod caller;
pub mod clients;
pub mod error;
pub mod extract;
pub mod flex;
pub mod host_caller;
pub mod hot_path;
pub mod observe;
pub mod shell;
pub mod views;
