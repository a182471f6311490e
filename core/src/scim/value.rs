//! One attribute's value checked against its definition and put in stored
//! form: canonical sub-attribute names, JSON booleans, arrays for
//! multi-valued attributes with duplicates merged and at most one
//! `primary`. Shared by [`super::normalize`] (whole resources) and
//! [`super::patch`] (single operations).
//!
//! Recursion follows the schema, not the input: a value is at most an
//! array of objects of scalars, and anything nested deeper is a type error
//! at that level, so no input can make this recurse.

use super::error::ScimError;
use super::schema::{AttrDef, AttrType, Mutability};
use chrono::DateTime;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// An attribute name or path from the client, for a message: at most 120
/// characters (enough for an extension URN and an attribute), quoted and
/// escaped.
pub(super) fn quote(name: &str) -> String {
    const MAX: usize = 120;
    match name.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &name[..cut])),
        None => format!("{name:?}"),
    }
}

/// 400 `invalidSyntax` for an attribute the schema does not define.
pub(super) fn unknown(name: &str) -> ScimError {
    ScimError::invalid_syntax(format!("unknown attribute {}", quote(name)))
}

/// `"true"`/`"false"` in any case: Microsoft Entra ID sends booleans as
/// the strings `"True"` and `"False"` in PATCH values.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A value of a non-complex attribute, as stored; `None` for `null`
/// (unassigned). Strings are kept as sent; a required string must not be
/// blank.
pub(super) fn simple(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    let ok = match (def.ty, value) {
        (AttrType::String | AttrType::Reference, Value::String(s)) => {
            if def.required && s.trim().is_empty() {
                return Err(ScimError::invalid_value(format!(
                    "{label} must not be blank"
                )));
            }
            true
        }
        (AttrType::Boolean, Value::Bool(_)) => true,
        (AttrType::Boolean, Value::String(s)) => {
            if let Some(b) = parse_bool(s) {
                return Ok(Some(Value::Bool(b)));
            }
            false
        }
        (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Decimal, Value::Number(_)) => true,
        (AttrType::DateTime, Value::String(s)) => DateTime::parse_from_rfc3339(s).is_ok(),
        _ => false,
    };
    if ok {
        return Ok(Some(value.clone()));
    }
    let what = match def.ty {
        AttrType::String | AttrType::Reference => "a string",
        AttrType::Boolean => "a boolean (true or false)",
        AttrType::Integer => "an integer",
        AttrType::Decimal => "a number",
        AttrType::DateTime => "an RFC 3339 dateTime such as 2024-01-31T12:00:00Z",
        AttrType::Complex => "an object",
    };
    Err(ScimError::invalid_value(format!("{label} must be {what}")))
}

/// Sets (or, for `null`, removes) one sub-attribute of a complex value.
/// Unknown sub-attributes are refused, read-only ones ignored, and an
/// immutable one may not change once set.
pub(super) fn merge_sub(
    def: &AttrDef,
    target: &mut Map<String, Value>,
    key: &str,
    value: &Value,
    label: &str,
) -> Result<(), ScimError> {
    let Some(sub) = def.sub(key) else {
        return Err(unknown(&format!("{label}.{key}")));
    };
    if sub.is_read_only() {
        return Ok(());
    }
    let sub_label = format!("{label}.{}", sub.name);
    match simple(sub, value, &sub_label)? {
        None => {
            target.remove(sub.name);
        }
        Some(v) => {
            if sub.mutability == Mutability::Immutable
                && target.get(sub.name).is_some_and(|old| *old != v)
            {
                return Err(ScimError::mutability(format!(
                    "{sub_label} is immutable and cannot be changed"
                )));
            }
            target.insert(sub.name.to_owned(), v);
        }
    }
    Ok(())
}

