//! The JWS algorithms that may verify access tokens, and the key each one needs (RFC 7518 §3).

/// An asymmetric JWS algorithm. `none` and the HMAC family are not representable: a resource
/// server holds public keys only, so a symmetric or unsigned token can never verify (RFC 8725 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

/// The kind of public key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `kty: "RSA"`, at least 2048 bits.
    Rsa,
    /// `kty: "EC"`, `crv: "P-256"`.
    EcP256,
    /// `kty: "EC"`, `crv: "P-384"`.
    EcP384,
    /// `kty: "OKP"`, `crv: "Ed25519"`.
    Ed25519,
}

impl Alg {
    /// Every supported algorithm, which is also the default allow-list.
    pub const ALL: [Alg; 9] =
        [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::EdDSA];

    /// Parses a JOSE `alg` name; names are case-sensitive (RFC 7515 §4.1.1).
    pub fn parse(name: &str) -> Option<Alg> {
        Self::ALL.iter().copied().find(|a| a.as_str() == name)
    }

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The only key kind this algorithm may be verified with.
    pub fn key_kind(self) -> KeyKind {
        match self {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => KeyKind::Rsa,
            Alg::ES256 => KeyKind::EcP256,
            Alg::ES384 => KeyKind::EcP384,
            Alg::EdDSA => KeyKind::Ed25519,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_and_hmac_are_not_algorithms_here() {
        for name in ["none", "None", "NONE", "HS256", "HS384", "HS512", "rs256", "ES512", ""] {
            assert_eq!(Alg::parse(name), None, "{name}");
        }
    }

    #[test]
    fn names_round_trip() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.as_str()), Some(alg));
        }
    }

    #[test]
    fn each_algorithm_is_bound_to_one_key_kind() {
        assert_eq!(Alg::PS384.key_kind(), KeyKind::Rsa);
        assert_eq!(Alg::ES256.key_kind(), KeyKind::EcP256);
        assert_eq!(Alg::ES384.key_kind(), KeyKind::EcP384);
        assert_eq!(Alg::EdDSA.key_kind(), KeyKind::Ed25519);
    }
}
