//! Requests with the `DPoP` scheme (RFC 9449): the token is judged as in its mode, then the
//! proof is checked by the core's [`DpopVerifier`] and tied to the token's `cnf.jkt`. Nothing of
//! this runs for Bearer requests or without the `dpop` option.

use super::outcome::Outcome;
use super::Judge;
use crate::auth_info::AuthInfo;
use crate::dpop::{DpopRequest, DpopVerifier, VerifiedProof};
use crate::error::{AuthError, ErrorCode};
use crate::guard::{Guard, Presentation};
use crate::response::Presented;
use std::sync::Arc;

/// What a DPoP request adds to its token: its method, `req.originalUrl` and `DPoP` headers.
pub(super) struct DpopCall {
    /// `req.method`.
    pub method: String,
    /// `req.originalUrl`: only its path is used for `htu`.
    pub url: String,
    /// Every `DPoP` header value, one per header line.
    pub proofs: Vec<String>,
}

/// The identity `token` stands for, judged as in the guard's mode. A JWT that comes back is
/// verified once (the introspection cache does the same for opaque tokens); the proof is not.
async fn identity(guard: &Guard, judge: &Judge, token: &str) -> Result<Arc<AuthInfo>, AuthError> {
    match judge {
        Judge::Jwt => guard.verify_token_reusing(token).await,
        Judge::Introspection(introspector) => Ok(Arc::new(introspector.introspect(token).await?.info)),
        // `dpop` is refused in custom mode when the options are checked.
        Judge::Custom { .. } => Err(AuthError::new(ErrorCode::ServerError)),
    }
}

/// The token's identity and the proof, once the token verified, the proof passed every check
/// (replay included) and the token is bound to the proof's key.
async fn proven(
    guard: &Guard,
    verifier: &DpopVerifier,
    judge: &Judge,
    token: &str,
    call: &DpopCall,
) -> Result<(Arc<AuthInfo>, VerifiedProof), AuthError> {
    let info = identity(guard, judge, token).await?;
    let request =
        DpopRequest { method: &call.method, original_url: &call.url, access_token: token, proofs: &call.proofs };
    let proof = verifier.verify(&request).await?;
    guard.check_binding(&info, Presentation::Dpop(&proof))?;
    Ok((info, proof))
}

/// The outcome of a request with the `DPoP` scheme that needs the scopes `needed`: accepted
/// with `tokenType: 'DPoP'` and `dpop.jkt`, or refused with the `DPoP` challenge; with nonces
/// on, either way with the `DPoP-Nonce` for the client's next proof.
pub(super) async fn outcome(guard: &Guard, judge: &Judge, token: &str, call: &DpopCall, needed: &[String]) -> Outcome {
    let Some(verifier) = guard.dpop() else {
        return Outcome::rejected(guard.reject(&AuthError::new(ErrorCode::ServerError)));
    };
    let result = proven(guard, verifier, judge, token, call).await;
    let nonce = nonce(verifier).await;
    let refused = |e: &AuthError| Outcome::rejected(guard.reject_as(e, needed, Presented::Dpop, nonce.as_deref()));
    match result {
        Ok((info, proof)) => match guard.authorize_for(&info, needed) {
            Ok(()) => Outcome::accepted_dpop(&info, &proof.jkt).with_nonce(nonce.clone()),
            Err(e) => refused(&e),
        },
        Err(e) => refused(&e),
    }
}

/// The refusal `err` of a request whose `Authorization` header or operation was wrong (it
/// carried `presented`), with the `DPoP-Nonce` when nonces are on, so that the client's first
/// proof can carry it.
pub(super) async fn refused(guard: &Guard, err: &AuthError, presented: Presented) -> Outcome {
    let nonce = match guard.dpop() {
        Some(verifier) => nonce(verifier).await,
        None => None,
    };
    Outcome::rejected(guard.reject_as(err, &guard.options().required_scopes, presented, nonce.as_deref()))
}

/// The nonce for `DPoP-Nonce`, when nonces are on. Only a shared secret that cannot be read from
/// Redis leaves an answer without one (that answer is a 503 already, or the refusal it was).
async fn nonce(verifier: &DpopVerifier) -> Option<String> {
    if !verifier.nonce_required() {
        return None;
    }
    verifier.current_nonce().await.ok().flatten()
}
