//! The repo commands through a running daemon (it holds the repo lock): same arguments and the
//! same output as offline. Reads use the daemon's local blocks (`offline=true`), except `get`,
//! which fetches missing blocks from the network like `cat`.

pub mod add;
pub mod block;
pub mod dag;
pub mod pin;
pub mod read;
pub mod repo;
