//! The `wanda` binary's library: CLI commands, the telescope app (sessions, storage router,
//! publish queue), WANDA's HTTP API and the runtime that runs node, RPC, gateway and app
//! together. `main.rs` is a thin shell over it; benchmarks and tests use it directly.

pub mod api;
pub mod app;
pub mod cli;
pub mod commands;
pub mod net_addrs;
pub mod output;
pub mod progress;
pub mod rpc_client;
pub mod runtime;
pub mod ui;
