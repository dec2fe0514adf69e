//! The `MCPAuth` configuration: protected resources and the authorization servers they trust,
//! or the legacy single server. Checked completely when it is given.

use crate::discovery::{http_url, Discovery, ServerMetadata, ServerType};
use crate::error::ConfigError;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use url::Url;

/// One trusted authorization server.
pub struct AuthServer {
    /// `oidc` or `oauth`.
    pub server_type: ServerType,
    /// The issuer identifier, exactly as configured.
    pub issuer: String,
    /// Its metadata, given or discovered; shared by every resource that trusts the issuer.
    pub discovery: Arc<Discovery>,
}

/// One protected resource (RFC 9728).
pub struct ProtectedResource {
    /// The resource identifier.
    pub resource: String,
    /// Where its metadata is published (RFC 9728 §3.1).
    pub metadata_url: String,
    /// The configured metadata, camelCase as given.
    pub metadata: Map<String, Value>,
    /// The authorization servers whose tokens it accepts.
    pub auth_servers: Vec<Arc<AuthServer>>,
}

/// Which configuration form was used.
pub enum Mode {
    /// `{ server }`: one authorization server, deprecated.
    Legacy(Arc<AuthServer>),
    /// `{ protectedResources }`.
    Resources(Vec<ProtectedResource>),
}

/// A checked configuration.
pub struct AuthConfig {
    /// The form and its contents.
    pub mode: Mode,
}

/// The RFC 9728 §3.1 metadata URL: the well-known segment goes between host and path.
pub fn resource_metadata_url(resource: &Url) -> String {
    let mut url = resource.clone();
    let path = match resource.path() {
        "/" => String::new(),
        p => p.to_owned(),
    };
    url.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
    url.set_fragment(None);
    url.to_string()
}

pub(crate) fn type_error(path: &str, what: &str) -> ConfigError {
    ConfigError::Type(format!("`{path}` must be {what}."))
}

pub(crate) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ConfigError> {
    v.as_object().ok_or_else(|| type_error(path, "an object"))
}

