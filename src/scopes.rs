//! Which scopes a request needs and whether a token's grants cover them: `requiredScopes`, the
//! scopes of the MCP operation (`toolScopes`, `scopesFor`), and `scopeHierarchy` (MCP
//! authorization, "Runtime Insufficient Scope Errors"; RFC 6750 §3.1 `insufficient_scope`).

use crate::error::{AuthError, ErrorCode};
use crate::options::is_scope_token;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The scope that asks for a refresh token: never put in a challenge (MCP 2026-07-28: SHOULD NOT).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The MCP method whose operations `toolScopes` names.
pub const TOOLS_CALL: &str = "tools/call";

/// `scopeHierarchy`, closed once: a granted scope implies the scopes it lists, transitively. A
/// cycle makes its scopes equivalent. Defaults to no hierarchy (a scope implies only itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    /// For each implied scope, the other scopes that imply it.
    implied_by: HashMap<String, Vec<String>>,
}

impl ScopeHierarchy {
    /// Closes `edges` (`scope → scopes it implies`) transitively.
    pub fn new(edges: &[(String, Vec<String>)]) -> ScopeHierarchy {
        let direct: HashMap<&str, &[String]> = edges.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        let mut implied_by: HashMap<String, Vec<String>> = HashMap::new();
        for (broad, _) in edges {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack: Vec<&str> = vec![broad.as_str()];
            while let Some(scope) = stack.pop() {
                for narrow in direct.get(scope).copied().unwrap_or_default() {
                    if seen.insert(narrow.as_str()) {
                        stack.push(narrow.as_str());
                    }
                }
            }
            for narrow in seen.into_iter().filter(|n| *n != broad) {
                let by = implied_by.entry(narrow.to_owned()).or_default();
                if !by.contains(broad) {
                    by.push(broad.clone());
                }
            }
        }
        ScopeHierarchy { implied_by }
    }

    /// Whether there is no hierarchy at all.
    pub fn is_empty(&self) -> bool {
        self.implied_by.is_empty()
    }

    /// Whether `granted` covers `scope`: it is granted, or a granted scope implies it.
    pub fn covers(&self, granted: &[String], scope: &str) -> bool {
        granted.iter().any(|g| g == scope)
            || self.implied_by.get(scope).is_some_and(|by| by.iter().any(|b| granted.contains(b)))
    }

    /// The scopes of `required` that `granted` does not cover, in order.
    pub fn missing(&self, granted: &[String], required: &[String]) -> Vec<String> {
        required.iter().filter(|s| !self.covers(granted, s)).cloned().collect()
    }
}

/// One JSON-RPC operation of a request: its `method`, and for `tools/call` and `prompts/get` the
/// `params.name`, for `resources/read` the `params.uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The JSON-RPC method.
    pub method: String,
    /// The tool, prompt or resource it names, when it names one.
    pub name: Option<String>,
}

/// What one request asks to do, as the glue read it from the parsed body and the `Mcp-Method` /
/// `Mcp-Name` headers, with the answers of `scopesFor` for each operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requested {
    /// Every operation of the body (a batch has several) and of the headers.
    pub operations: Vec<Operation>,
    /// What `scopesFor` returned, per operation: an array of scopes, or `null` for none.
    pub scopes_for: Vec<Value>,
    /// A POST whose operation cannot be known: no parsed body and no `Mcp-Method` header.
    pub unreadable: bool,
}

/// The per-operation part of a middleware's scope rules. Defaults to none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationScopes {
    /// `toolScopes`: what a `tools/call` of each tool needs.
    pub tools: HashMap<String, Vec<String>>,
    /// Whether a `scopesFor` function is configured (it runs in JS; its answers are checked here).
    pub scopes_for: bool,
}

impl OperationScopes {
    /// Whether any operation can need more than `requiredScopes`.
    pub fn is_active(&self) -> bool {
        !self.tools.is_empty() || self.scopes_for
    }