/// The object form of a complex value: a bare string stands for
/// `{"value": "…"}` where there is a `value` sub-attribute (Entra ID sends
/// a manager as the manager's id).
pub(super) fn as_object<'a>(
    def: &AttrDef,
    value: &'a Value,
    label: &str,
) -> Result<std::borrow::Cow<'a, Map<String, Value>>, ScimError> {
    match value {
        Value::Object(map) => Ok(std::borrow::Cow::Borrowed(map)),
        Value::String(_) if def.sub("value").is_some() => {
            let mut map = Map::new();
            map.insert("value".to_owned(), value.clone());
            Ok(std::borrow::Cow::Owned(map))
        }
        _ => Err(ScimError::invalid_value(format!(
            "{label} must be an object"
        ))),
    }
}

/// One complex value (the attribute's, or one element of a multi-valued
/// one) with canonical sub-attribute names; `None` for `null` or when
/// nothing is left.
pub(super) fn complex(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Map<String, Value>>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    let mut out = Map::new();
    for (key, sub_value) in as_object(def, value, label)?.iter() {
        merge_sub(def, &mut out, key, sub_value, label)?;
    }
    Ok((!out.is_empty()).then_some(out))
}

/// One element of a multi-valued attribute.
pub(super) fn element(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if def.is_complex() {
        Ok(complex(def, value, label)?.map(Value::Object))
    } else {
        simple(def, value, label)
    }
}

/// The elements a PATCH value holds for a multi-valued attribute: an
/// array, or a single value standing for a one-element array.
pub(super) fn elements(def: &AttrDef, value: &Value, label: &str) -> Result<Vec<Value>, ScimError> {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.extend(element(def, item, label)?);
    }
    Ok(out)
}

/// A whole attribute as stored; `None` when unassigned (null, empty
/// array, empty object).
pub(super) fn attr_value(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return match def.is_complex() {
            true => match complex(def, value, label)? {
                Some(map) => {
                    check_required(def, &map, label)?;
                    Ok(Some(Value::Object(map)))
                }
                None => Ok(None),
            },
            false => simple(def, value, label),
        };
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{label} must be an array"
            )));
        }
    };
    let mut list = Vec::with_capacity(items.len());
    for item in items {
        list.extend(element(def, item, label)?);
    }
    let list = finish_list(def, list, label)?;
    Ok((!list.is_empty()).then_some(Value::Array(list)))
}

fn check_required(def: &AttrDef, map: &Map<String, Value>, label: &str) -> Result<(), ScimError> {
    match def
        .sub_attributes
        .iter()
        .find(|sub| sub.required && !map.contains_key(sub.name))
    {
        Some(sub) => Err(ScimError::invalid_value(format!(
            "{label}.{} is required",
            sub.name
        ))),
        None => Ok(()),
    }
}

/// Labels that say nothing on their own: an element left with only these
/// (after `emails[type eq "work"].value` was removed, say) is dropped.
const LABELS: [&str; 3] = ["type", "primary", "display"];

/// The checks and clean-up every stored multi-valued attribute gets:
/// required sub-attributes present, label-only elements dropped, the same
/// value listed twice merged into one, at most one `primary: true`.
pub(super) fn finish_list(
    def: &AttrDef,
    list: Vec<Value>,
    label: &str,
) -> Result<Vec<Value>, ScimError> {
    let mut out: Vec<Value> = Vec::with_capacity(list.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in list {
        if let Value::Object(map) = &item {
            check_required(def, map, label)?;
            if map.keys().all(|k| LABELS.contains(&k.as_str())) {
                continue;
            }
        }
        let existing = match identity(def, &item) {
            Some(key) => seen.get(&key).copied().or_else(|| {
                seen.insert(key, out.len());
                None
            }),
            None => out.iter().position(|e| *e == item),
        };
        match (existing, item) {
            (Some(index), Value::Object(later)) => {
                if let Some(Value::Object(first)) = out.get_mut(index) {
                    first.extend(later);
                }
            }
            (Some(_), _) => {}
            (None, item) => out.push(item),
        }
    }
    let primaries = out
        .iter()
        .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "{label} has {primaries} values with primary true; at most one may be primary"
        )));
    }
    Ok(out)
}

