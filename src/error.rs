//! The error model: one code table for every error the library reports.
//!
//! Each [`ErrorCode`] has exactly one wire string, one description, one error class (the JS class
//! that carries it) and one HTTP status. The JS error classes and their `*ErrorDescription` tables
//! are built from [`ErrorCode::ALL`], so each string lives here and nowhere else.

use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// The family an error code belongs to; each family is one JS error class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `MCPAuthBearerAuthError`: the request's credentials or the token's grants.
    BearerAuth,
    /// `MCPAuthTokenVerificationError`: the token itself failed verification.
    TokenVerification,
    /// `MCPAuthJwtVerificationError`: a subclass of the above, named by the product documentation.
    JwtVerification,
    /// `MCPAuthAuthServerError`: the authorization server's configuration or metadata.
    AuthServer,
    /// `MCPAuthConfigError`: the library's configuration or fetching it.
    Config,
    /// Not an error class: an HTTP answer that is not about the token (503, 500).
    Service,
}

impl ErrorClass {
    /// The JS class name.
    pub fn js_name(self) -> &'static str {
        match self {
            Self::BearerAuth => "MCPAuthBearerAuthError",
            Self::TokenVerification => "MCPAuthTokenVerificationError",
            Self::JwtVerification => "MCPAuthJwtVerificationError",
            Self::AuthServer => "MCPAuthAuthServerError",
            Self::Config => "MCPAuthConfigError",
            Self::Service => "MCPAuthError",
        }
    }

    /// The class a JS class name stands for; `MCPAuthError` itself is no particular class.
    pub fn from_js_name(name: &str) -> Option<ErrorClass> {
        [Self::BearerAuth, Self::TokenVerification, Self::JwtVerification, Self::AuthServer, Self::Config]
            .into_iter()
            .find(|c| c.js_name() == name)
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($class:ident, $wire:literal, $desc:literal), )*) => {
        /// Every error code the library reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// All codes, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case code as it appears in JSON bodies and on JS errors.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire, )* }
            }

            /// The human-readable description.
            pub fn description(self) -> &'static str {
                match self { $( Self::$variant => $desc, )* }
            }

            /// The JS error class that carries this code.
            pub fn class(self) -> ErrorClass {
                match self { $( Self::$variant => ErrorClass::$class, )* }
            }
        }
    };
}

