//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9):
//! which attributes of a full representation a response carries.
//!
//! - with `attributes`, only those, plus `schemas` and the attributes
//!   returned always (`id`); a sub-attribute path (`name.givenName`,
//!   `emails.value`) keeps just that part of the attribute;
//! - with `excludedAttributes`, everything but those, though never `id`
//!   or `schemas`;
//! - paths ignore case and may carry a schema URN
//!   (`urn:…:enterprise:2.0:User:department`, or the extension URN alone
//!   for the whole extension); paths naming nothing in the schema are
//!   ignored, as clients ask for attributes a server may not have.
//!
//! Given both, `attributes` applies first, then `excludedAttributes`.

use super::filter::AttrPath;
use super::schema::{ResourceKind, Returned, Target};
use serde_json::{Map, Value};

/// Cuts `full` (as [`super::resource::with_meta`] builds it) down to what
/// the request asked for.
pub fn project(
    kind: ResourceKind,
    full: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let Some(object) = full.as_object() else {
        return full.clone();
    };
    let mut out = if attributes.is_empty() {
        object.clone()
    } else {
        select(kind, object, &selections(kind, attributes))
    };
    if !excluded.is_empty() {
        exclude(kind, &mut out, &selections(kind, excluded));
    }
    Value::Object(out)
}

/// One path, in canonical names.
struct Sel {
    /// The extension URN, `None` for the core schema.
    extension: Option<&'static str>,
    /// `None`: the whole extension.
    attr: Option<&'static str>,
    sub: Option<&'static str>,
}

fn selections(kind: ResourceKind, paths: &[AttrPath]) -> Vec<Sel> {
    paths
        .iter()
        .filter_map(|path| match kind.resolve(path)? {
            Target::Extension(ext) => Some(Sel {
                extension: Some(ext.id),
                attr: None,
                sub: None,
            }),
            Target::Attr(r) => Some(Sel {
                extension: r.extension.map(|e| e.id),
                attr: Some(r.attr.name),
                sub: r.sub.map(|s| s.name),
            }),
        })
        .collect()
}

fn select(kind: ResourceKind, object: &Map<String, Value>, sels: &[Sel]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key.clone(), value.clone());
            continue;
        }
        if let Some(ext) = kind.extension(key) {
            let mine: Vec<&Sel> = sels
                .iter()
                .filter(|s| s.extension == Some(ext.id))
                .collect();
            if mine.iter().any(|s| s.attr.is_none()) {
                out.insert(key.clone(), value.clone());
            } else if let Value::Object(attrs) = value {
                let picked = pick(attrs, &mine, |name| ext.attr(name).map(|d| d.name));
                if !picked.is_empty() {
                    out.insert(key.clone(), Value::Object(picked));
                }
            }
            continue;
        }
        let Some(def) = kind.core_attr(key) else {
            continue;
        };
        if def.returned == Returned::Always {
            out.insert(key.clone(), value.clone());
            continue;
        }
        let mine: Vec<&Sel> = sels.iter().filter(|s| s.extension.is_none()).collect();
        let mut one = Map::new();
        one.insert(key.clone(), value.clone());
        out.extend(pick(&one, &mine, |_| Some(def.name)));
    }
    out
}

/// The attributes of `attrs` that `sels` ask for, whole or in part.
/// `canonical` names an attribute key in the schema's spelling.
fn pick(
    attrs: &Map<String, Value>,
    sels: &[&Sel],
    canonical: impl Fn(&str) -> Option<&'static str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in attrs {
        let Some(name) = canonical(key) else {
            continue;
        };
        let mine: Vec<&Sel> = sels
            .iter()
            .copied()
            .filter(|s| s.attr == Some(name))
            .collect();
        if mine.is_empty() {
            continue;
        }
        if mine.iter().any(|s| s.sub.is_none()) {
            out.insert(key.clone(), value.clone());
            continue;
        }
        let subs: Vec<&str> = mine.iter().filter_map(|s| s.sub).collect();
        if let Some(kept) = keep_subs(value, &subs) {
            out.insert(key.clone(), kept);
        }
    }
    out
}

