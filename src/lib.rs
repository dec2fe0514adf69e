//! Bearer-token authentication for MCP servers: a pure-Rust core under a thin Node binding.
//!
//! Request input never panics: the lints below hold every non-test path to that.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::unreachable)
)]

pub mod algorithm;
pub mod audience;
pub mod auth_info;
pub mod authorization;
pub mod challenge;
pub mod claims;
pub mod clock;
pub mod config;
pub mod delegated;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod fetch;
pub mod generations;
pub mod guard;
pub mod inspect;
pub mod introspection;
pub mod jwk;
pub mod jwks;
pub mod jwt;
pub mod options;
pub mod recent;
pub mod remote;
pub mod resource_metadata;
pub mod response;
pub mod scopes;
pub mod server_config;
pub mod server_validation;
pub mod verified_tokens;
pub mod verifier;

#[cfg(feature = "napi")]
mod binding;
