//! Comparing audiences (RFC 7519 §4.1.3, RFC 8707).

use url::Url;

/// The form of an audience value used for comparison.
///
/// Absolute URLs are compared as canonical URIs: scheme and host lowercased, default port
/// dropped, a lone trailing `/` at the end of the path ignored. Anything else is compared exactly.
pub fn canonical(value: &str) -> String {
    match Url::parse(value) {
        Ok(url) if url.has_host() => {
            let mut s = String::from(url.as_str());
            if url.query().is_none() && url.fragment().is_none() && s.ends_with('/') {
                s.pop();
            }
            s
        }
        _ => value.to_owned(),
    }
}

/// An expected audience, pre-canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedAudience {
    /// As configured, for error details.
    pub configured: Vec<String>,
    canonical: Vec<String>,
}

impl ExpectedAudience {
    /// Any one of `values` matches.
    pub fn new(values: Vec<String>) -> Self {
        let canonical = values.iter().map(|v| canonical(v)).collect();
        Self { configured: values, canonical }
    }

    /// Whether one of the token's audiences is one of the expected ones.
    pub fn matches<'a>(&self, token_audiences: impl IntoIterator<Item = &'a str>) -> bool {
        token_audiences.into_iter().any(|aud| {
            let aud = canonical(aud);
            self.canonical.contains(&aud)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_case_and_a_trailing_slash_do_not_matter() {
        let e = ExpectedAudience::new(vec!["https://api.example.com/mcp".into()]);
        assert!(e.matches(["HTTPS://API.Example.com/mcp"]));
        assert!(e.matches(["https://api.example.com/mcp/"]));
        assert!(e.matches(["https://api.example.com:443/mcp"]));
    }

    #[test]
    fn paths_are_case_sensitive_and_must_match() {
        let e = ExpectedAudience::new(vec!["https://api.example.com/mcp".into()]);
        assert!(!e.matches(["https://api.example.com/MCP"]));
        assert!(!e.matches(["https://api.example.com/mcp/x"]));
        assert!(!e.matches(["https://api.example.com/mcp//"]));
        assert!(!e.matches(["https://evil.example.com/mcp"]));
    }

    #[test]
    fn host_only_resources_match_with_or_without_slash() {
        let e = ExpectedAudience::new(vec!["https://api.example.com".into()]);
        assert!(e.matches(["https://api.example.com/"]));
        assert!(e.matches(["https://api.example.com"]));
    }

    #[test]
    fn non_urls_are_compared_exactly() {
        let e = ExpectedAudience::new(vec!["api://default".into(), "my-api".into()]);
        assert!(e.matches(["my-api"]));
        assert!(!e.matches(["MY-API"]));
        assert!(e.matches(["other", "api://default"]));
    }

    #[test]
    fn any_listed_audience_matches() {
        let e = ExpectedAudience::new(vec!["a".into(), "b".into()]);
        assert!(e.matches(["x", "b"]));
        assert!(!e.matches(Vec::<&str>::new()));
    }
}
