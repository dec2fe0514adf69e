//! `validateServerConfig`: does an authorization server offer what MCP clients need (the
//! authorization code flow with PKCE `S256`, RFC 7636; dynamic client registration, RFC 7591)?
//!
//! Advice only: nothing here rejects a configuration or a request. Codes, descriptions and the
//! order of checks are those of `mcp-auth` 0.2.0, so results compare equal.

use serde_json::{Map, Value};

macro_rules! result_codes {
    ($(#[$enum_doc:meta])* $name:ident { $( $(#[$doc:meta])* $variant:ident => ($wire:literal, $desc:literal), )* }) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
        }

        impl $name {
            /// The snake_case code.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire, )* }
            }

            /// The human-readable description.
            pub fn description(self) -> &'static str {
                match self { $( Self::$variant => $desc, )* }
            }
        }
    };
}

result_codes! {
    /// A check that failed: clients following the MCP specification cannot use the server.
    CheckError {
        /// The metadata is not an object or a member has the wrong type.
        InvalidServerMetadata => ("invalid_server_metadata",
            "The server metadata is not a valid object or does not conform to the expected schema."),
        /// No `response_types_supported` entry contains `code`.
        CodeResponseTypeNotSupported => ("code_response_type_not_supported",
            "The server does not support the \"code\" response type or the \"code\" response type is not included in one of the supported response types."),
        /// `grant_types_supported` lacks `authorization_code`.
        AuthorizationCodeGrantNotSupported => ("authorization_code_grant_not_supported",
            "The server does not support the \"authorization_code\" grant type."),
        /// No `code_challenge_methods_supported`.
        PkceNotSupported => ("pkce_not_supported",
            "The server does not support Proof Key for Code Exchange (PKCE)."),
        /// `code_challenge_methods_supported` lacks `S256`.
        S256CodeChallengeMethodNotSupported => ("s256_code_challenge_method_not_supported",
            "The server does not support the \"S256\" code challenge method for Proof Key for Code Exchange (PKCE)."),
    }
}

result_codes! {
    /// Something clients would like that the server does not offer.
    CheckWarning {
        /// No `registration_endpoint`.
        DynamicRegistrationNotSupported => ("dynamic_registration_not_supported",
            "Dynamic Client Registration (RFC 7591) is not supported by the server."),
    }
}

result_codes! {
    /// A check that passed (reported in verbose mode).
    CheckSuccess {
        /// The metadata has the expected shape.
        ServerMetadataValid => ("server_metadata_valid",
            "The server metadata is valid and conforms to the expected schema."),
        /// A `registration_endpoint` is published.
        DynamicRegistrationSupported => ("dynamic_registration_supported",
            "Dynamic Client Registration (RFC 7591) is supported by the server."),
        /// `code_challenge_methods_supported` is published.
        PkceSupported => ("pkce_supported",
            "Proof Key for Code Exchange (PKCE) is supported by the server."),
        /// `S256` is among the code challenge methods.
        S256CodeChallengeMethodSupported => ("s256_code_challenge_method_supported",
            "The \"S256\" code challenge method for Proof Key for Code Exchange (PKCE) is supported by the server."),
        /// `authorization_code` is among the grant types (or the list is absent: RFC 8414 §2 default).
        AuthorizationCodeGrantSupported => ("authorization_code_grant_supported",
            "The \"authorization_code\" grant type is supported by the server."),
        /// Some `response_types_supported` entry contains `code`.
        CodeResponseTypeSupported => ("code_response_type_supported",
            "The \"code\" response type is supported by the server."),
    }
}

/// The JSON type a metadata member must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// An array of strings.
    StrArray,
}

impl Kind {
    fn fits(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::StrArray => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        }
    }

    /// `a string` or `an array of strings`.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::StrArray => "an array of strings",
        }
    }
}

