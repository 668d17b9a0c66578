//! WANDA's HTTP side: the Kubo-compatible RPC (`/api/v0/*`) and, with the HTTP issue, the path
//! and trustless gateway. Knows nothing of hardware.

pub mod rpc;
