//! Authorization server metadata: the well-known URLs (RFC 8414 §3.1, OpenID Connect Discovery
//! 1.0 §4) and fetching the document once, on first need.

use crate::clock::Clock;
use crate::error::{AuthError, ErrorCode};
use crate::fetch::{FetchError, Fetcher};
use crate::jwks::KeySets;
use crate::jwt::UniqueObject;
use crate::remote::{Remote, FIRST_RETRY};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Which discovery convention an authorization server follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerType {
    /// OpenID Connect: `/.well-known/openid-configuration` appended to the issuer.
    Oidc,
    /// OAuth 2.0 (RFC 8414): `/.well-known/oauth-authorization-server` inserted before the path.
    OAuth,
}

impl ServerType {
    /// Parses `'oidc'` or `'oauth'`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oidc" => Some(Self::Oidc),
            "oauth" => Some(Self::OAuth),
            _ => None,
        }
    }

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::OAuth => "oauth",
        }
    }
}

/// The metadata URL of `issuer` for `server_type`.
///
/// `oauth`: `https://h/tenant` → `https://h/.well-known/oauth-authorization-server/tenant`.
/// `oidc`: `https://h/tenant` → `https://h/tenant/.well-known/openid-configuration`.
pub fn well_known_url(issuer: &Url, server_type: ServerType) -> Url {
    let mut url = issuer.clone();
    let path = issuer.path().trim_end_matches('/');
    let new_path = match server_type {
        ServerType::OAuth => format!("/.well-known/oauth-authorization-server{path}"),
        ServerType::Oidc => format!("{path}/.well-known/openid-configuration"),
    };
    url.set_path(&new_path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// The parts of authorization server metadata the library uses, plus the whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerMetadata {
    /// `issuer`.
    pub issuer: String,
    /// `jwks_uri`, needed to verify JWTs.
    pub jwks_uri: Option<String>,
    /// Every member, snake_case as served.
    pub document: Map<String, Value>,
}

/// Whether `s` is an absolute `http` or `https` URL.
pub fn http_url(s: &str) -> Option<Url> {
    Url::parse(s).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Parses a metadata body as a JSON object whose member names are unique.
pub fn parse_object(body: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(body).map(|o| o.0).ok()
}

impl ServerMetadata {
    /// Parses a fetched document; see [`ServerMetadata::from_document`].
    pub fn parse(body: &[u8], expected_issuer: Option<&str>) -> Result<ServerMetadata, AuthError> {
        let document = parse_object(body).ok_or_else(|| {
            AuthError::unavailable("The authorization server metadata is not a JSON object.", FIRST_RETRY)
        })?;
        Self::from_document(document, expected_issuer)
    }

    /// Checks a metadata object: `issuer` must equal `expected_issuer` exactly (RFC 8414 §3.3,
    /// OpenID Connect Discovery §4.3), and `jwks_uri`, when present, must be an http(s) URL.
    pub fn from_document(
        document: Map<String, Value>,
        expected_issuer: Option<&str>,
    ) -> Result<ServerMetadata, AuthError> {
        let issuer = match document.get("issuer") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(AuthError::with_reason(
                    ErrorCode::InvalidServerMetadata,
                    "The metadata has no `issuer` string.",
                ))
            }
        };
        if let Some(expected) = expected_issuer {
            if issuer != expected {
                return Err(AuthError::mismatch(
                    ErrorCode::InvalidServerMetadata,
                    Value::String(expected.to_owned()),
                    Value::String(issuer),
                ));
            }
        }
        let jwks_uri = match document.get("jwks_uri") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if http_url(s).is_some() => Some(s.clone()),
            Some(_) => {
                return Err(AuthError::with_reason(
                    ErrorCode::InvalidServerMetadata,
                    "The metadata `jwks_uri` is not an http(s) URL.",
                ))
            }
        };
        Ok(ServerMetadata { issuer, jwks_uri, document })
    }
}

/// How a failed metadata fetch is answered: transient failures are 503, others 500.
fn fetch_failure(e: FetchError, url: &str) -> AuthError {
    let reason = format!("The authorization server metadata could not be fetched: {}", e.describe(url));
    if e.is_transient() {
        AuthError::unavailable(reason, FIRST_RETRY)
    } else {
        AuthError::with_reason(ErrorCode::FetchServerConfigError, reason)
    }
}

/// Fetches and parses the metadata at `url`, checking its issuer when one is expected.
pub async fn fetch_metadata(
    fetcher: &dyn Fetcher,
    url: &str,
    expected_issuer: Option<&str>,
    timeout: Duration,
) -> Result<ServerMetadata, AuthError> {
    let body = fetcher.get(url, timeout).await.map_err(|e| fetch_failure(e, url))?;
    ServerMetadata::parse(&body, expected_issuer)
}

/// One authorization server's metadata: given in the configuration, or discovered lazily.
pub struct Discovery {
    issuer: String,
    url: Option<String>,
    remote: Remote<ServerMetadata>,
    /// The issuer's key sets, shared by every middleware that trusts it.
    pub key_sets: KeySets,
}

impl Discovery {
    /// Metadata given up front; nothing is fetched.
    pub fn resolved(metadata: ServerMetadata) -> Self {
        Self {
            issuer: metadata.issuer.clone(),
            url: None,
            remote: Remote::preset(metadata),
            key_sets: KeySets::default(),
        }
    }

