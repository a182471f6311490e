//! A stored resource as SCIM clients see it (RFC 7643 §3): the stored
//! document with its `id`, `schemas` and `meta`, plus what the server keeps
//! in rows of its own (a person's groups, a group's members) as references
//! with their `$ref` URIs. Also the document the PATCH rules start from.
//!
//! Pure: the caller passes the record's times and the public origin.

use super::resource::with_meta;
use super::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A group a person belongs to, or a member of a group: its id and the
/// name shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub id: String,
    pub display: String,
}

/// A resource as the server keeps it.
#[derive(Debug, Clone, Copy)]
pub struct StoredResource<'a> {
    pub kind: ResourceKind,
    pub id: &'a str,
    /// The normalized document (no id, meta, password; a group's members
    /// are in `related`, not here).
    pub document: &'a Value,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
    /// A person's groups, or a group's members.
    pub related: &'a [ResourceRef],
}

/// `meta.created` and `meta.lastModified`: RFC 3339 in UTC, to the
/// millisecond (RFC 7643 §3.1 asks for an xsd:dateTime).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The full representation of `stored`, before any `attributes`
/// projection. `base_url` is the public origin, without `/scim/v2`.
pub fn represent(stored: &StoredResource<'_>, base_url: &str) -> Value {
    let base_url = base_url.trim_end_matches('/');
    let mut full = with_meta(
        stored.kind,
        stored.document,
        stored.id,
        &timestamp(stored.created),
        &timestamp(stored.last_modified),
        &stored.version.to_string(),
        base_url,
    );
    let (related_kind, related_key) = match stored.kind {
        ResourceKind::User => {
            link_manager(&mut full, base_url);
            (ResourceKind::Group, "groups")
        }
        ResourceKind::Group => (ResourceKind::User, "members"),
    };
    if !stored.related.is_empty() {
        let refs = stored
            .related
            .iter()
            .map(|r| reference(related_kind, r, base_url))
            .collect();
        full[related_key] = Value::Array(refs);
    }
    full
}

/// The enterprise manager's `$ref`, derived from their id like every
/// other reference (a client's own `$ref` is not stored).
fn link_manager(full: &mut Value, base_url: &str) {
    let manager = full
        .pointer_mut(&format!("/{ENTERPRISE_USER_SCHEMA}/manager"))
        .and_then(Value::as_object_mut);
    if let Some(manager) = manager
        && let Some(id) = manager.get("value").and_then(Value::as_str)
    {
        let uri = format!("{base_url}/scim/v2/{}/{id}", ResourceKind::User.endpoint());
        manager.insert("$ref".into(), Value::String(uri));
    }
}

/// `{value, $ref, display, type}` pointing at a resource of `kind`.
pub fn reference(kind: ResourceKind, r: &ResourceRef, base_url: &str) -> Value {
    json!({
        "value": r.id,
        "$ref": format!("{}/scim/v2/{}/{}", base_url.trim_end_matches('/'), kind.endpoint(), r.id),
        "display": r.display,
        "type": kind.name(),
    })
}

/// The document the PATCH rules change: the stored attributes, and for a
/// group its members as `{value, display}` (they are rows of their own, so
/// a PATCH on `members` needs to see them).
pub fn patch_base(stored: &StoredResource<'_>) -> Value {
    let mut document = stored.document.clone();
    if stored.kind == ResourceKind::Group && !stored.related.is_empty() {
        document["members"] = stored
            .related
            .iter()
            .map(|m| json!({"value": m.id, "display": m.display}))
            .collect();
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{GROUP_SCHEMA, USER_SCHEMA};
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 123_456_789).single().unwrap()
    }

    fn refs(list: &[(&str, &str)]) -> Vec<ResourceRef> {
        list.iter()
            .map(|(id, display)| ResourceRef {
                id: (*id).to_owned(),
                display: (*display).to_owned(),
            })
            .collect()
    }

    #[test]
    fn timestamps_are_utc_to_the_millisecond() {
        assert_eq!(timestamp(at(1_700_000_000)), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn a_user_gets_meta_its_groups_and_its_managers_ref() {
        let document = json!({
            "userName": "bjensen",
            ENTERPRISE_USER_SCHEMA: {"manager": {"value": "m1", "$ref": "https://elsewhere/x"}}
        });
        let groups = refs(&[("g1", "Ops")]);
        let full = represent(
            &StoredResource {
                kind: ResourceKind::User,
                id: "u1",
                document: &document,
                created: at(0),
                last_modified: at(60),
                version: 4,
                related: &groups,
            },
            "https://gantry.example.com/",
        );
        assert_eq!(
            full["schemas"],
            json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
        );
        assert_eq!(full["id"], "u1");
        assert_eq!(
            full["meta"],
            json!({
                "resourceType": "User",
                "created": "1970-01-01T00:00:00.123Z",
                "lastModified": "1970-01-01T00:01:00.123Z",
                "location": "https://gantry.example.com/scim/v2/Users/u1",
                "version": "W/\"4\""
            })
        );
        assert_eq!(
            full[ENTERPRISE_USER_SCHEMA]["manager"]["$ref"],
            "https://gantry.example.com/scim/v2/Users/m1"
        );
        assert_eq!(
            full["groups"],
            json!([{
                "value": "g1",
                "$ref": "https://gantry.example.com/scim/v2/Groups/g1",
                "display": "Ops",
                "type": "Group"
            }])
        );
    }

    #[test]
    fn a_group_lists_its_members_and_nobody_gets_an_empty_list() {
        let document = json!({"displayName": "Ops"});
        let members = refs(&[("u1", "Barbara"), ("u2", "Kim")]);
        let group = StoredResource {
            kind: ResourceKind::Group,
            id: "g1",
            document: &document,
            created: at(0),
            last_modified: at(0),
            version: 1,
            related: &members,
        };
        let full = represent(&group, "https://h");
        assert_eq!(full["schemas"], json!([GROUP_SCHEMA]));
        assert_eq!(full["members"][1]["$ref"], "https://h/scim/v2/Users/u2");
        assert_eq!(full["members"][1]["type"], "User");
        let lonely = represent(
            &StoredResource {
                related: &[],
                ..group
            },
            "https://h",
        );
        assert!(lonely.get("members").is_none(), "{lonely}");
        let user = json!({"userName": "u"});
        let ungrouped = represent(
            &StoredResource {
                kind: ResourceKind::User,
                document: &user,
                related: &[],
                ..group
            },
            "https://h",
        );
        assert!(ungrouped.get("groups").is_none(), "{ungrouped}");
    }

    #[test]
    fn patch_sees_a_groups_members_but_not_a_users_groups() {
        let document = json!({"displayName": "Ops"});
        let members = refs(&[("u1", "Barbara")]);
        let group = StoredResource {
            kind: ResourceKind::Group,
            id: "g1",
            document: &document,
            created: at(0),
            last_modified: at(0),
            version: 1,
            related: &members,
        };
        assert_eq!(
            patch_base(&group),
            json!({"displayName": "Ops", "members": [{"value": "u1", "display": "Barbara"}]})
        );
        let user = json!({"userName": "u"});
        let as_user = StoredResource {
            kind: ResourceKind::User,
            document: &user,
            ..group
        };
        assert_eq!(patch_base(&as_user), user);
    }
}
