//! SCIM Users and Groups as the server handles them: a client body is
//! checked and reduced to the stored document ([`normalize`]), PATCHed
//! ([`apply_patch`]), given back its `id`, `schemas` and `meta`
//! ([`with_meta`]) and cut to what the client asked for ([`project`]).
//!
//! The stored document is plain JSON: the schema's attributes in canonical
//! spelling, extension attributes under their URN, nothing read-only.

pub use super::normalize::normalize;
pub use super::patch::{MAX_OPERATIONS, apply_patch};
pub use super::project::project;

use super::error::ScimError;
use super::schema::ResourceKind;
use serde_json::{Map, Value};

/// The `meta.version` and `ETag` form of a version: `W/"{version}"`
/// (RFC 7644 §3.14). A version already quoted is kept as it is.
pub fn etag(version: &str) -> String {
    if version.starts_with("W/\"") || version.starts_with('"') {
        version.to_owned()
    } else {
        format!("W/\"{version}\"")
    }
}

/// Whether an `If-Match` header value allows changing the resource at
/// `version`: `*`, or a list of entity tags one of which is the current
/// one (weak comparison, RFC 9110 §13.1.1, which is what SCIM's weak ETags
/// need).
pub fn if_match(header: &str, version: &str) -> bool {
    let current = etag(version);
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let current = strip(&current);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || strip(tag) == current)
}

/// Refuses a change to `kind`'s resource at `version` when the client's
/// `If-Match` names another version: 412, so it reads the resource again
/// instead of overwriting a change it hasn't seen.
pub fn check_if_match(
    kind: ResourceKind,
    header: Option<&str>,
    version: i64,
) -> Result<(), ScimError> {
    match header {
        Some(tag) if !if_match(tag, &version.to_string()) => Err(ScimError::precondition(format!(
            "the {} changed since that ETag; read it again",
            kind.name()
        ))),
        _ => Ok(()),
    }
}

/// The full representation: `schemas` (the core schema, plus each
/// extension the document has), `id`, the stored attributes and `meta`.
/// `base_url` is the public origin without `/scim/v2`. Users' `groups` are
/// the server's to insert.
pub fn with_meta(
    kind: ResourceKind,
    stored: &Value,
    id: &str,
    created: &str,
    last_modified: &str,
    version: &str,
    base_url: &str,
) -> Value {
    let empty = Map::new();
    let stored = stored.as_object().unwrap_or(&empty);
    let mut schemas = vec![Value::from(kind.schema())];
    for ext in kind.extensions() {
        let present = stored.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case(ext.id) && v.as_object().is_some_and(|o| !o.is_empty())
        });
        if present {
            schemas.push(Value::from(ext.id));
        }
    }
    let mut out = Map::new();
    out.insert("schemas".to_owned(), Value::Array(schemas));
    out.insert("id".to_owned(), Value::from(id));
    for (key, value) in stored {
        if !["id", "meta", "schemas"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
        {
            out.insert(key.clone(), value.clone());
        }
    }
    let location = format!(
        "{}/scim/v2/{}/{id}",
        base_url.trim_end_matches('/'),
        kind.endpoint()
    );
    let meta = serde_json::json!({
        "resourceType": kind.name(),
        "created": created,
        "lastModified": last_modified,
        "location": location,
        "version": etag(version),
    });
    out.insert("meta".to_owned(), meta);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    #[test]
    fn with_meta_builds_the_full_representation() {
        let stored = json!({
            "userName": "bjensen",
            "active": true,
            ENTERPRISE_USER_SCHEMA: {"department": "Tours"},
            "id": "stale",
            "meta": {"version": "stale"}
        });
        let full = with_meta(
            ResourceKind::User,
            &stored,
            "2819c223",
            "2024-01-01T00:00:00Z",
            "2024-02-01T00:00:00Z",
            "7",
            "https://gantry.example.com/",
        );
        assert_eq!(
            full,
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                "id": "2819c223",
                "userName": "bjensen",
                "active": true,
                ENTERPRISE_USER_SCHEMA: {"department": "Tours"},
                "meta": {
                    "resourceType": "User",
                    "created": "2024-01-01T00:00:00Z",
                    "lastModified": "2024-02-01T00:00:00Z",
                    "location": "https://gantry.example.com/scim/v2/Users/2819c223",
                    "version": "W/\"7\""
                }
            })
        );
        let group = with_meta(
            ResourceKind::Group,
            &json!({"displayName": "Ops"}),
            "g1",
            "c",
            "m",
            "W/\"3\"",
            "https://h",
        );
        assert_eq!(group["schemas"], json!([GROUP_SCHEMA]));
        assert_eq!(group["meta"]["location"], "https://h/scim/v2/Groups/g1");
        assert_eq!(group["meta"]["version"], "W/\"3\"");
        let no_ext = with_meta(
            ResourceKind::User,
            &json!({"userName": "u", ENTERPRISE_USER_SCHEMA: {}}),
            "i",
            "c",
            "m",
            "1",
            "",
        );
        assert_eq!(no_ext["schemas"], json!([USER_SCHEMA]));
    }

    #[test]
    fn etags_and_if_match() {
        assert_eq!(etag("5"), "W/\"5\"");
        assert_eq!(etag("W/\"5\""), "W/\"5\"");
        assert_eq!(etag("\"5\""), "\"5\"");
        let cases: &[(&str, bool)] = &[
            ("W/\"5\"", true),
            ("\"5\"", true),
            ("*", true),
            ("W/\"4\", W/\"5\"", true),
            ("W/\"4\"", false),
            ("5", false),
            ("", false),
        ];
        for (header, ok) in cases {
            assert_eq!(if_match(header, "5"), *ok, "{header}");
        }
    }

    #[test]
    fn a_stale_if_match_is_a_412_and_none_is_no_condition() {
        assert!(check_if_match(ResourceKind::User, None, 5).is_ok());
        assert!(check_if_match(ResourceKind::User, Some("W/\"5\""), 5).is_ok());
        let err = check_if_match(ResourceKind::Group, Some("W/\"4\""), 5).unwrap_err();
        assert_eq!(err.status, 412);
        assert_eq!(
            err.detail,
            "the Group changed since that ETag; read it again"
        );
    }
}