error_codes! {
    /// No `Authorization` header.
    MissingAuthHeader => (BearerAuth, "missing_auth_header",
        "Missing `Authorization` header. Please provide a valid bearer token."),
    /// The header is not `Bearer <token>`.
    InvalidAuthHeaderFormat => (BearerAuth, "invalid_auth_header_format",
        "Invalid `Authorization` header format. Expected \"Bearer <token>\"."),
    /// `Bearer` with no token after it.
    MissingBearerToken => (BearerAuth, "missing_bearer_token",
        "Missing bearer token in `Authorization` header. Please provide a valid token."),
    /// The token's issuer is not trusted for this resource.
    InvalidIssuer => (BearerAuth, "invalid_issuer",
        "The token issuer does not match the expected issuer."),
    /// The token's audience does not include the expected audience.
    InvalidAudience => (BearerAuth, "invalid_audience",
        "The token audience does not match the expected audience."),
    /// The token lacks scopes the endpoint requires.
    MissingRequiredScopes => (BearerAuth, "missing_required_scopes",
        "The token does not contain the necessary scopes for this request."),
    /// `MCPAuthBearerAuthError('invalid_token')`, as a custom verifier may throw it.
    BearerInvalidToken => (BearerAuth, "invalid_token",
        "The provided token is not valid or has expired."),
    /// The token failed verification (signature, expiry, format, key).
    InvalidToken => (TokenVerification, "invalid_token",
        "The provided token is invalid or malformed."),
    /// Verification failed for a reason other than the token's form.
    TokenVerificationFailed => (TokenVerification, "token_verification_failed",
        "Token verification failed due to an error."),
    /// A JWT could not be verified (the product documentation's custom-verifier code).
    JwtVerificationFailed => (JwtVerification, "jwt_verification_failed",
        "The JWT could not be verified."),
    /// A JWT is malformed.
    InvalidJwt => (JwtVerification, "invalid_jwt",
        "The JWT is invalid or malformed."),
    /// Authorization server metadata is malformed.
    InvalidServerMetadata => (AuthServer, "invalid_server_metadata",
        "The server metadata is invalid or malformed."),
    /// The configuration is invalid.
    InvalidServerConfig => (AuthServer, "invalid_server_config",
        "The server configuration does not match the MCP specification."),
    /// Metadata without `jwks_uri`, so JWTs cannot be verified.
    MissingJwksUri => (AuthServer, "missing_jwks_uri",
        "The server metadata does not contain a JWKS URI, which is required for JWT verification."),
    /// Fetching authorization server metadata failed.
    FetchServerConfigError => (Config, "fetch_server_config_error",
        "Failed to fetch the authorization server configuration."),
    /// A dependency (JWKS, metadata, verifier) is unavailable right now: HTTP 503.
    TemporarilyUnavailable => (Service, "temporarily_unavailable",
        "The authorization service is temporarily unavailable. Please retry later."),
    /// A custom verifier returned something that is not an `AuthInfo`: HTTP 500.
    InvalidAuthInfo => (Service, "invalid_auth_info",
        "The custom verification function did not return a valid `AuthInfo`."),
    /// Per-operation scopes are configured but the request body was not parsed: HTTP 500.
    UnparsedBody => (Service, "unparsed_body",
        "The request body was not parsed, so the scopes of its MCP operation cannot be checked: use `express.json()` (or another JSON body parser) before `bearerAuth`."),
    /// `scopesFor` returned something that is not a list of scopes: HTTP 500.
    InvalidScopesFor => (Service, "invalid_scopes_for",
        "`scopesFor` must return an array of RFC 6749 scope tokens or `undefined`."),
    /// The server cannot authenticate requests because of its configuration: HTTP 500.
    ServerError => (Service, "server_error",
        "An error occurred with the authorization server."),
    /// Metadata without `introspection_endpoint`, so opaque tokens cannot be introspected.
    MissingIntrospectionEndpoint => (AuthServer, "missing_introspection_endpoint",
        "The server metadata does not contain an introspection endpoint, which is required for token introspection."),
    /// The introspection endpoint answered 400, 401 or 403 (RFC 7662 §2.3): this resource
    /// server's credentials or request are wrong. HTTP 500, answered as `server_error`.
    IntrospectionRefused => (Service, "introspection_refused",
        "The introspection endpoint refused the request of this resource server; check its client credentials and the endpoint."),
    /// The `DPoP` proof failed a check of RFC 9449 §4.3; the cause names the check, never the
    /// proof's contents.
    InvalidDpopProof => (BearerAuth, "invalid_dpop_proof",
        "The DPoP proof is missing, malformed or invalid."),
    /// The proof lacks the current server nonce (RFC 9449 §9); the answer carries `DPoP-Nonce`.
    UseDpopNonce => (BearerAuth, "use_dpop_nonce",
        "The resource server requires a nonce in the DPoP proof: use the one in the `DPoP-Nonce` header."),
    /// The token's `cnf.jkt` is not the thumbprint of the proof's key (RFC 9449 §6).
    DpopBindingMismatch => (BearerAuth, "dpop_binding_mismatch",
        "The access token is not bound to the key of the DPoP proof."),
    /// A DPoP-bound token came with the `Bearer` scheme (or with no proof): no downgrade.
    DpopBoundToken => (BearerAuth, "dpop_bound_token",
        "The access token is bound to a DPoP key: send it with the `DPoP` scheme and a DPoP proof."),
    /// `'required'` mode: a token that is not DPoP-bound, or the `Bearer` scheme.
    DpopRequired => (BearerAuth, "dpop_required",
        "This resource accepts only DPoP-bound access tokens sent with the `DPoP` scheme and a DPoP proof."),
    /// The DPoP replay store (Redis) did not answer in time: HTTP 503, never a pass.
    DpopReplayStoreUnavailable => (Service, "dpop_replay_store_unavailable",
        "The DPoP replay store is unavailable, so DPoP proofs cannot be checked. Please retry later."),
}

