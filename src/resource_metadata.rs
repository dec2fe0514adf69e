//! The RFC 9728 protected resource metadata document of a configured resource.

use crate::algorithm::Alg;
use crate::config::ProtectedResource;
use crate::dpop::{DpopMode, DpopOptions};
use serde_json::{Map, Value};

/// What the DPoP-enabled middlewares of one resource advertise in its metadata (RFC 9449 §5.1,
/// RFC 9728 §2): every proof algorithm one of them accepts, and whether one requires DPoP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DpopAdvert {
    /// `dpop_signing_alg_values_supported`, in the order first configured.
    pub algorithms: Vec<Alg>,
    /// `dpop_bound_access_tokens_required`.
    pub required: bool,
}

impl DpopAdvert {
    /// Adds what one middleware's `dpop` options accept.
    pub fn add(&mut self, options: &DpopOptions) {
        for alg in &options.algorithms {
            if !self.algorithms.contains(alg) {
                self.algorithms.push(*alg);
            }
        }
        self.required |= options.mode == DpopMode::Required;
    }

    /// Writes the advertised members into a metadata document; a configured value of the same
    /// name is replaced by what the middlewares actually do.
    pub fn apply(&self, doc: &mut Map<String, Value>) {
        let algs = self.algorithms.iter().map(|a| Value::String(a.as_str().to_owned())).collect();
        doc.insert("dpop_signing_alg_values_supported".into(), Value::Array(algs));
        if self.required {
            doc.insert("dpop_bound_access_tokens_required".into(), Value::Bool(true));
        }
    }
}

/// `scopesSupported` → `scopes_supported`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The document served at the resource's metadata URL: every configured field in snake_case,
/// with `authorization_servers` as issuer identifiers (RFC 9728 §2).
pub fn document(resource: &ProtectedResource) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("resource".into(), Value::String(resource.resource.clone()));
    if !resource.auth_servers.is_empty() {
        let issuers = resource.auth_servers.iter().map(|s| Value::String(s.issuer.clone())).collect();
        doc.insert("authorization_servers".into(), Value::Array(issuers));
    }
    for (key, value) in &resource.metadata {
        if key == "resource" || key == "authorizationServers" || value.is_null() {
            continue;
        }
        let value = match (key.as_str(), value) {
            // MCP 2026-07-28: `offline_access` SHOULD NOT be advertised (the configuration warns).
            ("scopesSupported", Value::Array(list)) => Value::Array(
                list.iter().filter(|s| s.as_str() != Some(crate::scopes::OFFLINE_ACCESS)).cloned().collect(),
            ),
            _ => value.clone(),
        };
        doc.insert(snake_case(key), value);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthConfig, Mode};
    use serde_json::json;

    #[test]
    fn converts_names_and_lists_issuers() {
        let c = AuthConfig::parse(&json!({ "protectedResources": { "metadata": {
            "resource": "https://api.example.com/mcp",
            "authorizationServers": [
                { "type": "oidc", "issuer": "https://a.example.com" },
                { "type": "oauth", "metadata": { "issuer": "https://b.example.com/t", "jwksUri": "https://b.example.com/jwks" } }
            ],
            "scopesSupported": ["read", "write"],
            "resourceName": "Notes",
            "bearerMethodsSupported": ["header"]
        }}}));
        let Ok(AuthConfig { mode: Mode::Resources(list) }) = c else { panic!("rejected") };
        assert_eq!(
            Value::Object(document(&list[0])),
            json!({
                "resource": "https://api.example.com/mcp",
                "authorization_servers": ["https://a.example.com", "https://b.example.com/t"],
                "scopes_supported": ["read", "write"],
                "resource_name": "Notes",
                "bearer_methods_supported": ["header"]
            })
        );
    }

    #[test]
    fn dpop_middlewares_advertise_the_union_of_their_algorithms_and_whether_one_requires_it() {
        let mut advert = DpopAdvert::default();
        let allowed = DpopOptions { algorithms: vec![Alg::ES256, Alg::EdDSA], ..DpopOptions::default() };
        let required = DpopOptions {
            algorithms: vec![Alg::PS256, Alg::ES256],
            mode: DpopMode::Required,
            ..DpopOptions::default()
        };
        advert.add(&allowed);
        let mut doc = Map::new();
        advert.apply(&mut doc);
        assert_eq!(Value::Object(doc), json!({ "dpop_signing_alg_values_supported": ["ES256", "EdDSA"] }));
        advert.add(&required);
        let mut doc = Map::new();
        advert.apply(&mut doc);
        assert_eq!(
            Value::Object(doc),
            json!({ "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "PS256"],
                    "dpop_bound_access_tokens_required": true })
        );
    }

    #[test]
    fn snake_case_handles_acronyms_letter_by_letter() {
        assert_eq!(snake_case("tlsClientCertificateBoundAccessTokens"), "tls_client_certificate_bound_access_tokens");
        assert_eq!(snake_case("resource"), "resource");
    }

    #[test]
    fn offline_access_is_not_advertised() {
        let config = AuthConfig::parse(&json!({ "protectedResources": { "metadata": {
            "resource": "https://r", "scopesSupported": ["read", "offline_access", "write"] } } }))
        .unwrap_or_else(|e| panic!("{e}"));
        let Mode::Resources(list) = &config.mode else { panic!("legacy") };
        let doc = list.first().map(document).unwrap_or_default();
        assert_eq!(doc.get("scopes_supported"), Some(&json!(["read", "write"])));
    }
}