/// The RFC 8414 §2 members `mcp-auth` knows, in camelCase, with their type and whether `mcp-auth`
/// requires them.
pub const MEMBERS: &[(&str, Kind, bool)] = &[
    ("issuer", Kind::Str, true),
    ("authorizationEndpoint", Kind::Str, true),
    ("tokenEndpoint", Kind::Str, true),
    ("jwksUri", Kind::Str, false),
    ("registrationEndpoint", Kind::Str, false),
    ("scopesSupported", Kind::StrArray, false),
    ("responseTypesSupported", Kind::StrArray, true),
    ("responseModesSupported", Kind::StrArray, false),
    ("grantTypesSupported", Kind::StrArray, false),
    ("tokenEndpointAuthMethodsSupported", Kind::StrArray, false),
    ("tokenEndpointAuthSigningAlgValuesSupported", Kind::StrArray, false),
    ("serviceDocumentation", Kind::Str, false),
    ("uiLocalesSupported", Kind::StrArray, false),
    ("opPolicyUri", Kind::Str, false),
    ("opTosUri", Kind::Str, false),
    ("revocationEndpoint", Kind::Str, false),
    ("revocationEndpointAuthMethodsSupported", Kind::StrArray, false),
    ("revocationEndpointAuthSigningAlgValuesSupported", Kind::StrArray, false),
    ("introspectionEndpoint", Kind::Str, false),
    ("introspectionEndpointAuthMethodsSupported", Kind::StrArray, false),
    ("introspectionEndpointAuthSigningAlgValuesSupported", Kind::StrArray, false),
    ("codeChallengeMethodsSupported", Kind::StrArray, false),
    ("userinfoEndpoint", Kind::Str, false),
];

/// A member that is missing or has the wrong type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaProblem {
    /// The camelCase member name.
    pub member: &'static str,
    /// What it must be.
    pub kind: Kind,
    /// Whether it is missing (as opposed to present with the wrong type).
    pub missing: bool,
}

/// The first known member of camelCase `metadata` that has the wrong type, or that is missing
/// while required (when `require` is set). `null` counts as absent.
pub fn schema_problem(metadata: &Map<String, Value>, require: bool) -> Option<SchemaProblem> {
    MEMBERS.iter().find_map(|&(member, kind, required)| match metadata.get(member) {
        None | Some(Value::Null) => (require && required).then_some(SchemaProblem { member, kind, missing: true }),
        Some(v) if !kind.fits(v) => Some(SchemaProblem { member, kind, missing: false }),
        Some(_) => None,
    })
}

/// The outcome of every check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Failed checks, each with an optional explanation.
    pub errors: Vec<(CheckError, Option<String>)>,
    /// Warnings.
    pub warnings: Vec<CheckWarning>,
    /// Passed checks.
    pub successes: Vec<CheckSuccess>,
}

fn strings<'a>(m: &'a Map<String, Value>, member: &str) -> Option<impl Iterator<Item = &'a str>> {
    m.get(member).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str))
}

