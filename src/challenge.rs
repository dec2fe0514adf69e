//! Formatting the `WWW-Authenticate` challenges: `Bearer` (RFC 6750 §3, RFC 9728 §5.1) and
//! `DPoP` (RFC 9449 §7.1).

use crate::error::ChallengeError;

/// The authentication scheme a challenge is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scheme {
    /// `Bearer` (RFC 6750).
    #[default]
    Bearer,
    /// `DPoP` (RFC 9449).
    Dpop,
}

impl Scheme {
    /// The scheme name as it starts the challenge.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::Dpop => "DPoP",
        }
    }
}

/// The parameters of one challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scheme; `Bearer` unless said otherwise.
    pub scheme: Scheme,
    /// `error`: the RFC 6750 code; absent when the request carried no credentials (§3.1).
    pub error: Option<ChallengeError>,
    /// `error_description`: a fixed, human-readable sentence.
    pub error_description: Option<&'a str>,
    /// `scope`: the scopes needed, space-separated.
    pub scope: Option<&'a str>,
    /// `algs`: the DPoP proof algorithms accepted, space-separated (`DPoP` only).
    pub algs: Option<&'a str>,
    /// `resource_metadata`: the RFC 9728 metadata URL of the resource.
    pub resource_metadata: Option<&'a str>,
}

impl Challenge<'_> {
    /// The header value, e.g. `Bearer error="invalid_token", error_description="..."` or
    /// `DPoP error="invalid_dpop_proof", ..., algs="ES256 EdDSA", resource_metadata="..."`.
    ///
    /// Values are quoted strings: `\` and `"` are escaped; CR, LF, other control characters
    /// and non-ASCII characters are removed. Empty values are left out.
    pub fn to_header_value(&self) -> String {
        let mut out = String::from(self.scheme.as_str());
        let params = [
            ("error", self.error.map(ChallengeError::as_str)),
            ("error_description", self.error_description),
            ("scope", self.scope),
            ("algs", self.algs),
            ("resource_metadata", self.resource_metadata),
        ];
        let mut first = true;
        for (name, value) in params {
            let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
            out.push_str(if first { " " } else { ", " });
            first = false;
            out.push_str(name);
            out.push_str("=\"");
            push_quoted(&mut out, value);
            out.push('"');
        }
        out
    }
}

/// Appends `value` as the inside of an RFC 9110 quoted-string.
fn push_quoted(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            ' ' | '!'..='~' => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_challenge_when_nothing_is_known() {
        assert_eq!(Challenge::default().to_header_value(), "Bearer");
    }

    #[test]
    fn missing_credentials_carry_only_resource_metadata() {
        let c = Challenge {
            resource_metadata: Some("https://api.example.com/.well-known/oauth-protected-resource"),
            ..Default::default()
        };
        assert_eq!(
            c.to_header_value(),
            "Bearer resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn parameters_come_in_a_fixed_order_separated_by_commas() {
        let c = Challenge {
            error: Some(ChallengeError::InsufficientScope),
            error_description: Some("Needs more."),
            scope: Some("read write"),
            resource_metadata: Some("https://r/.well-known/oauth-protected-resource"),
            ..Default::default()
        };
        assert_eq!(
            c.to_header_value(),
            "Bearer error=\"insufficient_scope\", error_description=\"Needs more.\", \
             scope=\"read write\", resource_metadata=\"https://r/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        let c = Challenge { error_description: Some(r#"say "hi" \ bye"#), ..Default::default() };
        assert_eq!(c.to_header_value(), r#"Bearer error_description="say \"hi\" \\ bye""#);
    }

    #[test]
    fn control_and_non_ascii_characters_are_removed() {
        let c = Challenge { scope: Some("a\r\nSet-Cookie: x\u{7f}\u{e9}\tb"), ..Default::default() };
        assert_eq!(c.to_header_value(), "Bearer scope=\"aSet-Cookie: xb\"");
    }

    #[test]
    fn a_dpop_challenge_names_its_scheme_and_the_accepted_algorithms() {
        let c = Challenge {
            scheme: Scheme::Dpop,
            error: Some(ChallengeError::InvalidDpopProof),
            error_description: Some("Bad proof."),
            algs: Some("ES256 EdDSA"),
            resource_metadata: Some("https://r/.well-known/oauth-protected-resource"),
            ..Default::default()
        };
        assert_eq!(
            c.to_header_value(),
            "DPoP error=\"invalid_dpop_proof\", error_description=\"Bad proof.\", algs=\"ES256 EdDSA\", \
             resource_metadata=\"https://r/.well-known/oauth-protected-resource\""
        );
        let bare = Challenge { scheme: Scheme::Dpop, algs: Some("ES256"), ..Default::default() };
        assert_eq!(bare.to_header_value(), "DPoP algs=\"ES256\"");
        let nonce = Challenge { scheme: Scheme::Dpop, error: Some(ChallengeError::UseDpopNonce), ..Default::default() };
        assert_eq!(nonce.to_header_value(), "DPoP error=\"use_dpop_nonce\"");
    }

    #[test]
    fn empty_values_are_left_out() {
        let c = Challenge { error: Some(ChallengeError::InvalidToken), scope: Some(""), ..Default::default() };
        assert_eq!(c.to_header_value(), "Bearer error=\"invalid_token\"");
    }
}
