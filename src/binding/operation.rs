//! The MCP operation of one request, as the glue read it from `req.body` and the `Mcp-Method` /
//! `Mcp-Name` headers, converted to [`Requested`]. The rules are in `crate::scopes`.

use crate::scopes::{Operation, Requested};
use napi_derive::napi;
use serde_json::Value;

/// One JSON-RPC operation.
#[napi(object, js_name = "Operation")]
pub struct JsOperation {
    /// The JSON-RPC method.
    pub method: String,
    /// `params.name` (`tools/call`, `prompts/get`) or `params.uri` (`resources/read`).
    pub name: Option<String>,
}

/// What one request asks to do.
#[napi(object, js_name = "Requested")]
pub struct JsRequested {
    /// The operations of the body and of the headers.
    pub operations: Vec<JsOperation>,
    /// `scopesFor`'s answer for each operation (`null` for `undefined`).
    pub scopes_for: Option<Vec<Value>>,
    /// A POST with neither a parsed body nor `Mcp-Method`.
    pub unreadable: Option<bool>,
}

impl From<JsRequested> for Requested {
    fn from(r: JsRequested) -> Self {
        Requested {
            operations: r.operations.into_iter().map(|o| Operation { method: o.method, name: o.name }).collect(),
            scopes_for: r.scopes_for.unwrap_or_default(),
            unreadable: r.unreadable.unwrap_or(false),
        }
    }
}