/// Checks camelCase authorization server metadata (the `metadata` of a resolved config).
pub fn validate(metadata: Option<&Value>) -> Report {
    let mut report = Report::default();
    let m = match metadata {
        Some(Value::Object(m)) => m,
        _ => {
            report.errors.push((CheckError::InvalidServerMetadata, Some("`metadata` must be an object.".into())));
            return report;
        }
    };
    if let Some(p) = schema_problem(m, true) {
        let why = if p.missing { "is required and must be" } else { "must be" };
        let cause = format!("`metadata.{}` {why} {}.", p.member, p.kind.describe());
        report.errors.push((CheckError::InvalidServerMetadata, Some(cause)));
        return report;
    }
    report.successes.push(CheckSuccess::ServerMetadataValid);

    let code = strings(m, "responseTypesSupported").is_some_and(|mut t| t.any(|t| t.split(' ').any(|p| p == "code")));
    match code {
        true => report.successes.push(CheckSuccess::CodeResponseTypeSupported),
        false => report.errors.push((CheckError::CodeResponseTypeNotSupported, None)),
    }

    // RFC 8414 §2: an absent `grant_types_supported` means ["authorization_code", "implicit"].
    let grant = strings(m, "grantTypesSupported").is_none_or(|mut g| g.any(|g| g == "authorization_code"));
    match grant {
        true => report.successes.push(CheckSuccess::AuthorizationCodeGrantSupported),
        false => report.errors.push((CheckError::AuthorizationCodeGrantNotSupported, None)),
    }

    match strings(m, "codeChallengeMethodsSupported") {
        Some(mut methods) => {
            report.successes.push(CheckSuccess::PkceSupported);
            match methods.any(|c| c == "S256") {
                true => report.successes.push(CheckSuccess::S256CodeChallengeMethodSupported),
                false => report.errors.push((CheckError::S256CodeChallengeMethodNotSupported, None)),
            }
        }
        None => report.errors.push((CheckError::PkceNotSupported, None)),
    }

    match m.get("registrationEndpoint").and_then(Value::as_str) {
        Some(s) if !s.is_empty() => report.successes.push(CheckSuccess::DynamicRegistrationSupported),
        _ => report.warnings.push(CheckWarning::DynamicRegistrationNotSupported),
    }
    report
}

fn entry(code: &str, description: &str) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("code".into(), Value::String(code.into()));
    e.insert("description".into(), Value::String(description.into()));
    e
}

