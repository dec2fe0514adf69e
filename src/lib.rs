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
pub mod clock;
pub mod fetch;
pub mod jwks;
pub mod remote;
pub mod discovery;
pub mod config;
pub mod options;
pub mod guard;
pub mod response;

#[cfg(feature = "napi")]
mod binding;
pub mod resource_metadata;
