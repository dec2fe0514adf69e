//! Parsing the `Authorization` request header (RFC 6750 §2.1).

use crate::error::{AuthError, ErrorCode};

/// The largest token handled; longer ones are rejected without being parsed. 16 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The credentials of an `Authorization` header: the scheme and the token after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Bearer <token>` (RFC 6750 §2.1).
    Bearer(&'a str),
    /// `DPoP <token>` (RFC 9449 §7.1): the token must come with a `DPoP` proof header.
    Dpop(&'a str),
}

impl<'a> Credentials<'a> {
    /// The access token.
    pub fn token(self) -> &'a str {
        match self {
            Credentials::Bearer(t) | Credentials::Dpop(t) => t,
        }
    }

    /// Whether the `DPoP` scheme was used.
    pub fn is_dpop(self) -> bool {
        matches!(self, Credentials::Dpop(_))
    }
}

/// Extracts the bearer token from an `Authorization` header value.
///
/// The scheme matches case-insensitively and must be followed by exactly one space and the token
/// (as `mcp-auth` splits on single spaces). The token must be an RFC 6750 `b64token`.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let (scheme, token) = split(header)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::with_reason(
            ErrorCode::InvalidAuthHeaderFormat,
            "The authorization scheme is not `Bearer`.",
        ));
    }
    checked_token(token, "More than one value follows the `Bearer` scheme.")
}

/// Extracts the credentials of an `Authorization` header that may use the `Bearer` or the
/// `DPoP` scheme, with the same rules as [`bearer_token`] for each.
pub fn credentials(header: Option<&str>) -> Result<Credentials<'_>, AuthError> {
    let (scheme, token) = split(header)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        checked_token(token, "More than one value follows the `Bearer` scheme.").map(Credentials::Bearer)
    } else if scheme.eq_ignore_ascii_case("dpop") {
        checked_token(token, "More than one value follows the `DPoP` scheme.").map(Credentials::Dpop)
    } else {
        Err(AuthError::with_reason(
            ErrorCode::InvalidAuthHeaderFormat,
            "The authorization scheme is neither `Bearer` nor `DPoP`.",
        ))
    }
}

fn split(header: Option<&str>) -> Result<(&str, &str), AuthError> {
    let header = match header {
        None | Some("") => return Err(AuthError::new(ErrorCode::MissingAuthHeader)),
        Some(h) => h,
    };
    Ok(header.split_once(' ').unwrap_or((header, "")))
}

fn checked_token<'a>(token: &'a str, several: &'static str) -> Result<&'a str, AuthError> {
    if token.is_empty() {
        return Err(AuthError::new(ErrorCode::MissingBearerToken));
    }
    if token.contains(' ') {
        return Err(AuthError::with_reason(ErrorCode::InvalidAuthHeaderFormat, several));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::with_reason(
            ErrorCode::InvalidToken,
            format!("The token is longer than {MAX_TOKEN_LEN} bytes."),
        ));
    }
    if !is_b64token(token) {
        return Err(AuthError::with_reason(
            ErrorCode::InvalidAuthHeaderFormat,
            "The bearer token contains characters that RFC 6750 does not allow.",
        ));
    }
    Ok(token)
}