impl Report {
    /// Whether no check failed.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// `mcp-auth`'s result shape: `{ isValid, errors?, warnings, successes? }`; `errors` only when
    /// there are some, `successes` only when `verbose`. An error's `cause` is a sentence here.
    pub fn to_json(&self, verbose: bool) -> Value {
        let mut out = Map::new();
        out.insert("isValid".into(), Value::Bool(self.is_valid()));
        if !self.errors.is_empty() {
            let errors = self.errors.iter().map(|(code, cause)| {
                let mut e = entry(code.as_str(), code.description());
                if let Some(cause) = cause {
                    e.insert("cause".into(), Value::String(cause.clone()));
                }
                Value::Object(e)
            });
            out.insert("errors".into(), Value::Array(errors.collect()));
        }
        let warnings = self.warnings.iter().map(|w| Value::Object(entry(w.as_str(), w.description())));
        out.insert("warnings".into(), Value::Array(warnings.collect()));
        if verbose {
            let successes = self.successes.iter().map(|s| Value::Object(entry(s.as_str(), s.description())));
            out.insert("successes".into(), Value::Array(successes.collect()));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn complete() -> Value {
        json!({
            "issuer": "https://as.example.com",
            "authorizationEndpoint": "https://as.example.com/authorize",
            "tokenEndpoint": "https://as.example.com/token",
            "responseTypesSupported": ["code"],
            "grantTypesSupported": ["authorization_code", "refresh_token"],
            "codeChallengeMethodsSupported": ["S256"],
            "registrationEndpoint": "https://as.example.com/register"
        })
    }

    fn with(changes: Value) -> Value {
        let mut m = complete();
        if let (Some(m), Some(c)) = (m.as_object_mut(), changes.as_object()) {
            for (k, v) in c {
                if v.is_null() {
                    m.remove(k);
                } else {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        m
    }

    fn error_codes(r: &Report) -> Vec<&'static str> {
        r.errors.iter().map(|(c, _)| c.as_str()).collect()
    }

    #[test]
    fn complete_metadata_passes_every_check_in_mcp_auth_order() {
        let r = validate(Some(&complete()));
        assert!(r.is_valid());
        assert!(r.warnings.is_empty());
        let codes: Vec<_> = r.successes.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            codes,
            [
                "server_metadata_valid",
                "code_response_type_supported",
                "authorization_code_grant_supported",
                "pkce_supported",
                "s256_code_challenge_method_supported",
                "dynamic_registration_supported"
            ]
        );
    }

    #[test]
    fn missing_or_mistyped_members_are_invalid_server_metadata_and_stop_the_checks() {
        let r = validate(Some(&with(json!({ "tokenEndpoint": null }))));
        assert_eq!(error_codes(&r), ["invalid_server_metadata"]);
        assert_eq!(r.errors[0].1.as_deref(), Some("`metadata.tokenEndpoint` is required and must be a string."));
        assert!(r.successes.is_empty() && r.warnings.is_empty());
        let r = validate(Some(&with(json!({ "scopesSupported": "read write" }))));
        assert_eq!(r.errors[0].1.as_deref(), Some("`metadata.scopesSupported` must be an array of strings."));
        assert_eq!(error_codes(&validate(Some(&json!("nope")))), ["invalid_server_metadata"]);
        assert_eq!(error_codes(&validate(None)), ["invalid_server_metadata"]);
    }

    #[test]
    fn code_may_be_one_of_several_space_separated_response_types() {
        assert!(validate(Some(&with(json!({ "responseTypesSupported": ["id_token", "code id_token"] })))).is_valid());
        let r = validate(Some(&with(json!({ "responseTypesSupported": ["token", "codes"] }))));
        assert_eq!(error_codes(&r), ["code_response_type_not_supported"]);
    }

    #[test]
    fn absent_grant_types_default_to_authorization_code() {
        assert!(validate(Some(&with(json!({ "grantTypesSupported": null })))).is_valid());
        let r = validate(Some(&with(json!({ "grantTypesSupported": ["client_credentials"] }))));
        assert_eq!(error_codes(&r), ["authorization_code_grant_not_supported"]);
    }

    #[test]
    fn pkce_needs_the_member_and_s256() {
        let r = validate(Some(&with(json!({ "codeChallengeMethodsSupported": null }))));
        assert_eq!(error_codes(&r), ["pkce_not_supported"]);
        let r = validate(Some(&with(json!({ "codeChallengeMethodsSupported": ["plain"] }))));
        assert_eq!(error_codes(&r), ["s256_code_challenge_method_not_supported"]);
        assert!(r.successes.contains(&CheckSuccess::PkceSupported));
        let r = validate(Some(&with(json!({ "codeChallengeMethodsSupported": [] }))));
        assert_eq!(error_codes(&r), ["s256_code_challenge_method_not_supported"]);
    }

    #[test]
    fn no_registration_endpoint_is_only_a_warning() {
        for missing in [json!({ "registrationEndpoint": null }), json!({ "registrationEndpoint": "" })] {
            let r = validate(Some(&with(missing)));
            assert!(r.is_valid());
            assert_eq!(r.warnings, [CheckWarning::DynamicRegistrationNotSupported]);
        }
    }

    #[test]
    fn json_shape_has_errors_only_when_failing_and_successes_only_when_verbose() {
        let ok = validate(Some(&complete()));
        let quiet = ok.to_json(false);
        assert_eq!(quiet, json!({ "isValid": true, "warnings": [] }));
        assert_eq!(ok.to_json(true)["successes"][0]["code"], "server_metadata_valid");
        let bad = validate(Some(&with(json!({ "codeChallengeMethodsSupported": null, "registrationEndpoint": null }))));
        assert_eq!(
            bad.to_json(false),
            json!({
                "isValid": false,
                "errors": [{ "code": "pkce_not_supported", "description": CheckError::PkceNotSupported.description() }],
                "warnings": [{
                    "code": "dynamic_registration_not_supported",
                    "description": "Dynamic Client Registration (RFC 7591) is not supported by the server."
                }]
            })
        );
    }

    #[test]
    fn schema_problem_without_require_only_checks_types() {
        let m = json!({ "issuer": "https://i", "jwksUri": 5 });
        let map = m.as_object().cloned().unwrap_or_default();
        assert_eq!(
            schema_problem(&map, false),
            Some(SchemaProblem { member: "jwksUri", kind: Kind::Str, missing: false })
        );
        let m = json!({ "issuer": "https://i" });
        assert_eq!(schema_problem(m.as_object().unwrap_or(&Map::new()), false), None);
    }
}