    /// Every scope a request needs: `required` first, then each operation's, each once.
    pub fn needed(&self, required: &[String], requested: &Requested) -> Result<Vec<String>, AuthError> {
        if requested.unreadable {
            return Err(AuthError::new(ErrorCode::UnparsedBody));
        }
        let mut needed: Vec<String> = required.to_vec();
        let mut add = |scope: &str| {
            if !needed.iter().any(|s| s == scope) {
                needed.push(scope.to_owned());
            }
        };
        for op in &requested.operations {
            if op.method == TOOLS_CALL {
                if let Some(scopes) = op.name.as_ref().and_then(|n| self.tools.get(n)) {
                    scopes.iter().for_each(|s| add(s));
                }
            }
        }
        for answer in &requested.scopes_for {
            match answer {
                Value::Null => {}
                Value::Array(list) => {
                    for item in list {
                        match item.as_str() {
                            Some(s) if is_scope_token(s) => add(s),
                            _ => {
                                return Err(AuthError::with_reason(
                                    ErrorCode::InvalidScopesFor,
                                    "An entry of its array is not an RFC 6749 scope token.",
                                ))
                            }
                        }
                    }
                }
                _ => {
                    return Err(AuthError::with_reason(
                        ErrorCode::InvalidScopesFor,
                        format!("It returned {} instead of an array.", kind(answer)),
                    ))
                }
            }
        }
        Ok(needed)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The challenge's `scope` value: every needed scope but `offline_access`, space-separated;
/// `None` when that leaves nothing.
pub fn challenge_scope(needed: &[String]) -> Option<String> {
    let shown: Vec<&str> = needed.iter().map(String::as_str).filter(|s| *s != OFFLINE_ACCESS).collect();
    (!shown.is_empty()).then(|| shown.join(" "))
}

/// Checks `granted` against `needed` under `hierarchy`: the error lists what is still missing
/// after the hierarchy is applied (its challenge names every needed scope: `Guard::reject_for`).
pub fn check(hierarchy: &ScopeHierarchy, granted: &[String], needed: &[String]) -> Result<(), AuthError> {
    let missing = hierarchy.missing(granted, needed);
    if missing.is_empty() {
        return Ok(());
    }
    Err(AuthError::missing_scopes(missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn hierarchy(v: Value) -> ScopeHierarchy {
        let edges: Vec<(String, Vec<String>)> = v
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let list = v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned));
                        (k.clone(), list.map(Iterator::collect).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        ScopeHierarchy::new(&edges)
    }

    #[test]
    fn a_hierarchy_is_transitive() {
        let h = hierarchy(json!({ "admin": ["write"], "write": ["read"] }));
        assert!(h.covers(&s(&["admin"]), "read"));
        assert!(h.covers(&s(&["write"]), "read"));
        assert!(!h.covers(&s(&["read"]), "write"), "narrower never implies broader");
        assert_eq!(h.missing(&s(&["write"]), &s(&["read", "write", "admin"])), ["admin"]);
    }

    #[test]
    fn a_cycle_makes_its_scopes_equivalent() {
        let h = hierarchy(json!({ "a": ["b"], "b": ["c"], "c": ["a"] }));
        for granted in ["a", "b", "c"] {
            assert!(h.missing(&s(&[granted]), &s(&["a", "b", "c"])).is_empty(), "{granted}");
        }
        let self_loop = hierarchy(json!({ "a": ["a"] }));
        assert!(self_loop.is_empty());
        assert_eq!(self_loop.missing(&s(&[]), &s(&["a"])), ["a"]);
    }

    #[test]
    fn without_a_hierarchy_only_the_scope_itself_counts() {
        let h = ScopeHierarchy::default();
        assert_eq!(h.missing(&s(&["read"]), &s(&["read", "write"])), ["write"]);
    }

    fn tools(v: Value) -> OperationScopes {
        let tools = v
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        OperationScopes { tools, scopes_for: false }
    }

    fn call(name: &str) -> Operation {
        Operation { method: TOOLS_CALL.into(), name: Some(name.into()) }
    }

    #[test]
    fn a_batch_needs_the_union_of_its_operations_after_the_required_scopes() {
        let t = tools(json!({ "delete": ["files:write", "audit"], "read": ["files:read"], "echo": [] }));
        let requested = Requested {
            operations: vec![call("read"), call("echo"), call("delete"), call("read")],
            ..Requested::default()
        };
        assert_eq!(
            t.needed(&s(&["base", "audit"]), &requested).ok(),
            Some(s(&["base", "audit", "files:read", "files:write"]))
        );
    }

    #[test]
    fn tool_scopes_apply_to_tools_call_only_and_unknown_tools_need_nothing_more() {
        let t = tools(json!({ "admin": ["admin"] }));
        let other = Requested {
            operations: vec![
                Operation { method: "prompts/get".into(), name: Some("admin".into()) },
                call("unknown"),
                Operation { method: TOOLS_CALL.into(), name: None },
            ],
            ..Requested::default()
        };
        assert_eq!(t.needed(&s(&["base"]), &other).ok(), Some(s(&["base"])));
    }

    #[test]
    fn scopes_for_answers_are_added_and_checked() {
        let t = OperationScopes { scopes_for: true, ..OperationScopes::default() };
        let ok = Requested { scopes_for: vec![json!(["x", "y"]), Value::Null, json!([])], ..Requested::default() };
        assert_eq!(t.needed(&s(&["x"]), &ok).ok(), Some(s(&["x", "y"])));
        for (bad, reason) in [
            (json!("x"), "It returned a string instead of an array."),
            (json!({}), "It returned an object instead of an array."),
            (json!(["a b"]), "An entry of its array is not an RFC 6749 scope token."),
            (json!([7]), "An entry of its array is not an RFC 6749 scope token."),
        ] {
            let requested = Requested { scopes_for: vec![bad.clone()], ..Requested::default() };
            let e = t.needed(&[], &requested).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!((e.code, e.reason()), (ErrorCode::InvalidScopesFor, Some(reason)), "{bad}");
        }
    }

    #[test]
    fn an_unreadable_request_is_a_server_error() {
        let t = tools(json!({ "a": ["b"] }));
        let e = t.needed(&[], &Requested { unreadable: true, ..Requested::default() }).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::UnparsedBody));
    }

    #[test]
    fn the_check_lists_what_is_missing_after_the_hierarchy_and_challenges_for_everything_needed() {
        let h = hierarchy(json!({ "files:admin": ["files:write", "files:read"] }));
        let needed = s(&["mcp", "files:read", "files:write", "offline_access"]);
        assert!(check(&h, &s(&["mcp", "files:admin", "offline_access"]), &needed).is_ok());
        let e = check(&h, &s(&["mcp", "files:read"]), &needed).err().unwrap_or_else(|| panic!("passed"));
        assert_eq!(e.code, ErrorCode::MissingRequiredScopes);
        assert_eq!(e.missing_scopes, ["files:write", "offline_access"]);
        assert_eq!(challenge_scope(&needed).as_deref(), Some("mcp files:read files:write"), "no offline_access");
    }

    #[test]
    fn a_challenge_scope_of_only_offline_access_is_left_out() {
        assert_eq!(challenge_scope(&s(&["offline_access"])), None);
        assert_eq!(challenge_scope(&s(&["a", "b"])).as_deref(), Some("a b"));
    }
}
