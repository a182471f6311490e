//! What the `/scim/v2` edge asks the port, and what it answers: one request
//! type for every SCIM operation, so authorization and audit stay in one
//! place whatever the route.

use super::resource::etag;
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
    /// `POST /.search` (every resource type, `kind` none) or
    /// `POST /{Users,Groups}/.search`: a list whose query came as a
    /// SearchRequest body, turned into the same pairs.
    Search {
        kind: Option<ResourceKind>,
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

    /// 200 with one resource (a full representation) at `version`, whose
    /// ETag the client sends back in `If-Match` (RFC 7644 §3.14).
    pub fn resource(full: Value, version: i64) -> Self {
        Self {
            etag: Some(etag(&version.to_string())),
            ..Self::ok(full)
        }
    }

    /// 201 with the resource just created, and its `meta.location` as the
    /// `Location` header (RFC 7644 §3.3).
    pub fn created(full: Value, version: i64) -> Self {
        let location = full["meta"]["location"].as_str().map(str::to_owned);
        Self {
            status: 201,
            location,
            ..Self::resource(full, version)
        }
    }

    /// 204: deleted.
    pub fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
            etag: None,
            location: None,
        }
    }
}

/// The SearchRequest message (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A SearchRequest body as the list query's `(name, value)` pairs.
pub fn search_query(body: &Value) -> Result<Vec<(String, String)>, super::ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| super::ScimError::invalid_syntax("the body must be a JSON object"))?;
    let mut pairs = Vec::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    super::ScimError::invalid_value(format!("{key} must be a list of strings"))
                })?
                .join(","),
            Value::Null => continue,
            _ => {
                return Err(super::ScimError::invalid_value(format!(
                    "{key} must be a string, number or list of strings"
                )));
            }
        };
        pairs.push((key.clone(), text));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_search_body_becomes_list_query_pairs() {
        let pairs = search_query(&json!({
            "schemas": [SEARCH_REQUEST],
            "attributes": ["userName", "name.givenName"],
            "filter": "userName sw \"a\"",
            "startIndex": 1,
            "count": 10,
            "sortBy": null
        }))
        .unwrap();
        assert!(pairs.contains(&("attributes".into(), "userName,name.givenName".into())));
        assert!(pairs.contains(&("filter".into(), "userName sw \"a\"".into())));
        assert!(pairs.contains(&("count".into(), "10".into())));
        assert_eq!(pairs.len(), 4);
        assert!(search_query(&json!({"attributes": [1]})).is_err());
        assert!(search_query(&json!([])).is_err());
    }

    #[test]
    fn answers_carry_their_etag_and_location() {
        let full = json!({"id": "u1", "meta": {"location": "https://h/scim/v2/Users/u1"}});
        let read = ScimAnswer::resource(full.clone(), 3);
        assert_eq!(
            (read.status, read.etag.as_deref(), read.location.as_deref()),
            (200, Some("W/\"3\""), None)
        );
        assert_eq!(read.body.as_ref(), Some(&full));
        let created = ScimAnswer::created(full, 1);
        assert_eq!(
            (created.status, created.etag.as_deref()),
            (201, Some("W/\"1\""))
        );
        assert_eq!(
            created.location.as_deref(),
            Some("https://h/scim/v2/Users/u1")
        );
        let gone = ScimAnswer::no_content();
        assert_eq!((gone.status, gone.body, gone.etag), (204, None, None));
    }
}