/// The RFC 6750 §3.1 error code that goes into `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeError {
    /// The request is malformed (`invalid_request`).
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid (`invalid_token`).
    InvalidToken,
    /// The token lacks scope (`insufficient_scope`).
    InsufficientScope,
    /// The DPoP proof is invalid (`invalid_dpop_proof`, RFC 9449 §7.1).
    InvalidDpopProof,
    /// The proof needs the server's nonce (`use_dpop_nonce`, RFC 9449 §9).
    UseDpopNonce,
}

impl ChallengeError {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

/// How a request that failed with a code is answered over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// 401 or 403 with a `Bearer` challenge; `None` is the bare challenge of RFC 6750 §3.1.
    Challenge { status: u16, error: Option<ChallengeError> },
    /// 503 with `Retry-After`.
    Unavailable,
    /// 500: a configuration problem on this server's side.
    ServerError,
}

impl ErrorCode {
    /// How a request failing with this code is answered.
    pub fn disposition(self) -> Disposition {
        use ErrorCode::*;
        match self {
            MissingAuthHeader => Disposition::Challenge { status: 401, error: None },
            InvalidAuthHeaderFormat | MissingBearerToken => {
                Disposition::Challenge { status: 401, error: Some(ChallengeError::InvalidRequest) }
            }
            MissingRequiredScopes => {
                Disposition::Challenge { status: 403, error: Some(ChallengeError::InsufficientScope) }
            }
            InvalidIssuer
            | InvalidAudience
            | BearerInvalidToken
            | InvalidToken
            | TokenVerificationFailed
            | JwtVerificationFailed
            | InvalidJwt
            | DpopBindingMismatch
            | DpopBoundToken
            | DpopRequired => Disposition::Challenge { status: 401, error: Some(ChallengeError::InvalidToken) },
            InvalidDpopProof => Disposition::Challenge { status: 401, error: Some(ChallengeError::InvalidDpopProof) },
            UseDpopNonce => Disposition::Challenge { status: 401, error: Some(ChallengeError::UseDpopNonce) },
            TemporarilyUnavailable | DpopReplayStoreUnavailable => Disposition::Unavailable,
            InvalidServerMetadata
            | InvalidServerConfig
            | MissingJwksUri
            | FetchServerConfigError
            | InvalidAuthInfo
            | UnparsedBody
            | InvalidScopesFor
            | ServerError
            | MissingIntrospectionEndpoint
            | IntrospectionRefused => Disposition::ServerError,
        }
    }

    /// Whether this code is about DPoP, so that its challenge uses the `DPoP` scheme.
    pub fn is_dpop(self) -> bool {
        use ErrorCode::*;
        matches!(self, InvalidDpopProof | UseDpopNonce | DpopBindingMismatch | DpopBoundToken | DpopRequired)
    }

    /// Finds a code by class and wire string (several classes share `invalid_token`).
    pub fn find(class: ErrorClass, wire: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.class() == class && c.as_str() == wire)
    }
}

/// An error with its code and, optionally, what caused it.
///
/// The cause is shown to clients only when `showErrorDetails` is on; it never reaches headers.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthError {
    /// What went wrong.
    pub code: ErrorCode,
    /// Details: expected and actual values, the underlying reason.
    pub cause: Option<Value>,
    /// The scopes that are missing (`missing_required_scopes` only).
    pub missing_scopes: Vec<String>,
    /// For `temporarily_unavailable`: when a retry may succeed.
    pub retry_after: Option<Duration>,
}

impl AuthError {
    /// An error with no cause.
    pub fn new(code: ErrorCode) -> Self {
        Self { code, cause: None, missing_scopes: Vec::new(), retry_after: None }
    }

    /// An error whose cause is a sentence.
    pub fn with_reason(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self { cause: Some(Value::String(reason.into())), ..Self::new(code) }
    }

    /// An error whose cause is an expected and an actual value.
    pub fn mismatch(code: ErrorCode, expected: Value, actual: Value) -> Self {
        let mut cause = serde_json::Map::new();
        cause.insert("expected".into(), expected);
        cause.insert("actual".into(), actual);
        Self { cause: Some(Value::Object(cause)), ..Self::new(code) }
    }