/// What makes two elements the same one: the `value` (under the
/// sub-attribute's case rule), and the `type` too unless `value` is
/// required (a member is its id, whatever its type). Elements without a
/// string `value` are only the same when equal.
pub(super) fn identity(def: &AttrDef, element: &Value) -> Option<String> {
    let value_def = def.sub("value")?;
    let value = element.get("value")?.as_str()?;
    let mut key = if value_def.case_exact {
        value.to_owned()
    } else {
        value.to_lowercase()
    };
    if !value_def.required {
        key.push('\0');
        if let Some(t) = element.get("type").and_then(Value::as_str) {
            key.push_str(&t.to_lowercase());
        }
    }
    Some(key)
}

/// An element's `value` as compared under the sub-attribute's case rule,
/// for Entra ID's `remove` with a value list, which names members by
/// `value`.
pub(super) fn value_key(def: &AttrDef, element: &Value) -> Option<String> {
    let value = element.get("value")?.as_str()?;
    Some(match def.sub("value") {
        Some(v) if v.case_exact => value.to_owned(),
        _ => value.to_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER, GROUP, USER};
    use serde_json::json;

    fn def(schema: &crate::scim::schema::SchemaDef, name: &str) -> &'static AttrDef {
        schema.attr(name).unwrap()
    }

    #[test]
    fn simple_values_are_type_checked() {
        let active = def(&USER, "active");
        let cases: &[(Value, Option<Value>)] = &[
            (json!(true), Some(json!(true))),
            (json!("True"), Some(json!(true))),
            (json!("false"), Some(json!(false))),
            (json!("FALSE"), Some(json!(false))),
            (json!(null), None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                simple(active, input, "active").unwrap(),
                *expected,
                "{input}"
            );
        }
        for bad in [
            json!("yes"),
            json!(1),
            json!([true]),
            json!({"value": true}),
        ] {
            let e = simple(active, &bad, "active").unwrap_err();
            assert_eq!(
                (e.scim_type, e.detail.as_str()),
                (
                    Some("invalidValue"),
                    "active must be a boolean (true or false)"
                ),
                "{bad}"
            );
        }
        let title = def(&USER, "title");
        assert_eq!(
            simple(title, &json!("  x "), "title").unwrap(),
            Some(json!("  x "))
        );
        assert_eq!(simple(title, &json!(""), "title").unwrap(), Some(json!("")));
        for bad in [json!(1), json!(false), json!(["x"]), json!({"a": "b"})] {
            assert_eq!(
                simple(title, &bad, "title").unwrap_err().detail,
                "title must be a string"
            );
        }
        let user_name = def(&USER, "userName");
        assert_eq!(
            simple(user_name, &json!(" \t"), "userName")
                .unwrap_err()
                .detail,
            "userName must not be blank"
        );
        let mut dt = *title;
        dt.ty = AttrType::DateTime;
        assert!(
            simple(&dt, &json!("2024-01-31T12:00:00Z"), "x")
                .unwrap()
                .is_some()
        );
        assert!(simple(&dt, &json!("yesterday"), "x").is_err());
        let mut int = *title;
        int.ty = AttrType::Integer;
        assert!(simple(&int, &json!(3), "x").unwrap().is_some());
        assert!(simple(&int, &json!(3.5), "x").is_err());
        let mut dec = *title;
        dec.ty = AttrType::Decimal;
        assert!(simple(&dec, &json!(3.5), "x").unwrap().is_some());
        assert!(simple(&dec, &json!("3.5"), "x").is_err());
    }

    #[test]
    fn complex_values_get_canonical_names() {
        let manager = def(&ENTERPRISE_USER, "manager");
        assert_eq!(
            complex(
                manager,
                &json!({"VALUE": "m1", "displayName": "Boss"}),
                "manager"
            )
            .unwrap(),
            json!({"value": "m1"}).as_object().cloned()
        );
        assert_eq!(
            complex(manager, &json!("m1"), "manager").unwrap(),
            json!({"value": "m1"}).as_object().cloned()
        );
        assert_eq!(
            complex(manager, &json!({"value": null}), "manager").unwrap(),
            None
        );
        assert_eq!(
            complex(manager, &json!({"boss": "x"}), "manager")
                .unwrap_err()
                .detail,
            "unknown attribute \"manager.boss\""
        );
        assert_eq!(
            complex(manager, &json!(7), "manager").unwrap_err().detail,
            "manager must be an object"
        );
        let name = def(&USER, "name");
        assert_eq!(
            complex(name, &json!("Babs"), "name").unwrap_err().detail,
            "name must be an object"
        );
        assert_eq!(
            complex(name, &json!({"givenName": {"deep": [[[]]]}}), "name")
                .unwrap_err()
                .detail,
            "name.givenName must be a string"
        );
    }

    #[test]
    fn lists_are_deduplicated_and_have_one_primary() {
        let members = def(&GROUP, "members");
        let list = attr_value(
            members,
            &json!([
                {"value": "a", "display": "A"},
                {"value": "b"},
                {"value": "a", "type": "User"},
                null,
                {"value": "A"}
            ]),
            "members",
        )
        .unwrap();
        assert_eq!(
            list,
            Some(json!([
                {"value": "a", "display": "A", "type": "User"},
                {"value": "b"},
                {"value": "A"}
            ]))
        );
        assert_eq!(
            attr_value(members, &json!([{"display": "x"}]), "members")
                .unwrap_err()
                .detail,
            "members.value is required"
        );
        assert_eq!(attr_value(members, &json!([]), "members").unwrap(), None);
        assert_eq!(
            attr_value(members, &json!({"value": "a"}), "members")
                .unwrap_err()
                .detail,
            "members must be an array"
        );
        let emails = def(&USER, "emails");
        let list = attr_value(
            emails,
            &json!([
                {"value": "b@x.com", "type": "work"},
                {"value": "B@X.com", "type": "Work", "primary": true},
                {"value": "b@x.com", "type": "home"},
                {"type": "other", "primary": false}
            ]),
            "emails",
        )
        .unwrap();
        assert_eq!(
            list,
            Some(json!([
                {"value": "B@X.com", "type": "Work", "primary": true},
                {"value": "b@x.com", "type": "home"}
            ]))
        );
        let e = attr_value(
            emails,
            &json!([
                {"value": "a@x.com", "primary": true},
                {"value": "b@x.com", "primary": "True"}
            ]),
            "emails",
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        assert!(
            e.detail.contains("at most one may be primary"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn many_members_deduplicate_in_linear_time() {
        let members = def(&GROUP, "members");
        let input: Vec<Value> = (0..40_000)
            .map(|i| json!({"value": format!("id-{}", i % 20_000)}))
            .collect();
        let list = attr_value(members, &Value::Array(input), "members")
            .unwrap()
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 20_000);
    }

    #[test]
    fn immutable_sub_attributes_do_not_change() {
        let members = def(&GROUP, "members");
        let mut element = json!({"value": "a"}).as_object().cloned().unwrap();
        merge_sub(members, &mut element, "value", &json!("a"), "members").unwrap();
        let e = merge_sub(members, &mut element, "value", &json!("b"), "members").unwrap_err();
        assert_eq!(
            (e.scim_type, e.detail.as_str()),
            (
                Some("mutability"),
                "members.value is immutable and cannot be changed"
            )
        );
        // `$ref` is read-only: ignored, not stored.
        merge_sub(
            members,
            &mut element,
            "$ref",
            &json!("https://x/Users/a"),
            "members",
        )
        .unwrap();
        assert_eq!(Value::Object(element), json!({"value": "a"}));
    }
}
