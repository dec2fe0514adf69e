//! `fetchServerConfig`: an authorization server's metadata fetched on demand, checked, and
//! returned in camelCase as a resolved configuration.
//!
//! It uses the discovery rules of request handling: the well-known URLs of
//! [`crate::discovery::well_known_url`], the bounded [`Fetcher`] (timeout, 1 MiB, no redirects)
//! and the checks of [`ServerMetadata::from_document`] (issuer equality, `jwks_uri`). The two
//! halves are separate so that a JS `transpileData` can run between them.

use crate::discovery::{parse_object, ServerMetadata};
use crate::error::ErrorCode;
use crate::fetch::{FetchError, Fetcher, MAX_BODY_BYTES};
use crate::server_validation::schema_problem;
use serde_json::{Map, Value};
use std::time::Duration;

/// How long a fetch may take unless told otherwise. Defaults to `5000` ms, as `remoteJwkSet.timeoutDuration`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5_000);

/// Why a metadata document could not be fetched or used.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfigError {
    /// `fetch_server_config_error` (the fetch failed) or `invalid_server_metadata` (the document is bad).
    pub code: ErrorCode,
    /// A sentence saying what happened.
    pub message: String,
    /// Details: a JSON object with at least `message`.
    pub cause: Value,
}

impl ServerConfigError {
    fn invalid(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let mut cause = Map::new();
        cause.insert("message".into(), Value::String(reason.clone()));
        Self { code: ErrorCode::InvalidServerMetadata, message: reason, cause: Value::Object(cause) }
    }
}

fn fetch_reason(e: &FetchError, timeout: Duration) -> String {
    match e {
        FetchError::Unreachable(why) => format!("unreachable ({why})"),
        FetchError::TimedOut => format!("no answer within {} ms", timeout.as_millis()),
        FetchError::Status(code) => format!("HTTP {code}"),
        FetchError::TooLarge => format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
    }
}

/// Fetches the metadata document at `url`: it must be a JSON object (no duplicate members).
pub async fn fetch_document(
    fetcher: &dyn Fetcher,
    url: &str,
    timeout: Duration,
) -> Result<Map<String, Value>, ServerConfigError> {
    let body = fetcher.get(url, timeout).await.map_err(|e| {
        let reason = fetch_reason(&e, timeout);
        let mut cause = Map::new();
        cause.insert("url".into(), Value::String(url.to_owned()));
        cause.insert("message".into(), Value::String(e.describe(url)));
        ServerConfigError {
            code: ErrorCode::FetchServerConfigError,
            message: format!("Failed to fetch server config from {url}: {reason}."),
            cause: Value::Object(cause),
        }
    })?;
    parse_object(&body).ok_or_else(|| ServerConfigError::invalid("The server metadata is not a JSON object."))
}