    /// `missing_required_scopes` listing what is missing, also as the cause `{ missing_scopes }`.
    pub fn missing_scopes(missing: Vec<String>) -> Self {
        let mut cause = serde_json::Map::new();
        cause.insert("missing_scopes".into(), Value::Array(missing.iter().cloned().map(Value::String).collect()));
        Self {
            missing_scopes: missing,
            cause: Some(Value::Object(cause)),
            ..Self::new(ErrorCode::MissingRequiredScopes)
        }
    }

    /// `temporarily_unavailable`, retryable after `retry_after`.
    pub fn unavailable(reason: impl Into<String>, retry_after: Duration) -> Self {
        Self { retry_after: Some(retry_after), ..Self::with_reason(ErrorCode::TemporarilyUnavailable, reason) }
    }

    /// The cause as a sentence, when it is one.
    pub fn reason(&self) -> Option<&str> {
        self.cause.as_ref().and_then(Value::as_str)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.description())?;
        if let Some(reason) = self.reason() {
            write!(f, " {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuthError {}

/// A configuration mistake, reported when the configuration is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A value of the wrong type or an unknown option (a JS `TypeError`).
    Type(String),
    /// A value of the right type that is not acceptable
    /// (`MCPAuthAuthServerError('invalid_server_config')`).
    Invalid(String),
}

impl ConfigError {
    /// The message, naming the bad field.
    pub fn message(&self) -> &str {
        match self {
            Self::Type(m) | Self::Invalid(m) => m,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_unique_class_and_wire_pair() {
        for (i, a) in ErrorCode::ALL.iter().enumerate() {
            for b in &ErrorCode::ALL[i + 1..] {
                assert!(!(a.class() == b.class() && a.as_str() == b.as_str()), "{a:?} and {b:?} collide");
            }
        }
    }

    #[test]
    fn missing_header_gets_a_bare_challenge() {
        assert_eq!(ErrorCode::MissingAuthHeader.disposition(), Disposition::Challenge { status: 401, error: None });
    }

    #[test]
    fn missing_scopes_is_403_insufficient_scope() {
        assert_eq!(
            ErrorCode::MissingRequiredScopes.disposition(),
            Disposition::Challenge { status: 403, error: Some(ChallengeError::InsufficientScope) }
        );
    }

    #[test]
    fn issuer_and_audience_mismatches_are_invalid_token_on_the_wire() {
        for code in [ErrorCode::InvalidIssuer, ErrorCode::InvalidAudience] {
            assert_eq!(
                code.disposition(),
                Disposition::Challenge { status: 401, error: Some(ChallengeError::InvalidToken) }
            );
        }
    }

    #[test]
    fn introspection_configuration_problems_are_500() {
        for code in [ErrorCode::MissingIntrospectionEndpoint, ErrorCode::IntrospectionRefused] {
            assert_eq!(code.disposition(), Disposition::ServerError, "{code:?}");
        }
    }

    #[test]
    fn dpop_refusals_are_401_with_their_challenge_code() {
        let challenge = |e| Disposition::Challenge { status: 401, error: Some(e) };
        assert_eq!(ErrorCode::InvalidDpopProof.disposition(), challenge(ChallengeError::InvalidDpopProof));
        assert_eq!(ErrorCode::UseDpopNonce.disposition(), challenge(ChallengeError::UseDpopNonce));
        for code in [ErrorCode::DpopBindingMismatch, ErrorCode::DpopBoundToken, ErrorCode::DpopRequired] {
            assert_eq!(code.disposition(), challenge(ChallengeError::InvalidToken), "{code:?}");
            assert!(code.is_dpop());
        }
        assert!(!ErrorCode::InvalidToken.is_dpop());
    }

    #[test]
    fn an_unavailable_replay_store_is_503_never_a_challenge() {
        assert_eq!(ErrorCode::DpopReplayStoreUnavailable.disposition(), Disposition::Unavailable);
        assert!(!ErrorCode::DpopReplayStoreUnavailable.is_dpop());
    }

    #[test]
    fn find_distinguishes_classes_sharing_a_wire_code() {
        assert_eq!(ErrorCode::find(ErrorClass::BearerAuth, "invalid_token"), Some(ErrorCode::BearerInvalidToken));
        assert_eq!(ErrorCode::find(ErrorClass::TokenVerification, "invalid_token"), Some(ErrorCode::InvalidToken));
        assert_eq!(ErrorCode::find(ErrorClass::Config, "invalid_token"), None);
    }
}