/// Only the sub-attributes `subs` of a complex value, or of each element
/// of a multi-valued one; `None` when nothing is left.
fn keep_subs(value: &Value, subs: &[&str]) -> Option<Value> {
    let keep = |object: &Map<String, Value>| {
        let kept: Map<String, Value> = object
            .iter()
            .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (!kept.is_empty()).then_some(kept)
    };
    match value {
        Value::Object(object) => keep(object).map(Value::Object),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(Value::as_object)
                .filter_map(keep)
                .map(Value::Object)
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}

fn key_ci(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

fn exclude(kind: ResourceKind, out: &mut Map<String, Value>, sels: &[Sel]) {
    for sel in sels {
        let Some(attr) = sel.attr else {
            if let Some(ext) = sel.extension.and_then(|urn| key_ci(out, urn)) {
                out.remove(&ext);
            }
            continue;
        };
        match sel.extension {
            None => {
                if kind
                    .core_attr(attr)
                    .is_some_and(|d| d.returned == Returned::Always)
                {
                    continue;
                }
                remove(out, attr, sel.sub);
            }
            Some(urn) => {
                let Some(ext_key) = key_ci(out, urn) else {
                    continue;
                };
                if let Some(Value::Object(ext)) = out.get_mut(&ext_key) {
                    remove(ext, attr, sel.sub);
                    if !ext.is_empty() {
                        continue;
                    }
                }
                out.remove(&ext_key);
            }
        }
    }
}

/// Removes `attr`, or its sub-attribute `sub` (from every element of a
/// multi-valued attribute), dropping whatever is left empty.
fn remove(container: &mut Map<String, Value>, attr: &str, sub: Option<&str>) {
    let Some(key) = key_ci(container, attr) else {
        return;
    };
    let Some(sub) = sub else {
        container.remove(&key);
        return;
    };
    let strip = |object: &mut Map<String, Value>| {
        if let Some(k) = key_ci(object, sub) {
            object.remove(&k);
        }
    };
    let empty = match container.get_mut(&key) {
        Some(Value::Object(object)) => {
            strip(object);
            object.is_empty()
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                strip(item);
            }
            items.retain(|i| i.as_object().is_none_or(|o| !o.is_empty()));
            items.is_empty()
        }
        _ => false,
    };
    if empty {
        container.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::attr_path;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    const ENT: &str = ENTERPRISE_USER_SCHEMA;

    fn full_user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENT],
            "id": "2819c223",
            "externalId": "701984",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "groups": [{"value": "g1", "display": "Ops"}],
            ENT: {"department": "Tours", "manager": {"value": "m1", "displayName": "Boss"}},
            "meta": {"resourceType": "User", "location": "https://h/scim/v2/Users/2819c223", "version": "W/\"1\""}
        })
    }

    fn paths(list: &str) -> Vec<AttrPath> {
        list.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| attr_path(s, 0).unwrap())
            .collect()
    }

    #[test]
    fn attributes_keep_only_what_was_asked_plus_id_and_schemas() {
        let cases: &[(&str, Value)] = &[
            (
                "userName",
                json!({"schemas": [USER_SCHEMA, ENT], "id": "2819c223", "userName": "bjensen"}),
            ),
            (
                "USERNAME,name.givenName,emails.value",
                json!({
                    "schemas": [USER_SCHEMA, ENT], "id": "2819c223", "userName": "bjensen",
                    "name": {"givenName": "Barbara"},
                    "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]
                }),
            ),
            (
                "name,name.givenName",
                json!({
                    "schemas": [USER_SCHEMA, ENT], "id": "2819c223",
                    "name": {"givenName": "Barbara", "familyName": "Jensen"}
                }),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,meta.version",
                json!({
                    "schemas": [USER_SCHEMA, ENT], "id": "2819c223",
                    ENT: {"department": "Tours"},
                    "meta": {"version": "W/\"1\""}
                }),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!({
                    "schemas": [USER_SCHEMA, ENT], "id": "2819c223",
                    ENT: {"department": "Tours", "manager": {"value": "m1", "displayName": "Boss"}}
                }),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:active,id,nickName,noSuchThing",
                json!({"schemas": [USER_SCHEMA, ENT], "id": "2819c223", "active": true}),
            ),
        ];
        for (attributes, expected) in cases {
            assert_eq!(
                project(ResourceKind::User, &full_user(), &paths(attributes), &[]),
                *expected,
                "{attributes}"
            );
        }
    }

    #[test]
    fn excluded_attributes_drop_all_but_id_and_schemas() {
        let cases: &[(&str, &[&str])] = &[
            ("emails", &["emails"]),
            ("groups,meta", &["groups", "meta"]),
            ("id,userName", &["userName"]),
            ("name.givenName", &[]),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                &[ENT],
            ),
        ];
        for (excluded, gone) in cases {
            let got = project(ResourceKind::User, &full_user(), &[], &paths(excluded));
            let mut expected = full_user();
            for key in *gone {
                expected.as_object_mut().unwrap().remove(*key);
            }
            if *excluded == "name.givenName" {
                expected["name"] = json!({"familyName": "Jensen"});
            }
            assert_eq!(got, expected, "{excluded}");
        }
        let got = project(
            ResourceKind::User,
            &full_user(),
            &[],
            &paths("emails.value,emails.type,emails.primary"),
        );
        assert!(got.get("emails").is_none(), "{got}");
        let got = project(
            ResourceKind::User,
            &full_user(),
            &[],
            &paths(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            ),
        );
        assert!(got.get(ENT).is_none(), "{got}");
    }

    #[test]
    fn both_given_and_groups() {
        let got = project(
            ResourceKind::User,
            &full_user(),
            &paths("userName,emails"),
            &paths("emails"),
        );
        assert_eq!(
            got,
            json!({"schemas": [USER_SCHEMA, ENT], "id": "2819c223", "userName": "bjensen"})
        );
        let group = json!({
            "schemas": [GROUP_SCHEMA],
            "id": "g1",
            "displayName": "Ops",
            "members": [{"value": "u1", "display": "A"}],
            "meta": {"resourceType": "Group"}
        });
        assert_eq!(
            project(ResourceKind::Group, &group, &[], &paths("members")),
            json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "Ops", "meta": {"resourceType": "Group"}})
        );
        assert_eq!(
            project(ResourceKind::Group, &group, &paths("members.value"), &[]),
            json!({"schemas": [GROUP_SCHEMA], "id": "g1", "members": [{"value": "u1"}]})
        );
        assert_eq!(
            project(ResourceKind::Group, &json!("x"), &[], &[]),
            json!("x")
        );
    }
}