pub(crate) fn deny_unknown(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), ConfigError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ConfigError::Type(format!(
            "Unknown option `{path}{}{k}`; expected one of: {}.",
            if path.is_empty() { "" } else { "." },
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Whether `v` is present (absent and `null`/`undefined` are the same to configuration).
pub(crate) fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn issuer_url(s: &Value, path: &str) -> Result<(String, Url), ConfigError> {
    let s = s.as_str().ok_or_else(|| type_error(path, "a string"))?;
    let url =
        http_url(s).ok_or_else(|| ConfigError::Invalid(format!("`{path}` must be an http(s) URL; got `{s}`.")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::Invalid(format!(
            "`{path}` must not have a query or fragment (RFC 8414 §2); got `{s}`."
        )));
    }
    Ok((s.to_owned(), url))
}

struct Parser {
    discoveries: HashMap<(String, ServerType), Arc<Discovery>>,
}

impl Parser {
    fn auth_server(&mut self, v: &Value, path: &str) -> Result<Arc<AuthServer>, ConfigError> {
        let map = object(v, path)?;
        let server_type = match present(map, "type") {
            Some(Value::String(t)) => ServerType::parse(t)
                .ok_or_else(|| ConfigError::Invalid(format!("`{path}.type` must be 'oidc' or 'oauth'; got '{t}'.")))?,
            Some(_) => return Err(type_error(&format!("{path}.type"), "'oidc' or 'oauth'")),
            None => return Err(ConfigError::Invalid(format!("`{path}.type` is required ('oidc' or 'oauth')."))),
        };
        if let Some(metadata) = present(map, "metadata") {
            deny_unknown(map, path, &["type", "metadata"])?;
            let mpath = format!("{path}.metadata");
            let m = object(metadata, &mpath)?;
            let issuer_v =
                present(m, "issuer").ok_or_else(|| ConfigError::Invalid(format!("`{mpath}.issuer` is required.")))?;
            let (issuer, _) = issuer_url(issuer_v, &format!("{mpath}.issuer"))?;
            let jwks_uri = match present(m, "jwksUri") {
                None => None,
                Some(Value::String(s)) if http_url(s).is_some() => Some(s.clone()),
                Some(other) => {
                    return Err(ConfigError::Invalid(format!("`{mpath}.jwksUri` must be an http(s) URL; got {other}.")))
                }
            };
            let discovery =
                Arc::new(Discovery::resolved(ServerMetadata { issuer: issuer.clone(), jwks_uri, document: m.clone() }));
            return Ok(Arc::new(AuthServer { server_type, issuer, discovery }));
        }
        deny_unknown(map, path, &["type", "issuer"])?;
        let issuer_v = present(map, "issuer").ok_or_else(|| {
            ConfigError::Invalid(format!("`{path}` needs `issuer` (discovery) or `metadata` (resolved)."))
        })?;
        let (issuer, url) = issuer_url(issuer_v, &format!("{path}.issuer"))?;
        let discovery = self
            .discoveries
            .entry((issuer.clone(), server_type))
            .or_insert_with(|| Arc::new(Discovery::lazy(&url, &issuer, server_type)))
            .clone();
        Ok(Arc::new(AuthServer { server_type, issuer, discovery }))
    }

    fn resource(&mut self, v: &Value, path: &str) -> Result<ProtectedResource, ConfigError> {
        let map = object(v, path)?;
        deny_unknown(map, path, &["metadata"])?;
        let mpath = format!("{path}.metadata");
        let metadata = object(
            present(map, "metadata").ok_or_else(|| ConfigError::Invalid(format!("`{mpath}` is required.")))?,
            &mpath,
        )?;
        let rpath = format!("{mpath}.resource");
        let resource = match present(metadata, "resource") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(type_error(&rpath, "a string")),
            None => return Err(ConfigError::Invalid(format!("`{rpath}` is required."))),
        };
        let url = http_url(&resource)
            .ok_or_else(|| ConfigError::Invalid(format!("`{rpath}` must be an http(s) URL; got `{resource}`.")))?;
        if url.fragment().is_some() {
            return Err(ConfigError::Invalid(format!(
                "`{rpath}` must not have a fragment (RFC 9728 §1.2); got `{resource}`."
            )));
        }
        let mut auth_servers: Vec<Arc<AuthServer>> = Vec::new();
        let apath = format!("{mpath}.authorizationServers");
        match present(metadata, "authorizationServers") {
            None => {}
            Some(Value::Array(list)) => {
                for (i, s) in list.iter().enumerate() {
                    let server = self.auth_server(s, &format!("{apath}[{i}]"))?;
                    if auth_servers.iter().any(|a| a.issuer == server.issuer) {
                        return Err(ConfigError::Invalid(format!(
                            "`{apath}[{i}].issuer`: the authorization server (issuer `{}`) for resource `{resource}` is duplicated.",
                            server.issuer
                        )));
                    }
                    auth_servers.push(server);
                }
            }
            Some(_) => return Err(type_error(&apath, "an array")),
        }
        for key in ["scopesSupported", "bearerMethodsSupported", "resourceSigningAlgValuesSupported"] {
            if let Some(v) = present(metadata, key) {
                let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                if !ok {
                    return Err(type_error(&format!("{mpath}.{key}"), "an array of strings"));
                }
            }
        }
        Ok(ProtectedResource {
            metadata_url: resource_metadata_url(&url),
            resource,
            metadata: metadata.clone(),
            auth_servers,
        })
    }
}

impl AuthConfig {
    /// Checks a configuration object, naming the first bad field.
    pub fn parse(v: &Value) -> Result<AuthConfig, ConfigError> {
        let map = v.as_object().ok_or_else(|| {
            ConfigError::Type(
                "The MCPAuth configuration must be an object with `protectedResources` or `server`.".into(),
            )
        })?;
        deny_unknown(map, "", &["protectedResources", "server"])?;
        let mut parser = Parser { discoveries: HashMap::new() };
        match (present(map, "protectedResources"), present(map, "server")) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid(
                "Give either `protectedResources` or `server` (legacy), not both.".into(),
            )),
            (None, None) => Err(ConfigError::Invalid(
                "No authorization server or protected resource metadata is provided: give `protectedResources` (or legacy `server`).".into(),
            )),
            (None, Some(server)) => Ok(AuthConfig { mode: Mode::Legacy(parser.auth_server(server, "server")?) }),
            (Some(resources), None) => {
                let list: Vec<(String, &Value)> = match resources {
                    Value::Array(a) if a.is_empty() => {
                        return Err(ConfigError::Invalid("`protectedResources` must not be empty.".into()))
                    }
                    Value::Array(a) => a.iter().enumerate().map(|(i, r)| (format!("protectedResources[{i}]"), r)).collect(),
                    other => vec![("protectedResources".to_owned(), other)],
                };
                let mut out: Vec<ProtectedResource> = Vec::new();
                for (path, r) in list {
                    let parsed = parser.resource(r, &path)?;
                    if out.iter().any(|o| o.resource == parsed.resource) {
                        return Err(ConfigError::Invalid(format!(
                            "`{path}.metadata.resource`: the resource `{}` is duplicated.",
                            parsed.resource
                        )));
                    }
                    out.push(parsed);
                }
                Ok(AuthConfig { mode: Mode::Resources(out) })
            }
        }
    }

    /// Things that are allowed but probably wrong, one sentence each, for the user to see once:
    /// a resource with no authorization servers (clients cannot get a token for it, and
    /// `bearerAuth('jwt')` refuses every token), and `offline_access` in `scopesSupported` (the
    /// MCP specification says a protected resource SHOULD NOT list it).
    pub fn warnings(&self) -> Vec<String> {
        let Mode::Resources(list) = &self.mode else { return Vec::new() };
        let mut out = Vec::new();
        for r in list {
            if r.auth_servers.is_empty() {
                out.push(format!(
                    "The protected resource `{}` has no `authorizationServers`: clients cannot find where to get a token for it, and `bearerAuth('jwt')` refuses every token.",
                    r.resource
                ));
            }
            let scopes = present(&r.metadata, "scopesSupported").and_then(Value::as_array);
            if scopes.is_some_and(|s| s.iter().any(|s| s.as_str() == Some("offline_access"))) {
                out.push(format!(
                    "The protected resource `{}` lists `offline_access` in `scopesSupported`; the MCP specification says a protected resource SHOULD NOT (refresh tokens are between the client and the authorization server), so the metadata document leaves it out.",
                    r.resource
                ));
            }
        }
        out
    }

    /// The resource with this identifier.
    pub fn resource(&self, id: &str) -> Option<&ProtectedResource> {
        match &self.mode {
            Mode::Resources(list) => list.iter().find(|r| r.resource == id),
            Mode::Legacy(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        match AuthConfig::parse(&v) {
            Ok(_) => panic!("accepted {v}"),
            Err(e) => e.message().to_owned(),
        }
    }

    #[test]
    fn metadata_url_inserts_the_well_known_segment() {
        let u = |s: &str| resource_metadata_url(&Url::parse(s).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(u("https://api.example.com"), "https://api.example.com/.well-known/oauth-protected-resource");
        assert_eq!(
            u("https://api.example.com/mcp"),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(u("http://127.0.0.1:3000/a/b"), "http://127.0.0.1:3000/.well-known/oauth-protected-resource/a/b");
    }

    #[test]
    fn accepts_both_forms_and_shares_discovery_per_issuer() {
        let c = AuthConfig::parse(&json!({ "protectedResources": [
            { "metadata": { "resource": "https://a/mcp", "authorizationServers": [{ "type": "oidc", "issuer": "https://i" }] } },
            { "metadata": { "resource": "https://b/mcp", "authorizationServers": [{ "type": "oidc", "issuer": "https://i" }] } }
        ]}));
        let Ok(AuthConfig { mode: Mode::Resources(list) }) = c else { panic!("rejected") };
        assert!(Arc::ptr_eq(&list[0].auth_servers[0].discovery, &list[1].auth_servers[0].discovery));
        assert!(AuthConfig::parse(&json!({ "server": { "type": "oauth", "metadata": { "issuer": "https://i", "jwksUri": "https://i/jwks" } } })).is_ok());
        assert!(
            AuthConfig::parse(&json!({ "protectedResources": { "metadata": { "resource": "https://a" } } })).is_ok()
        );
    }

    #[test]
    fn errors_name_the_bad_field() {
        assert!(err(json!({})).contains("protectedResources"));
        assert!(err(json!({ "protectedResources": [
            { "metadata": { "resource": "https://a" } }, { "metadata": { "resource": "https://a" } }
        ]}))
        .contains("protectedResources[1].metadata.resource"));
        assert!(err(json!({ "protectedResources": { "metadata": { "resource": "not a url" } } }))
            .contains("metadata.resource"));
        assert!(err(json!({ "protectedResources": { "metadata": { "resource": "https://a",
            "authorizationServers": [{ "type": "oidc", "issuer": "nope" }] } } }))
        .contains("protectedResources.metadata.authorizationServers[0].issuer"));
        assert!(err(json!({ "protectedResources": { "metadata": { "resource": "https://a",
            "authorizationServers": [{ "type": "oidc", "issuer": "https://i" }, { "type": "oauth", "issuer": "https://i" }] } } }))
            .contains("duplicated"));
        assert!(err(json!({ "server": { "type": "saml", "issuer": "https://i" } })).contains("server.type"));
        assert!(err(json!({ "server": { "issuer": "https://i" } })).contains("server.type"));
        assert!(err(json!({ "server": { "type": "oidc", "issuer": "https://i?x=1" } })).contains("query"));
        assert!(
            err(json!({ "server": { "type": "oidc", "issuer": "https://i", "extra": 1 } })).contains("server.extra")
        );
        assert!(err(
            json!({ "server": { "type": "oidc", "metadata": { "issuer": "https://i", "jwksUri": "ftp://x" } } })
        )
        .contains("jwksUri"));
        assert!(err(json!({ "protectedResources": [] })).contains("empty"));
        assert!(
            err(json!({ "protectedResources": { "metadata": { "resource": "https://a#f" } } })).contains("fragment")
        );
    }

    #[test]
    fn warns_about_resources_without_servers_and_about_offline_access() {
        let parse = |v: Value| AuthConfig::parse(&v).map(|c| c.warnings()).unwrap_or_else(|e| panic!("{e}"));
        let w = parse(json!({ "protectedResources": [
            { "metadata": { "resource": "https://a", "scopesSupported": ["read", "offline_access"],
                "authorizationServers": [{ "type": "oidc", "issuer": "https://i" }] } },
            { "metadata": { "resource": "https://b" } }
        ]}));
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("The protected resource `https://a` lists `offline_access`"));
        assert!(w[1].starts_with("The protected resource `https://b` has no `authorizationServers`"));
        let quiet =
            parse(json!({ "protectedResources": { "metadata": { "resource": "https://a", "scopesSupported": ["read"],
            "authorizationServers": [{ "type": "oidc", "issuer": "https://i" }] } } }));
        assert!(quiet.is_empty());
        assert!(parse(json!({ "server": { "type": "oidc", "issuer": "https://i" } })).is_empty());
    }

    #[test]
    fn type_mistakes_are_type_errors() {
        assert!(matches!(AuthConfig::parse(&json!(5)), Err(ConfigError::Type(_))));
        assert!(matches!(AuthConfig::parse(&json!({ "servers": {} })), Err(ConfigError::Type(_))));
        assert!(matches!(
            AuthConfig::parse(
                &json!({ "protectedResources": { "metadata": { "resource": "https://a", "scopesSupported": "read" } } })
            ),
            Err(ConfigError::Type(_))
        ));
    }
}
