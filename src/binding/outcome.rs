//! The result of verifying one request, as a plain JS object.

use crate::auth_info::{Audience, AuthInfo};
use crate::response::Rejection;
use napi_derive::napi;
use serde::Serialize;
use serde_json::{Map, Value};

/// `req.auth` as JSON text, for the glue to make into a plain object with one `JSON.parse`
/// (far cheaper than building it through napi property by property). Its `token` is `""`: the
/// glue has the header and fills it in, so the token does not cross back.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthJson<'a> {
    token: &'static str,
    issuer: &'a str,
    client_id: &'a str,
    scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop: Option<DpopJson<'a>>,
}

/// `req.auth.dpop` of a request that used the `DPoP` scheme.
#[derive(Serialize)]
struct DpopJson<'a> {
    jkt: &'a str,
}

/// The JSON text of `info` for `Outcome.auth` (its `token` left empty).
pub fn auth_json(info: &AuthInfo) -> String {
    dpop_auth_json(info, None)
}

/// The JSON text of `info` for `Outcome.auth`; with `jkt`, the request used the `DPoP` scheme
/// with a proof of that key: `tokenType: 'DPoP'` and `dpop: { jkt }` are added.
pub fn dpop_auth_json(info: &AuthInfo, jkt: Option<&str>) -> String {
    let json = AuthJson {
        token: "",
        issuer: &info.issuer,
        client_id: &info.client_id,
        scopes: &info.scopes,
        subject: info.subject.as_deref(),
        audience: info.audience.as_ref().map(Audience::to_json),
        expires_at: info.expires_at,
        claims: info.claims.as_ref(),
        token_type: jkt.map(|_| "DPoP"),
        dpop: jkt.map(|jkt| DpopJson { jkt }),
    };
    // Sized once for a typical identity, so that serializing does not grow the buffer step by step.
    let mut text = Vec::with_capacity(1024);
    // Serializing strings, numbers (finite: from JSON) and JSON values cannot fail, and yields UTF-8.
    if serde_json::to_writer(&mut text, &json).is_err() {
        return String::new();
    }
    String::from_utf8(text).unwrap_or_default()
}

/// What the middleware does with a request: `status` 200 with `auth` (custom mode: without, the
/// verifier's own result is used), an error response, or `forward` with `status` 0.
#[napi(object)]
pub struct Outcome {
    /// 200 when the request may proceed; else the response status.
    pub status: u32,
    /// The verified identity as JSON text with an empty `token` (the glue parses it into
    /// `req.auth` and fills in the token from the header), on 200 (and on a 403 for lack of
    /// per-operation scopes).
    pub auth: Option<String>,
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
    /// The request's call id, on outcomes delivered in a batch to `done`.
    pub call_id: Option<u32>,
    /// `DPoP-Nonce`: the nonce the client's next proof must carry, on DPoP answers with nonces on.
    pub dpop_nonce: Option<String>,
}

impl Outcome {
    /// The request may proceed as `info`.
    pub fn accepted(info: AuthInfo) -> Self {
        Outcome { auth: Some(auth_json(&info)), ..Self::empty(200) }
    }

    /// The request, which used the `DPoP` scheme with a proof of the key `jkt`, may proceed as `info`.
    pub fn accepted_dpop(info: &AuthInfo, jkt: &str) -> Self {
        Outcome { auth: Some(dpop_auth_json(info, Some(jkt))), ..Self::empty(200) }
    }

    /// Adds the `DPoP-Nonce` to send.
    pub fn with_nonce(self, nonce: Option<String>) -> Self {
        Outcome { dpop_nonce: nonce, ..self }
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
        Outcome { auth: Some(auth_json(&info)), ..self }
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
            call_id: None,
            dpop_nonce: None,
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
            call_id: None,
            dpop_nonce: r.dpop_nonce,
        }
    }
}
