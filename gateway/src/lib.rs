//! WANDA's HTTP side: the Kubo-compatible RPC (`/api/v0/*`), the IPFS path + trustless
//! gateway (`/ipfs/*`, `/ipns/*`) and WANDA's IPFS REST routes for the UI (`/api/ipfs/*`).
//! Knows nothing of hardware.

pub mod auth;
pub mod gateway;
pub mod http;
pub mod ipfs_rest;
pub mod rpc;
