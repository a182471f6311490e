//! What the `/scim/v2` edge asks the port, and what it answers: one request
//! type for every SCIM operation, so authorization and audit stay in one
//! place whatever the route.

use super::schema::ResourceKind;
use serde_json::Value;

/// One SCIM operation, as parsed from HTTP (bodies still raw JSON: the port
/// validates them against the schema).
#[derive(Debug, Clone, PartialEq)]
pub enum ScimRequest {
    ServiceProviderConfig,
    ResourceTypes,
    ResourceType(String),
    Schemas,
    Schema(String),
    /// The query's `(name, value)` pairs: filter, startIndex, count,
    /// attributes, excludedAttributes.
    List {
        kind: ResourceKind,
        query: Vec<(String, String)>,
    },
    Get {
        kind: ResourceKind,
        id: String,
        query: Vec<(String, String)>,
    },
    Create {
        kind: ResourceKind,
        body: Value,
    },
    /// PUT: the whole resource. `if_match` is the `If-Match` header.
    Replace {
        kind: ResourceKind,
        id: String,
        body: Value,
        if_match: Option<String>,
    },
    Patch {
        kind: ResourceKind,
        id: String,
        body: Value,
        if_match: Option<String>,
    },
    Delete {
        kind: ResourceKind,
        id: String,
        if_match: Option<String>,
    },
}

/// A successful answer: its status, body (none for 204) and, for a single
/// resource, its ETag and (when created) its location.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimAnswer {
    pub status: u16,
    pub body: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl ScimAnswer {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
            etag: None,
            location: None,
        }
    }
}
