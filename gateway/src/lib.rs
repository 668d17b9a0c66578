//! HTTP gateway and RPC for WANDA (filled in by the HTTP issue).
