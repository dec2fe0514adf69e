//! The legacy `delegatedRouter()`: the authorization server metadata document (RFC 8414 §3),
//! served by the MCP server in `{ server }` mode. Deprecated with that mode.

use crate::clock::Clock;
use crate::config::AuthServer;
use crate::error::AuthError;
use crate::fetch::Fetcher;
use crate::resource_metadata::snake_case;
use serde_json::{Map, Value};
use std::time::Duration;

/// The document to serve, in snake_case: resolved metadata as configured (camelCase keys turned
/// into snake_case), or discovered metadata as fetched, through the same [`crate::discovery::Discovery`]
/// that request handling uses (one fetch for both, backoff after failures).
pub async fn document(
    server: &AuthServer,
    fetcher: &dyn Fetcher,
    clock: &dyn Clock,
    timeout: Duration,
) -> Result<Map<String, Value>, AuthError> {
    if server.discovery.url().is_none() {
        let metadata = server.discovery.resolved_metadata()?;
        return Ok(metadata.document.iter().map(|(k, v)| (snake_case(k), v.clone())).collect());
    }
    let metadata = server.discovery.metadata(fetcher, clock, timeout).await?;
    Ok(metadata.document.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::{AuthConfig, Mode};
    use crate::error::ErrorCode;
    use crate::fetch::fake::FakeHttp;
    use serde_json::json;

    fn legacy(server: Value) -> std::sync::Arc<AuthServer> {
        match AuthConfig::parse(&json!({ "server": server })) {
            Ok(AuthConfig { mode: Mode::Legacy(s) }) => s,
            _ => panic!("rejected"),
        }
    }

    #[tokio::test]
    async fn resolved_metadata_is_served_in_snake_case_without_fetching() {
        let s = legacy(
            json!({ "type": "oauth", "metadata": { "issuer": "https://i", "jwksUri": "https://i/jwks", "codeChallengeMethodsSupported": ["S256"] } }),
        );
        let http = FakeHttp::default();
        let doc = document(&s, &http, &ManualClock::new(0.0), Duration::from_secs(1)).await.ok();
        assert_eq!(
            doc.map(Value::Object),
            Some(
                json!({ "issuer": "https://i", "jwks_uri": "https://i/jwks", "code_challenge_methods_supported": ["S256"] })
            )
        );
        assert_eq!(http.total_calls(), 0);
    }

    #[tokio::test]
    async fn discovered_metadata_is_served_as_fetched_and_fetched_once() {
        let s = legacy(json!({ "type": "oidc", "issuer": "https://i/t" }));
        let http = FakeHttp::default();
        let url = "https://i/t/.well-known/openid-configuration";
        http.answer(url, Ok(br#"{"issuer":"https://i/t","jwks_uri":"https://i/j","x_extra":true}"#.to_vec()));
        let clock = ManualClock::new(0.0);
        for _ in 0..2 {
            let doc = document(&s, &http, &clock, Duration::from_secs(1)).await.ok();
            assert_eq!(
                doc.map(Value::Object),
                Some(json!({ "issuer": "https://i/t", "jwks_uri": "https://i/j", "x_extra": true }))
            );
        }
        assert_eq!(http.calls(url), 1);
    }

    #[tokio::test]
    async fn discovery_failures_keep_their_codes() {
        let s = legacy(json!({ "type": "oidc", "issuer": "https://i" }));
        let http = FakeHttp::default();
        let e = document(&s, &http, &ManualClock::new(0.0), Duration::from_secs(1)).await.err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::FetchServerConfigError));
    }
}
