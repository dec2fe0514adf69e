//! Turning an error into the HTTP answer: status, JSON body and headers (RFC 6750 §3).

use crate::challenge::Challenge;
use crate::error::{AuthError, Disposition, ErrorCode};
use serde_json::{Map, Value};

/// What the middleware sends instead of calling the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 401, 403, 500 or 503.
    pub status: u16,
    /// The JSON body, serialized.
    pub body: String,
    /// `WWW-Authenticate`, on 401 and 403.
    pub www_authenticate: Option<String>,
    /// `Retry-After` in seconds, on 503.
    pub retry_after: Option<u64>,
}

/// The endpoint facts every challenge carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeContext {
    /// The RFC 9728 metadata URL of the endpoint's resource.
    pub resource_metadata: Option<String>,
    /// The required scopes, space-separated.
    pub scope: Option<String>,
}

fn body(error: &str, description: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("error".into(), Value::String(error.into()));
    m.insert("error_description".into(), Value::String(description.into()));
    m
}

impl Rejection {
    /// Renders `err`; `cause` appears in the body only when `show_details` is set.
    pub fn render(err: &AuthError, ctx: &ChallengeContext, show_details: bool) -> Rejection {
        match err.code.disposition() {
            Disposition::Challenge { status, error } => {
                let mut b = body(err.code.as_str(), err.code.description());
                if err.code == ErrorCode::MissingRequiredScopes {
                    let missing = err.missing_scopes.iter().cloned().map(Value::String).collect();
                    b.insert("missing_scopes".into(), Value::Array(missing));
                }
                if show_details {
                    if let Some(cause) = &err.cause {
                        b.insert("cause".into(), cause.clone());
                    }
                }
                let challenge = Challenge {
                    error,
                    error_description: error.map(|_| err.code.description()),
                    scope: ctx.scope.as_deref(),
                    resource_metadata: ctx.resource_metadata.as_deref(),
                };
                Rejection {
                    status,
                    body: Value::Object(b).to_string(),
                    www_authenticate: Some(challenge.to_header_value()),
                    retry_after: None,
                }
            }
            Disposition::Unavailable => {
                let mut b =
                    body(ErrorCode::TemporarilyUnavailable.as_str(), ErrorCode::TemporarilyUnavailable.description());
                if show_details {
                    if let Some(cause) = &err.cause {
                        b.insert("cause".into(), cause.clone());
                    }
                }
                let secs = err.retry_after.map_or(1, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1);
                Rejection {
                    status: 503,
                    body: Value::Object(b).to_string(),
                    www_authenticate: None,
                    retry_after: Some(secs),
                }
            }
            Disposition::ServerError => {
                let mut b = match (err.code, err.reason()) {
                    // The application's own bug (a broken verifier, `scopesFor`, no body parser):
                    // say what is wrong, always.
                    (ErrorCode::InvalidAuthInfo | ErrorCode::InvalidScopesFor, Some(reason)) => {
                        body(ErrorCode::ServerError.as_str(), &format!("{} {reason}", err.code.description()))
                    }
                    // A configuration problem that has its own description: no body parser, a bad
                    // `scopesFor` answer, our own credentials refused by the introspection endpoint
                    // (nothing of its answer is ever reflected).
                    (ErrorCode::UnparsedBody | ErrorCode::InvalidScopesFor | ErrorCode::IntrospectionRefused, _) => {
                        body(ErrorCode::ServerError.as_str(), err.code.description())
                    }
                    _ => body(ErrorCode::ServerError.as_str(), ErrorCode::ServerError.description()),
                };
                if err.code == ErrorCode::ServerError {
                    // An error a custom verifier threw (`MCPAuthAuthServerError`, ...): its
                    // `toJson()`, as `mcp-auth` shows it.
                    if let (true, Some(cause)) = (show_details, &err.cause) {
                        b.insert("cause".into(), cause.clone());
                    }
                } else if show_details && !matches!(err.code, ErrorCode::UnparsedBody | ErrorCode::InvalidScopesFor) {
                    let mut inner = body(err.code.as_str(), err.code.description());
                    if let Some(cause) = &err.cause {
                        inner.insert("cause".into(), cause.clone());
                    }
                    b.insert("cause".into(), Value::Object(inner));
                }
                Rejection { status: 500, body: Value::Object(b).to_string(), www_authenticate: None, retry_after: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn ctx() -> ChallengeContext {
        ChallengeContext {
            resource_metadata: Some("https://r/.well-known/oauth-protected-resource/mcp".into()),
            scope: Some("read write".into()),
        }
    }

    fn json_body(r: &Rejection) -> Value {
        serde_json::from_str(&r.body).unwrap_or_default()
    }

    #[test]
    fn an_invalid_auth_info_names_the_field_without_details() {
        let err = AuthError::with_reason(ErrorCode::InvalidAuthInfo, "`scopes` is missing.");
        let r = Rejection::render(&err, &ctx(), false);
        assert_eq!((r.status, r.www_authenticate.as_deref()), (500, None));
        assert_eq!(
            json_body(&r),
            json!({ "error": "server_error",
                    "error_description": "The custom verification function did not return a valid `AuthInfo`. `scopes` is missing." })
        );
    }

    #[test]
    fn refused_introspection_credentials_say_so_in_a_500_without_the_status_unless_detailed() {
        let err =
            AuthError::with_reason(ErrorCode::IntrospectionRefused, "The introspection endpoint answered HTTP 401.");
        let r = Rejection::render(&err, &ctx(), false);
        assert_eq!((r.status, r.www_authenticate.as_deref(), r.retry_after), (500, None, None));
        assert_eq!(
            json_body(&r),
            json!({ "error": "server_error", "error_description": ErrorCode::IntrospectionRefused.description() })
        );
        let detailed = json_body(&Rejection::render(&err, &ctx(), true));
        assert_eq!(detailed["cause"]["error"], "introspection_refused");
        assert_eq!(detailed["cause"]["cause"], "The introspection endpoint answered HTTP 401.");
    }

    #[test]
    fn missing_header_is_a_bare_401_challenge_with_scope_and_metadata() {
        let r = Rejection::render(&AuthError::new(ErrorCode::MissingAuthHeader), &ctx(), false);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.www_authenticate.as_deref(),
            Some(
                "Bearer scope=\"read write\", resource_metadata=\"https://r/.well-known/oauth-protected-resource/mcp\""
            )
        );
        assert_eq!(
            json_body(&r),
            json!({ "error": "missing_auth_header", "error_description": ErrorCode::MissingAuthHeader.description() })
        );
    }

    #[test]
    fn issuer_mismatch_keeps_its_code_in_the_body_and_says_invalid_token_in_the_header() {
        let e = AuthError::mismatch(ErrorCode::InvalidIssuer, json!("https://good"), json!("https://evil"));
        let r = Rejection::render(&e, &ChallengeContext::default(), false);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.www_authenticate.as_deref(),
            Some("Bearer error=\"invalid_token\", error_description=\"The token issuer does not match the expected issuer.\"")
        );
        assert_eq!(json_body(&r)["error"], "invalid_issuer");
        assert!(json_body(&r).get("cause").is_none());
        let shown = Rejection::render(&e, &ChallengeContext::default(), true);
        assert_eq!(json_body(&shown)["cause"], json!({ "expected": "https://good", "actual": "https://evil" }));
    }

    #[test]
    fn missing_scopes_is_403_listing_them() {
        let r = Rejection::render(&AuthError::missing_scopes(vec!["write".into()]), &ctx(), false);
        assert_eq!(r.status, 403);
        assert!(r.www_authenticate.as_deref().unwrap_or_default().starts_with("Bearer error=\"insufficient_scope\""));
        assert_eq!(json_body(&r)["missing_scopes"], json!(["write"]));
    }

    #[test]
    fn unavailable_is_503_with_whole_seconds_to_retry_and_no_challenge() {
        let r = Rejection::render(&AuthError::unavailable("down", Duration::from_millis(1500)), &ctx(), false);
        assert_eq!((r.status, r.retry_after, r.www_authenticate.clone()), (503, Some(2), None));
        assert_eq!(json_body(&r)["error"], "temporarily_unavailable");
    }

    #[test]
    fn configuration_problems_are_500_server_error_with_the_code_only_in_details() {
        let e = AuthError::with_reason(ErrorCode::MissingJwksUri, "no jwks");
        let r = Rejection::render(&e, &ctx(), false);
        assert_eq!(r.status, 500);
        assert_eq!(
            json_body(&r),
            json!({ "error": "server_error", "error_description": "An error occurred with the authorization server." })
        );
        let shown = Rejection::render(&e, &ctx(), true);
        assert_eq!(json_body(&shown)["cause"]["error"], "missing_jwks_uri");
        assert_eq!(json_body(&shown)["cause"]["cause"], "no jwks");
    }
}
