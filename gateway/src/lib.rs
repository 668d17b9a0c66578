//! WANDA's HTTP side: the Kubo-compatible RPC (`/api/v0/*`) and the IPFS path + trustless
//! gateway (`/ipfs/*`, `/ipns/*`). Knows nothing of hardware.

pub mod gateway;
pub mod rpc;
