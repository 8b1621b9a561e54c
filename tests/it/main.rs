//! One integration test binary for the whole workspace (it links once).

mod testkit;

mod cli;
mod grpc;
mod rest;
mod split;
mod store;
mod tls;
