//! Where tokens are introspected: the configured URL, or the issuer's metadata
//! `introspection_endpoint` (RFC 8414 §2, RFC 7662 §4).

use super::options::endpoint_url;
use crate::clock::Clock;
use crate::config::AuthServer;
use crate::discovery::Discovery;
use crate::error::{AuthError, ConfigError, ErrorCode};
use crate::fetch::Fetcher;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The introspection endpoint of one authorization server.
pub enum Endpoint {
    /// Known from the configuration (`introspection.endpoint` or resolved metadata).
    Fixed(Url),
    /// Read from the issuer's discovered metadata on first need (shared discovery: one fetch,
    /// backoff after failures).
    Discovered(Arc<Discovery>),
}

impl Endpoint {
    /// The endpoint for `server`: `configured` when given, else the resolved metadata's
    /// `introspectionEndpoint` (required then), else the discovered metadata's.
    pub fn for_server(server: &AuthServer, configured: Option<&Url>) -> Result<Endpoint, ConfigError> {
        if let Some(url) = configured {
            return Ok(Endpoint::Fixed(url.clone()));
        }
        if server.discovery.url().is_some() {
            return Ok(Endpoint::Discovered(server.discovery.clone()));
        }
        let metadata = server.discovery.resolved_metadata().map_err(|_| {
            ConfigError::Invalid(format!("The metadata of `{}` is neither resolved nor discoverable.", server.issuer))
        })?;
        let path = format!("the resolved metadata of `{}`: `introspectionEndpoint`", server.issuer);
        match metadata.document.get("introspectionEndpoint") {
            Some(Value::String(s)) => Ok(Endpoint::Fixed(endpoint_url(s, &path)?)),
            None | Some(Value::Null) => Err(ConfigError::Invalid(format!(
                "The resolved metadata of `{}` has no `introspectionEndpoint`; give it, or `options.introspection.endpoint`.",
                server.issuer
            ))),
            Some(_) => Err(ConfigError::Type(format!("`{path}` must be a URL string."))),
        }
    }

    /// The URL to POST to. Discovered metadata without a usable `introspection_endpoint` is a
    /// configuration problem (500); a metadata outage is 503, as in JWT mode.
    pub async fn url(&self, fetcher: &dyn Fetcher, clock: &dyn Clock, timeout: Duration) -> Result<Url, AuthError> {
        let discovery = match self {
            Endpoint::Fixed(url) => return Ok(url.clone()),
            Endpoint::Discovered(d) => d,
        };
        let metadata = discovery.metadata(fetcher, clock, timeout).await?;
        match metadata.document.get("introspection_endpoint") {
            Some(Value::String(s)) => endpoint_url(s, "introspection_endpoint").map_err(|e| {
                AuthError::with_reason(
                    ErrorCode::InvalidServerMetadata,
                    format!("The authorization server `{}` publishes an unusable {}", metadata.issuer, e.message()),
                )
            }),
            _ => Err(AuthError::with_reason(
                ErrorCode::MissingIntrospectionEndpoint,
                format!("The authorization server `{}` does not publish an `introspection_endpoint`.", metadata.issuer),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::{AuthConfig, Mode};
    use crate::fetch::fake::FakeHttp;
    use serde_json::json;

    const DISCOVERY: &str = "https://as.example.com/.well-known/oauth-authorization-server";

    fn server(config: Value) -> Arc<AuthServer> {
        match AuthConfig::parse(&json!({ "server": config })).map(|c| c.mode) {
            Ok(Mode::Legacy(s)) => s,
            _ => panic!("not a legacy config"),
        }
    }

    fn resolved(extra: Value) -> Arc<AuthServer> {
        let mut metadata = json!({ "issuer": "https://as.example.com", "jwksUri": "https://as.example.com/jwks" });
        if let (Some(m), Value::Object(extra)) = (metadata.as_object_mut(), extra) {
            m.extend(extra);
        }
        server(json!({ "type": "oauth", "metadata": metadata }))
    }

    fn fixed(e: Result<Endpoint, ConfigError>) -> Result<String, String> {
        match e {
            Ok(Endpoint::Fixed(u)) => Ok(u.to_string()),
            Ok(Endpoint::Discovered(_)) => Err("discovered".into()),
            Err(e) => Err(e.message().to_owned()),
        }
    }

    #[test]
    fn a_configured_endpoint_wins_over_metadata() {
        let url = Url::parse("https://other.example.com/i").ok();
        let s = resolved(json!({ "introspectionEndpoint": "https://as.example.com/i" }));
        assert_eq!(fixed(Endpoint::for_server(&s, url.as_ref())), Ok("https://other.example.com/i".into()));
        assert_eq!(fixed(Endpoint::for_server(&s, None)), Ok("https://as.example.com/i".into()));
    }

    #[test]
    fn resolved_metadata_must_name_a_secure_endpoint() {
        let e = fixed(Endpoint::for_server(&resolved(json!({})), None)).unwrap_err();
        assert!(e.contains("`introspectionEndpoint`"), "{e}");
        let e =
            fixed(Endpoint::for_server(&resolved(json!({ "introspectionEndpoint": "http://as.example.com/i" })), None))
                .unwrap_err();
        assert!(e.contains("https"), "{e}");
    }

    #[tokio::test]
    async fn discovered_metadata_gives_the_endpoint_or_a_500() {
        let s = server(json!({ "type": "oauth", "issuer": "https://as.example.com" }));
        let endpoint = Endpoint::for_server(&s, None).unwrap_or_else(|e| panic!("{e}"));
        let http = FakeHttp::default();
        let clock = ManualClock::new(0.0);
        let doc = json!({ "issuer": "https://as.example.com", "introspection_endpoint": "http://as.example.com/i" });
        http.answer(DISCOVERY, Ok(doc.to_string().into_bytes()));
        let e = endpoint.url(&http, &clock, Duration::from_secs(1)).await.err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::InvalidServerMetadata), "plain http to a public host");

        let s = server(json!({ "type": "oidc", "issuer": "https://as.example.com" }));
        let endpoint = Endpoint::for_server(&s, None).unwrap_or_else(|e| panic!("{e}"));
        let oidc = "https://as.example.com/.well-known/openid-configuration";
        http.answer(oidc, Ok(json!({ "issuer": "https://as.example.com" }).to_string().into_bytes()));
        let e = endpoint.url(&http, &clock, Duration::from_secs(1)).await.err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::MissingIntrospectionEndpoint));
    }
}
