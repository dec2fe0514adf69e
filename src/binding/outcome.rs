//! The result of verifying one request, as a plain JS object.

use crate::auth_info::{Audience, AuthInfo};
use crate::response::Rejection;
use napi::bindgen_prelude::Either;
use napi_derive::napi;
use serde_json::{Map, Value};

/// `req.auth`: the MCP SDK's `AuthInfo` plus issuer, subject, audience and claims.
#[napi(object, js_name = "AuthInfo")]
pub struct JsAuthInfo {
    /// The raw access token.
    pub token: String,
    /// `iss`.
    pub issuer: String,
    /// `client_id`, else `azp`, else `''`.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `aud`.
    pub audience: Option<Either<String, Vec<String>>>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<f64>,
    /// Every claim.
    pub claims: Option<Map<String, Value>>,
}

impl From<AuthInfo> for JsAuthInfo {
    fn from(a: AuthInfo) -> Self {
        JsAuthInfo {
            token: a.token,
            issuer: a.issuer,
            client_id: a.client_id,
            scopes: a.scopes,
            subject: a.subject,
            audience: a.audience.map(|aud| match aud {
                Audience::One(s) => Either::A(s),
                Audience::Many(v) => Either::B(v),
            }),
            expires_at: a.expires_at,
            claims: a.claims,
        }
    }
}

/// What the middleware does with a request: `status` 200 with `auth` (custom mode: without, the
/// verifier's own result is used), an error response, or `forward` with `status` 0.
#[napi(object)]
pub struct Outcome {
    /// 200 when the request may proceed; else the response status.
    pub status: u32,
    /// The verified identity, on 200 (and on a 403 for lack of per-operation scopes).
    pub auth: Option<JsAuthInfo>,
    /// The JSON body of an error response.
    pub body: Option<String>,
    /// `WWW-Authenticate`, on 401 and 403.
    pub www_authenticate: Option<String>,
    /// `Retry-After` seconds, on 503.
    pub retry_after: Option<u32>,
    /// Custom mode: the verifier's own error goes to `next(err)`.
    pub forward: Option<bool>,
    /// JWT mode, for a token that passed verification: the same header may be answered the same
    /// way until this time (ms since the epoch)...
    pub reuse_until: Option<f64>,
    /// ...while the guard's `keyEpoch()` still returns this.
    pub key_epoch: Option<f64>,
}

impl Outcome {
    /// The request may proceed as `info`.
    pub fn accepted(info: AuthInfo) -> Self {
        Outcome { auth: Some(info.into()), ..Self::empty(200) }
    }

    /// Custom mode: the request may proceed as the verifier's own result, which the glue kept.
    pub fn vouched() -> Self {
        Self::empty(200)
    }

    /// Custom mode: the request goes to the application's error handler with the verifier's error.
    pub fn forward() -> Self {
        Outcome { forward: Some(true), ..Self::empty(0) }
    }

    /// A refusal for lack of scopes that also carries the verified identity, so that the glue's
    /// memo can check the same token against another operation's scopes.
    pub fn with_identity(self, info: AuthInfo) -> Self {
        Outcome { auth: Some(info.into()), ..self }
    }

    /// Marks the outcome as reusable for the same header until `until` (seconds since the
    /// epoch) while the key epoch stays `key_epoch`.
    pub fn reusable(self, until: f64, key_epoch: u64) -> Self {
        Outcome { reuse_until: Some(until * 1000.0), key_epoch: Some(key_epoch as f64), ..self }
    }

    fn empty(status: u32) -> Self {
        Outcome {
            status,
            auth: None,
            body: None,
            www_authenticate: None,
            retry_after: None,
            forward: None,
            reuse_until: None,
            key_epoch: None,
        }
    }

    /// The request is answered with `r`.
    pub fn rejected(r: Rejection) -> Self {
        Outcome {
            status: u32::from(r.status),
            auth: None,
            body: Some(r.body),
            www_authenticate: r.www_authenticate,
            retry_after: r.retry_after.map(|s| u32::try_from(s).unwrap_or(u32::MAX)),
            forward: None,
            reuse_until: None,
            key_epoch: None,
        }
    }
}