    /// Metadata discovered from the issuer's well-known URL on first need.
    pub fn lazy(issuer: &Url, issuer_str: &str, server_type: ServerType) -> Self {
        Self {
            issuer: issuer_str.to_owned(),
            url: Some(well_known_url(issuer, server_type).to_string()),
            remote: Remote::default(),
            key_sets: KeySets::default(),
        }
    }

    /// The well-known URL, for discovered servers.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The metadata given in the configuration, for resolved servers.
    pub fn resolved_metadata(&self) -> Result<Arc<ServerMetadata>, AuthError> {
        self.remote.snapshot().value.ok_or_else(|| AuthError::new(ErrorCode::InvalidServerConfig))
    }

    /// The metadata, fetched once (single flight, backoff after failures).
    pub async fn metadata(
        &self,
        fetcher: &dyn Fetcher,
        clock: &dyn Clock,
        timeout: Duration,
    ) -> Result<Arc<ServerMetadata>, AuthError> {
        let snap = self.remote.snapshot();
        if let Some(value) = snap.value {
            return Ok(value);
        }
        let Some(url) = self.url.as_deref() else {
            return Err(AuthError::new(ErrorCode::InvalidServerConfig));
        };
        let issuer = self.issuer.as_str();
        self.remote.refresh(clock, snap.generation, || fetch_metadata(fetcher, url, Some(issuer), timeout)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::fetch::BoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn oauth_inserts_the_well_known_segment_before_the_path() {
        let w = |s| well_known_url(&url(s), ServerType::OAuth).to_string();
        assert_eq!(w("https://h"), "https://h/.well-known/oauth-authorization-server");
        assert_eq!(w("https://h/"), "https://h/.well-known/oauth-authorization-server");
        assert_eq!(w("https://h/tenant"), "https://h/.well-known/oauth-authorization-server/tenant");
        assert_eq!(w("https://h/a/b/"), "https://h/.well-known/oauth-authorization-server/a/b");
        assert_eq!(w("http://127.0.0.1:8080/t"), "http://127.0.0.1:8080/.well-known/oauth-authorization-server/t");
    }

    #[test]
    fn oidc_appends_the_well_known_segment() {
        let w = |s| well_known_url(&url(s), ServerType::Oidc).to_string();
        assert_eq!(w("https://h"), "https://h/.well-known/openid-configuration");
        assert_eq!(w("https://h/tenant"), "https://h/tenant/.well-known/openid-configuration");
        assert_eq!(w("https://h/tenant/"), "https://h/tenant/.well-known/openid-configuration");
    }

    #[test]
    fn metadata_must_name_the_expected_issuer_exactly() {
        let doc = br#"{"issuer":"https://h/","jwks_uri":"https://h/jwks"}"#;
        assert!(ServerMetadata::parse(doc, Some("https://h/")).is_ok());
        let e = ServerMetadata::parse(doc, Some("https://h")).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::InvalidServerMetadata));
    }

    #[test]
    fn metadata_without_jwks_uri_parses_but_has_none() {
        let m = ServerMetadata::parse(br#"{"issuer":"https://h"}"#, Some("https://h")).ok();
        assert_eq!(m.map(|m| m.jwks_uri), Some(None));
        let bad = ServerMetadata::parse(br#"{"issuer":"https://h","jwks_uri":"file:///etc/passwd"}"#, None);
        assert_eq!(bad.err().map(|e| e.code), Some(ErrorCode::InvalidServerMetadata));
    }

    #[test]
    fn non_json_metadata_is_temporarily_unavailable() {
        let e = ServerMetadata::parse(b"<html>", None).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::TemporarilyUnavailable));
    }

    #[test]
    fn not_found_is_a_configuration_problem_and_5xx_is_transient() {
        assert_eq!(fetch_failure(FetchError::Status(404), "u").code, ErrorCode::FetchServerConfigError);
        assert_eq!(fetch_failure(FetchError::Status(502), "u").code, ErrorCode::TemporarilyUnavailable);
        assert_eq!(fetch_failure(FetchError::TimedOut, "u").code, ErrorCode::TemporarilyUnavailable);
    }

    struct Counting(AtomicUsize, Vec<u8>);
    impl Fetcher for Counting {
        fn get<'a>(&'a self, _: &'a str, _: Duration) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(self.1.clone())
            })
        }
    }

    #[tokio::test]
    async fn lazy_discovery_fetches_once_for_concurrent_callers() {
        let fetcher =
            Arc::new(Counting(AtomicUsize::new(0), br#"{"issuer":"https://h/t","jwks_uri":"https://h/j"}"#.to_vec()));
        let clock = Arc::new(ManualClock::new(0.0));
        let d = Arc::new(Discovery::lazy(&url("https://h/t"), "https://h/t", ServerType::Oidc));
        assert_eq!(d.url(), Some("https://h/t/.well-known/openid-configuration"));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (d, f, c) = (d.clone(), fetcher.clone(), clock.clone());
            tasks.push(tokio::spawn(async move {
                d.metadata(f.as_ref(), c.as_ref(), Duration::from_secs(1)).await.ok().and_then(|m| m.jwks_uri.clone())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.ok().flatten().as_deref(), Some("https://h/j"));
        }
        assert_eq!(fetcher.0.load(Ordering::SeqCst), 1);
    }
}