/// The bytes a `b64token` is made of, as a lookup table (the check runs on every request).
#[allow(clippy::indexing_slicing)] // `b` runs over 0..256, the table's length.
const B64TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750 §2.1).
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // Summing instead of short-circuiting lets the loop vectorize; tokens are at most 16 KiB.
    let outside = |b: u8| usize::from(!B64TOKEN_BYTES.get(usize::from(b)).copied().unwrap_or(false));
    !body.is_empty() && body.bytes().map(outside).sum::<usize>() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(header: Option<&str>) -> ErrorCode {
        match bearer_token(header) {
            Ok(_) => panic!("accepted {header:?}"),
            Err(e) => e.code,
        }
    }

    #[test]
    fn extracts_the_token_after_a_case_insensitive_scheme() {
        assert_eq!(bearer_token(Some("Bearer abc.def.ghi")).ok(), Some("abc.def.ghi"));
        assert_eq!(bearer_token(Some("bearer abc")).ok(), Some("abc"));
        assert_eq!(bearer_token(Some("BEARER abc")).ok(), Some("abc"));
    }

    #[test]
    fn absent_or_empty_header_is_missing_auth_header() {
        assert_eq!(code(None), ErrorCode::MissingAuthHeader);
        assert_eq!(code(Some("")), ErrorCode::MissingAuthHeader);
    }

    #[test]
    fn scheme_without_token_is_missing_bearer_token() {
        assert_eq!(code(Some("Bearer")), ErrorCode::MissingBearerToken);
        assert_eq!(code(Some("Bearer ")), ErrorCode::MissingBearerToken);
    }

    #[test]
    fn other_schemes_and_extra_values_are_invalid_format() {
        assert_eq!(code(Some("Basic dXNlcjpwYXNz")), ErrorCode::InvalidAuthHeaderFormat);
        assert_eq!(code(Some("Bearer a b")), ErrorCode::InvalidAuthHeaderFormat);
        assert_eq!(code(Some("Bearer  abc")), ErrorCode::InvalidAuthHeaderFormat);
        assert_eq!(code(Some("Bearer\tabc")), ErrorCode::InvalidAuthHeaderFormat);
        assert_eq!(code(Some("Bearer a, Bearer b")), ErrorCode::InvalidAuthHeaderFormat);
    }

    #[test]
    fn tokens_outside_b64token_are_invalid_format() {
        for bad in ["a\r\nb", "a\"b", "a,b", "a\u{e9}b", "====", "a\tb"] {
            assert_eq!(code(Some(&format!("Bearer {bad}"))), ErrorCode::InvalidAuthHeaderFormat, "{bad:?}");
        }
        assert!(bearer_token(Some("Bearer a-b_c.d~e+f/g==")).is_ok());
    }

    #[test]
    fn credentials_tell_the_bearer_and_the_dpop_scheme_apart() {
        assert_eq!(credentials(Some("Bearer abc")).ok(), Some(Credentials::Bearer("abc")));
        assert_eq!(credentials(Some("DPoP abc.def")).ok(), Some(Credentials::Dpop("abc.def")));
        assert_eq!(credentials(Some("dpop abc")).ok(), Some(Credentials::Dpop("abc")));
        assert!(credentials(Some("DPoP abc")).is_ok_and(|c| c.is_dpop() && c.token() == "abc"));
        assert!(credentials(Some("Bearer abc")).is_ok_and(|c| !c.is_dpop()));
    }

    #[test]
    fn dpop_credentials_follow_the_bearer_rules() {
        let code = |h: Option<&str>| credentials(h).err().map(|e| e.code);
        assert_eq!(code(None), Some(ErrorCode::MissingAuthHeader));
        assert_eq!(code(Some("DPoP")), Some(ErrorCode::MissingBearerToken));
        assert_eq!(code(Some("DPoP a b")), Some(ErrorCode::InvalidAuthHeaderFormat));
        assert_eq!(code(Some("DPoP a\r\nb")), Some(ErrorCode::InvalidAuthHeaderFormat));
        assert_eq!(code(Some("Basic abc")), Some(ErrorCode::InvalidAuthHeaderFormat));
        assert_eq!(code(Some(&format!("DPoP {}", "a".repeat(MAX_TOKEN_LEN + 1)))), Some(ErrorCode::InvalidToken));
        // `bearer_token` keeps refusing the DPoP scheme, as before DPoP existed.
        assert_eq!(bearer_token(Some("DPoP abc")).err().map(|e| e.code), Some(ErrorCode::InvalidAuthHeaderFormat));
    }

    #[test]
    fn oversized_tokens_are_invalid_token_without_parsing() {
        let ok = "a".repeat(MAX_TOKEN_LEN);
        assert!(bearer_token(Some(&format!("Bearer {ok}"))).is_ok());
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(code(Some(&format!("Bearer {big}"))), ErrorCode::InvalidToken);
    }
}
