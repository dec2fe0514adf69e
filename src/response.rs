//! Turning an error into the HTTP answer: status, JSON body and headers (RFC 6750 §3).

use crate::challenge::{Challenge, Scheme};
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
    /// `DPoP-Nonce`: the server nonce the client must use (RFC 9449 §8), when nonces are on.
    pub dpop_nonce: Option<String>,
}

/// How the refused request presented its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// No `Authorization` header, or one of another scheme.
    Nothing,
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: DPoP`.
    Dpop,
}

/// The DPoP facts of a refusal by a middleware that has DPoP on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopChallenge<'a> {
    /// The accepted proof algorithms, space-separated (`algs`).
    pub algs: &'a str,
    /// `'required'` mode: only the `DPoP` scheme is offered.
    pub required: bool,
    /// What the request carried.
    pub presented: Presented,
    /// The nonce to send in `DPoP-Nonce`, when nonces are on.
    pub nonce: Option<&'a str>,
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
                    ..Default::default()
                };
                Rejection {
                    status,
                    body: Value::Object(b).to_string(),
                    www_authenticate: Some(challenge.to_header_value()),
                    retry_after: None,
                    dpop_nonce: None,
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
                    dpop_nonce: None,
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
                Rejection {
                    status: 500,
                    body: Value::Object(b).to_string(),
                    www_authenticate: None,
                    retry_after: None,
                    dpop_nonce: None,
                }
            }
        }
    }

    /// Renders `err` for a middleware with DPoP on: as [`Rejection::render`], with the challenge
    /// of RFC 9449 §7.1 and `DPoP-Nonce`.
    ///
    /// The challenge uses the `DPoP` scheme (with `algs`) for a DPoP error, for a request that
    /// used the `DPoP` scheme, and in `'required'` mode. A request without credentials in
    /// `'allowed'` mode gets both: `Bearer …, DPoP algs="…"`. Otherwise it stays `Bearer`.
    pub fn render_dpop(
        err: &AuthError,
        ctx: &ChallengeContext,
        show_details: bool,
        dpop: &DpopChallenge<'_>,
    ) -> Rejection {
        let mut r = Rejection::render(err, ctx, show_details);
        r.dpop_nonce = dpop.nonce.map(str::to_owned);
        let Disposition::Challenge { error, .. } = err.code.disposition() else { return r };
        let dpop_only = err.code.is_dpop() || dpop.presented == Presented::Dpop || dpop.required;
        if dpop_only {
            let challenge = Challenge {
                scheme: Scheme::Dpop,
                error,
                error_description: error.map(|_| err.code.description()),
                scope: ctx.scope.as_deref(),
                algs: Some(dpop.algs),
                resource_metadata: ctx.resource_metadata.as_deref(),
            };
            r.www_authenticate = Some(challenge.to_header_value());
        } else if dpop.presented == Presented::Nothing {
            let offer = Challenge { scheme: Scheme::Dpop, algs: Some(dpop.algs), ..Default::default() };
            if let Some(bearer) = r.www_authenticate.as_mut() {
                bearer.push_str(", ");
                bearer.push_str(&offer.to_header_value());
            }
        }
        r
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

    fn dpop(presented: Presented, required: bool) -> DpopChallenge<'static> {
        DpopChallenge { algs: "ES256 EdDSA", required, presented, nonce: None }
    }

    #[test]
    fn a_dpop_error_gets_a_dpop_challenge_with_algs_and_metadata() {
        let err = AuthError::with_reason(ErrorCode::InvalidDpopProof, "The DPoP proof `htu` is not the request URL.");
        let r = Rejection::render_dpop(&err, &ctx(), false, &dpop(Presented::Dpop, false));
        assert_eq!(r.status, 401);
        assert_eq!(
            r.www_authenticate.as_deref(),
            Some(
                "DPoP error=\"invalid_dpop_proof\", error_description=\"The DPoP proof is missing, malformed or invalid.\", \
                 scope=\"read write\", algs=\"ES256 EdDSA\", resource_metadata=\"https://r/.well-known/oauth-protected-resource/mcp\""
            )
        );
        assert_eq!(json_body(&r)["error"], "invalid_dpop_proof");
        assert!(json_body(&r).get("cause").is_none());
        assert_eq!(
            json_body(&Rejection::render_dpop(&err, &ctx(), true, &dpop(Presented::Dpop, false)))["cause"],
            "The DPoP proof `htu` is not the request URL."
        );
    }

    #[test]
    fn a_binding_mismatch_is_invalid_token_under_the_dpop_scheme() {
        let err = AuthError::new(ErrorCode::DpopBindingMismatch);
        let r = Rejection::render_dpop(&err, &ChallengeContext::default(), false, &dpop(Presented::Dpop, false));
        assert!(r.www_authenticate.as_deref().unwrap_or_default().starts_with("DPoP error=\"invalid_token\""));
        assert_eq!(json_body(&r)["error"], "dpop_binding_mismatch");
    }

    #[test]
    fn without_credentials_allowed_mode_offers_both_schemes_and_required_mode_only_dpop() {
        let missing = AuthError::new(ErrorCode::MissingAuthHeader);
        let both = Rejection::render_dpop(&missing, &ctx(), false, &dpop(Presented::Nothing, false));
        assert_eq!(
            both.www_authenticate.as_deref(),
            Some(
                "Bearer scope=\"read write\", resource_metadata=\"https://r/.well-known/oauth-protected-resource/mcp\", \
                 DPoP algs=\"ES256 EdDSA\""
            )
        );
        let only = Rejection::render_dpop(&missing, &ctx(), false, &dpop(Presented::Nothing, true));
        assert_eq!(
            only.www_authenticate.as_deref(),
            Some(
                "DPoP scope=\"read write\", algs=\"ES256 EdDSA\", \
                 resource_metadata=\"https://r/.well-known/oauth-protected-resource/mcp\""
            )
        );
    }

    #[test]
    fn a_bearer_request_in_allowed_mode_keeps_the_bearer_challenge() {
        let err = AuthError::new(ErrorCode::InvalidToken);
        let r = Rejection::render_dpop(&err, &ctx(), false, &dpop(Presented::Bearer, false));
        assert_eq!(r.www_authenticate, Rejection::render(&err, &ctx(), false).www_authenticate);
    }

    #[test]
    fn scope_failures_stay_403_and_use_the_scheme_the_request_used() {
        let err = AuthError::missing_scopes(vec!["write".into()]);
        let r = Rejection::render_dpop(&err, &ctx(), false, &dpop(Presented::Dpop, false));
        assert_eq!(r.status, 403);
        assert!(r.www_authenticate.as_deref().unwrap_or_default().starts_with("DPoP error=\"insufficient_scope\""));
    }

    #[test]
    fn the_nonce_rides_on_every_answer_and_use_dpop_nonce_is_a_dpop_challenge() {
        let nonce = DpopChallenge { nonce: Some("n-1"), ..dpop(Presented::Dpop, false) };
        let r = Rejection::render_dpop(&AuthError::new(ErrorCode::UseDpopNonce), &ctx(), false, &nonce);
        assert_eq!((r.status, r.dpop_nonce.as_deref()), (401, Some("n-1")));
        assert!(r.www_authenticate.as_deref().unwrap_or_default().starts_with("DPoP error=\"use_dpop_nonce\""));
        let down = AuthError {
            retry_after: Some(Duration::from_secs(1)),
            ..AuthError::new(ErrorCode::DpopReplayStoreUnavailable)
        };
        let r = Rejection::render_dpop(&down, &ctx(), false, &nonce);
        assert_eq!((r.status, r.retry_after, r.www_authenticate.as_deref()), (503, Some(1), None));
        assert_eq!(json_body(&r)["error"], "temporarily_unavailable");
        assert_eq!(r.dpop_nonce.as_deref(), Some("n-1"));
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
