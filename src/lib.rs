//! Bearer-token authentication for MCP servers: a pure-Rust core under a thin Node binding.

pub mod algorithm;
pub mod audience;
pub mod auth_info;
pub mod authorization;
pub mod challenge;
pub mod claims;
pub mod error;
pub mod jwk;
pub mod jwt;