/// `jwks_uri` → `jwksUri` (the top-level keys only, as `camelcase-keys` does by default).
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a (possibly transpiled) snake_case metadata document and returns it in camelCase.
///
/// The document must be an object; its `issuer` must equal `expected_issuer` when one is given;
/// `jwks_uri`, when present, must be an http(s) URL; the members `mcp-auth`'s schema requires
/// (`issuer`, `authorization_endpoint`, `token_endpoint`, `response_types_supported`) must be
/// present, and the RFC 8414 members it knows must have their types.
pub fn resolve(document: &Value, expected_issuer: Option<&str>) -> Result<Map<String, Value>, ServerConfigError> {
    let Value::Object(map) = document else {
        return Err(ServerConfigError::invalid("The server metadata is not a JSON object."));
    };
    if let Err(e) = ServerMetadata::from_document(map.clone(), expected_issuer) {
        let mut err = ServerConfigError::invalid(e.reason().unwrap_or("The server metadata is invalid."));
        if let (Some(Value::Object(mismatch)), Value::Object(cause)) = (e.cause, &mut err.cause) {
            let message = "The metadata `issuer` is not the issuer it was fetched for (RFC 8414 §3.3).";
            err.message = message.into();
            cause.insert("message".into(), Value::String(message.into()));
            cause.extend(mismatch);
        }
        return Err(err);
    }
    let camel: Map<String, Value> = map.iter().map(|(k, v)| (camel_case(k), v.clone())).collect();
    // As `mcp-auth`'s schema: the members it requires must be there, and known ones typed.
    if let Some(p) = schema_problem(&camel, true) {
        let snake = crate::resource_metadata::snake_case(p.member);
        let why = if p.missing { "is required and must be" } else { "must be" };
        return Err(ServerConfigError::invalid(format!("The metadata `{snake}` {why} {}.", p.kind.describe())));
    }
    Ok(camel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::fake::FakeHttp;
    use serde_json::json;

    const URL: &str = "https://as.example.com/.well-known/openid-configuration";

    #[test]
    fn camel_case_joins_snake_case_words() {
        assert_eq!(camel_case("jwks_uri"), "jwksUri");
        assert_eq!(camel_case("token_endpoint_auth_methods_supported"), "tokenEndpointAuthMethodsSupported");
        assert_eq!(camel_case("issuer"), "issuer");
        assert_eq!(camel_case("_private"), "_private");
    }

    #[tokio::test]
    async fn fetch_failures_are_fetch_server_config_errors_naming_the_url() {
        let http = FakeHttp::default();
        let e = fetch_document(&http, URL, DEFAULT_TIMEOUT).await.err();
        let e = e.unwrap_or_else(|| panic!("fetched"));
        assert_eq!(e.code, ErrorCode::FetchServerConfigError);
        assert_eq!(e.message, format!("Failed to fetch server config from {URL}: HTTP 404."));
        assert_eq!(e.cause["url"], URL);
        http.answer(URL, Err(FetchError::TimedOut));
        let e = fetch_document(&http, URL, Duration::from_millis(300)).await.err();
        assert_eq!(
            e.map(|e| e.message),
            Some(format!("Failed to fetch server config from {URL}: no answer within 300 ms."))
        );
        http.answer(URL, Err(FetchError::TooLarge));
        let e = fetch_document(&http, URL, DEFAULT_TIMEOUT).await.err();
        assert!(e.is_some_and(|e| e.message.ends_with("larger than 1048576 bytes.")));
    }

    #[tokio::test]
    async fn bodies_that_are_not_one_json_object_are_invalid_server_metadata() {
        let http = FakeHttp::default();
        for body in [&b"<html>"[..], b"[1]", b"null", br#"{"issuer":"a","issuer":"b"}"#] {
            http.answer(URL, Ok(body.to_vec()));
            let e = fetch_document(&http, URL, DEFAULT_TIMEOUT).await.err();
            assert_eq!(e.map(|e| e.code), Some(ErrorCode::InvalidServerMetadata));
        }
        http.answer(URL, Ok(br#"{"issuer":"https://as.example.com"}"#.to_vec()));
        assert!(fetch_document(&http, URL, DEFAULT_TIMEOUT).await.is_ok());
        assert_eq!(http.calls(URL), 5);
    }

    #[test]
    fn resolve_returns_camel_case_and_checks_the_issuer_exactly() {
        let doc = required(
            json!({ "issuer": "https://as.example.com", "jwks_uri": "https://as.example.com/jwks", "x_custom": 1 }),
        );
        let got = resolve(&doc, Some("https://as.example.com")).ok();
        assert_eq!(got.as_ref().and_then(|m| m.get("jwksUri")), Some(&json!("https://as.example.com/jwks")));
        assert_eq!(got.as_ref().and_then(|m| m.get("xCustom")), Some(&json!(1)));
        assert_eq!(got.as_ref().and_then(|m| m.get("tokenEndpoint")), Some(&json!("https://i/token")));
        let e = resolve(&doc, Some("https://as.example.com/")).err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!(e.code, ErrorCode::InvalidServerMetadata);
        assert_eq!(e.cause["expected"], "https://as.example.com/");
        assert_eq!(e.cause["actual"], "https://as.example.com");
        assert!(resolve(&doc, None).is_ok());
    }

    /// `extra` with the members `mcp-auth`'s schema requires.
    fn required(extra: Value) -> Value {
        let mut doc = json!({ "issuer": "https://i", "authorization_endpoint": "https://i/authorize",
            "token_endpoint": "https://i/token", "response_types_supported": ["code"] });
        if let (Some(d), Value::Object(extra)) = (doc.as_object_mut(), extra) {
            d.extend(extra);
        }
        doc
    }

    #[test]
    fn resolve_rejects_documents_lacking_what_mcp_auths_schema_requires() {
        let msg = |doc: Value| resolve(&doc, None).err().map(|e| e.message).unwrap_or_default();
        for (member, kind) in [
            ("authorization_endpoint", "a string"),
            ("token_endpoint", "a string"),
            ("response_types_supported", "an array of strings"),
        ] {
            let mut doc = required(json!({}));
            doc.as_object_mut().map(|d| d.remove(member));
            assert_eq!(msg(doc), format!("The metadata `{member}` is required and must be {kind}."));
        }
        let mut wrong = required(json!({}));
        wrong["token_endpoint"] = json!(5);
        assert_eq!(msg(wrong), "The metadata `token_endpoint` must be a string.");
    }

    #[test]
    fn resolve_rejects_bad_documents_naming_the_member() {
        let msg = |doc: Value| resolve(&doc, None).err().map(|e| e.message).unwrap_or_default();
        assert_eq!(msg(json!([])), "The server metadata is not a JSON object.");
        assert_eq!(msg(json!({ "jwks_uri": "https://j" })), "The metadata has no `issuer` string.");
        assert_eq!(msg(required(json!({ "jwks_uri": "ftp://j" }))), "The metadata `jwks_uri` is not an http(s) URL.");
        assert_eq!(
            msg(required(json!({ "scopes_supported": "read" }))),
            "The metadata `scopes_supported` must be an array of strings."
        );
        assert!(resolve(&required(json!({})), None).is_ok());
    }
}
