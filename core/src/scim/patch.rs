//! PATCH (RFC 7644 §3.5.2) on a stored User or Group, all or nothing:
//! the operations run in order on a copy, and the result is checked like a
//! PUT body ([`super::normalize`]) before it is returned, so a PATCH can
//! never store what a PUT could not. Any failing operation fails the whole
//! request, with `Operations[i]` in the detail.
//!
//! Semantics where the RFC leaves room, chosen for what Microsoft Entra ID
//! and Okta send:
//! - `op` is case-insensitive (`Add`, `Replace`, `remove`), as are the
//!   member names `Operations`, `op`, `path` and `value`;
//! - without a `path`, `value` is an object whose keys are themselves
//!   paths: plain (`active`), dotted (`name.givenName`), URN-prefixed
//!   (`urn:…:enterprise:2.0:User:department`), the extension URN with an
//!   object, even filtered (`emails[type eq "work"].value`). Read-only keys
//!   (`id`, `meta`, `groups`) and `schemas` are skipped: Okta sends the
//!   resource's `id` along with `active`;
//! - `add` and `replace` on a single-valued complex attribute set the
//!   sub-attributes given and keep the others (RFC §3.5.2.1/§3.5.2.3);
//!   `add` to a multi-valued one appends, merging a value already there
//!   (members by `value`, emails and phone numbers by `value` and `type`);
//!   `replace` of a whole multi-valued attribute replaces the list;
//! - a filtered `add`/`replace` (`emails[type eq "work"].value`) that
//!   matches no element creates one from the filter's `eq` terms plus the
//!   value: Entra ID updates a user's work email this way whether or not
//!   one exists yet (the RFC's `noTarget` is kept for filters that cannot
//!   describe a new element, such as `emails[value co "x"]`);
//! - a filtered `remove` that matches nothing does nothing: Entra ID
//!   removes members that are already gone. `remove` on `members` with a
//!   `value` list (Entra ID's way to remove members) removes those;
//!   without one, all of them;
//! - `null` as a value unassigns; booleans may be the strings `"True"` and
//!   `"False"`; a manager may be given as a bare id;
//! - setting `primary: true` on one value sets it to `false` on the others
//!   (RFC §3.5.2);
//! - `password` is accepted and dropped, as on create.

use super::error::ScimError;
use super::filter::{CompValue, CompareOp, Filter};
use super::normalize::{check_labels, get_ci, normalize_doc};
use super::path::PatchPath;
use super::schema::{
    AttrDef, PATCH_OP, Resolved, ResourceKind, SchemaCaseExact, SchemaDef, Target, display_name,
};
use super::value::{as_object, complex, elements, merge_sub, quote, simple, unknown, value_key};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Longer PATCH requests are refused with `tooMany`. Entra ID and Okta
/// send a handful of operations; a member list goes in one operation.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

struct Operation<'a> {
    op: Op,
    path: Option<PatchPath>,
    value: Option<&'a Value>,
}

/// Applies a PatchOp request to `stored` (a normalized document; a full
/// representation with `id`, `meta` and `schemas` is accepted too) and
/// returns the new normalized document.
pub fn apply_patch(kind: ResourceKind, stored: &Value, patch: &Value) -> Result<Value, ScimError> {
    let operations = parse(patch)?;
    let stored = stored
        .as_object()
        .ok_or_else(|| ScimError::internal("the stored resource is not a JSON object"))?;
    let mut doc = normalize_doc(kind, stored).map_err(|e| {
        ScimError::internal(format!("the stored resource is invalid: {}", e.detail))
    })?;
    for (i, operation) in operations.iter().enumerate() {
        apply(kind, &mut doc, operation).map_err(|e| e.context(format_args!("Operations[{i}]")))?;
    }
    let doc = normalize_doc(kind, &doc)?;
    check_labels(kind, &doc)?;
    Ok(Value::Object(doc))
}

fn parse(patch: &Value) -> Result<Vec<Operation<'_>>, ScimError> {
    let object = patch
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body must be a JSON object"))?;
    let is_patch = get_ci(object, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP)))
        });
    if !is_patch {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must be [\"{PATCH_OP}\"]"
        )));
    }
    let operations = match get_ci(object, "Operations") {
        None => return Err(ScimError::invalid_syntax("Operations is missing")),
        Some(Value::Array(ops)) if ops.is_empty() => {
            return Err(ScimError::invalid_syntax("Operations is empty"));
        }
        Some(Value::Array(ops)) => ops,
        Some(_) => return Err(ScimError::invalid_syntax("Operations must be an array")),
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "{} operations; at most {MAX_OPERATIONS} are allowed in one PATCH",
            operations.len()
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| operation(op).map_err(|e| e.context(format_args!("Operations[{i}]"))))
        .collect()
}

fn operation(value: &Value) -> Result<Operation<'_>, ScimError> {
    let object = value
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("an operation must be a JSON object"))?;
    let op = match get_ci(object, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
        _ => {
            return Err(ScimError::invalid_syntax(
                "op must be \"add\", \"replace\" or \"remove\"",
            ));
        }
    };
    let path = match get_ci(object, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(PatchPath::parse(text)?),
        Some(_) => return Err(ScimError::invalid_path("path must be a string")),
    };
    let value = get_ci(object, "value");
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{} needs a value",
            if op == Op::Add { "add" } else { "replace" }
        )));
    }
    Ok(Operation { op, path, value })
}

/// Whether `path` is `password`, which is accepted and dropped.
fn is_password(kind: ResourceKind, path: &PatchPath) -> bool {
    kind == ResourceKind::User
        && path.attr.name.eq_ignore_ascii_case("password")
        && path.attr.sub.is_none()
        && path.filter.is_none()
        && path
            .attr
            .urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(kind.schema()))
}

fn is_read_only(r: &Resolved) -> bool {
    r.attr.is_read_only() || r.sub.is_some_and(AttrDef::is_read_only)
}

fn apply(
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
    operation: &Operation<'_>,
) -> Result<(), ScimError> {
    let value = operation.value;
    let Some(path) = &operation.path else {
        if operation.op == Op::Remove {
            return Err(ScimError::no_target(
                "remove needs a path naming what to remove",
            ));
        }
        let Some(Value::Object(attrs)) = value else {
            return Err(ScimError::invalid_value(
                "without a path, value must be an object of attributes",
            ));
        };
        for (key, v) in attrs {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let path = PatchPath::parse(key).map_err(|e| ScimError::from(e).context(quote(key)))?;
            if is_password(kind, &path) {
                continue;
            }
            match kind.resolve(&path.attr) {
                None => return Err(unknown(key)),
                Some(Target::Extension(ext)) => set_extension(doc, operation.op, ext, v)?,
                Some(Target::Attr(r)) if is_read_only(&r) => {}
                Some(Target::Attr(r)) => apply_attr(kind, doc, operation.op, r, &path, Some(v))?,
            }
        }
        return Ok(());
    };
    if is_password(kind, path) {
        return Ok(());
    }
    match kind.resolve(&path.attr) {
        None => Err(ScimError::invalid_path(format!(
            "no attribute {} in {}",
            quote(&path.attr.to_string()),
            kind.name()
        ))),
        Some(Target::Extension(ext)) => {
            if path.filter.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "{} is not multi-valued, so a [filter] cannot select its values",
                    ext.id
                )));
            }
            match operation.op {
                Op::Remove => {
                    doc.remove(ext.id);
                    Ok(())
                }
                op => set_extension(doc, op, ext, value.unwrap_or(&Value::Null)),
            }
        }
        Some(Target::Attr(r)) if is_read_only(&r) => Err(ScimError::mutability(format!(
            "{} is read-only",
            r.display()
        ))),
        Some(Target::Attr(r)) => apply_attr(kind, doc, operation.op, r, path, value),
    }
}

/// `add`/`replace` of a whole extension object: each attribute in turn.
fn set_extension(
    doc: &mut Map<String, Value>,
    op: Op,
    ext: &'static SchemaDef,
    value: &Value,
) -> Result<(), ScimError> {
    let attrs = match value {
        Value::Null => {
            doc.remove(ext.id);
            return Ok(());
        }
        Value::Object(attrs) => attrs,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{} must be an object",
                ext.id
            )));
        }
    };
    for (name, v) in attrs {
        // Clients serializing the extension as a model send its `schemas`.
        if name.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let attr = ext
            .attr(name)
            .ok_or_else(|| unknown(&format!("{}:{name}", ext.id)))?;
        if attr.is_read_only() {
            continue;
        }
        let r = Resolved {
            extension: Some(ext),
            attr,
            sub: None,
        };
        let target = container(doc, Some(ext))?;
        if attr.multi_valued {
            multi_unfiltered(target, op, &r, Some(v))?;
        } else {
            single(target, op, &r, Some(v))?;
        }
    }
    Ok(())
}

/// The object an attribute lives in: the document, or its extension
/// object (created when missing; an empty one is dropped at the end).
fn container<'a>(
    doc: &'a mut Map<String, Value>,
    extension: Option<&SchemaDef>,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    let Some(ext) = extension else {
        return Ok(doc);
    };
    let slot = doc
        .entry(ext.id.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| ScimError::internal("extension object vanished"))
}

fn apply_attr(
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
    op: Op,
    r: Resolved,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let target = container(doc, r.extension)?;
    if !r.attr.multi_valued {
        if path.filter.is_some() {
            return Err(ScimError::invalid_path(format!(
                "{} is not multi-valued, so a [filter] cannot select its values",
                display_name(r.extension, r.attr, None)
            )));
        }
        return single(target, op, &r, value);
    }
    let Some(filter) = &path.filter else {
        return multi_unfiltered(target, op, &r, value);
    };
    check_filter(&r, filter)?;
    let mut list = take_list(target, r.attr);
    let selected: Vec<bool> = list
        .iter()
        .map(|e| path.selects_with(e, &SchemaCaseExact(kind)))
        .collect();
    let result = multi_filtered(&mut list, &selected, op, &r, filter, value);
    put_list(target, r.attr, list);
    result
}

/// The paths inside `attr[…]` must be sub-attributes of `attr`.
fn check_filter(r: &Resolved, filter: &Filter) -> Result<(), ScimError> {
    for path in filter.attr_paths() {
        if path.urn.is_some() || path.sub.is_some() || r.attr.sub(&path.name).is_none() {
            return Err(ScimError::invalid_path(format!(
                "{} has no sub-attribute {} to filter on",
                display_name(r.extension, r.attr, None),
                quote(&path.to_string())
            )));
        }
    }
    Ok(())
}

fn take_list(target: &mut Map<String, Value>, attr: &AttrDef) -> Vec<Value> {
    match target.remove(attr.name) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn put_list(target: &mut Map<String, Value>, attr: &AttrDef, list: Vec<Value>) {
    if !list.is_empty() {
        target.insert(attr.name.to_owned(), Value::Array(list));
    }
}

/// A single-valued attribute (`active`, `name`, `name.givenName`,
/// `manager`).
fn single(
    target: &mut Map<String, Value>,
    op: Op,
    r: &Resolved,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = r.attr;
    let label = display_name(r.extension, attr, None);
    let value = value.unwrap_or(&Value::Null);
    if op == Op::Remove || (value.is_null() && r.sub.is_none()) {
        match r.sub {
            None => {
                target.remove(attr.name);
            }
            Some(sub) => {
                if let Some(Value::Object(object)) = target.get_mut(attr.name) {
                    object.remove(sub.name);
                }
            }
        }
        return Ok(());
    }
    if !attr.is_complex() {
        match simple(attr, value, &label)? {
            Some(v) => target.insert(attr.name.to_owned(), v),
            None => target.remove(attr.name),
        };
        return Ok(());
    }
    let slot = target
        .entry(attr.name.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let Some(object) = slot.as_object_mut() else {
        return Ok(());
    };
    match r.sub {
        Some(sub) => merge_sub(attr, object, sub.name, value, &label),
        None => {
            for (key, v) in as_object(attr, value, &label)?.iter() {
                merge_sub(attr, object, key, v, &label)?;
            }
            Ok(())
        }
    }
}

/// A multi-valued attribute without a filter: `members`, `emails.value`.
fn multi_unfiltered(
    target: &mut Map<String, Value>,
    op: Op,
    r: &Resolved,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let mut list = take_list(target, r.attr);
    let result = unfiltered_list(&mut list, op, r, value);
    put_list(target, r.attr, list);
    result
}

fn unfiltered_list(
    list: &mut Vec<Value>,
    op: Op,
    r: &Resolved,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = r.attr;
    let label = display_name(r.extension, attr, None);
    match (op, r.sub, value) {
        (Op::Remove, None, None | Some(Value::Null)) => list.clear(),
        (Op::Remove, None, Some(v)) => {
            // Entra ID's way to remove members: by `value`, or whole
            // elements where no `value` is given.
            let gone = elements(attr, v, &label)?;
            let by_value: HashSet<String> =
                gone.iter().filter_map(|g| value_key(attr, g)).collect();
            let whole: Vec<&Value> = gone
                .iter()
                .filter(|g| value_key(attr, g).is_none())
                .collect();
            list.retain(|e| {
                !(value_key(attr, e).is_some_and(|k| by_value.contains(&k)) || whole.contains(&e))
            });
        }
        (Op::Remove, Some(sub), _) => {
            for element in list.iter_mut().filter_map(Value::as_object_mut) {
                element.remove(sub.name);
            }
        }
        (Op::Replace, None, v) => {
            *list = elements(attr, v.unwrap_or(&Value::Null), &label)?;
        }
        (Op::Add, None, v) => {
            let new = elements(attr, v.unwrap_or(&Value::Null), &label)?;
            match new.iter().filter(|e| is_primary(e)).count() {
                0 => {}
                1 => unset_primary(list, &[]),
                n => {
                    return Err(ScimError::invalid_value(format!(
                        "{label} has {n} values with primary true; at most one may be primary"
                    )));
                }
            }
            // A value already there merges into it when the result is
            // checked (`finish_list`).
            list.extend(new);
        }
        (Op::Add | Op::Replace, Some(sub), v) => {
            let all = vec![true; list.len()];
            set_sub(list, &all, r, sub, v.unwrap_or(&Value::Null), None)?;
        }
    }
    Ok(())
}

/// A multi-valued attribute with a filter: `members[value eq "…"]`,
/// `emails[type eq "work"].value`. `selected[i]` says whether element `i`
/// matches.
fn multi_filtered(
    list: &mut Vec<Value>,
    selected: &[bool],
    op: Op,
    r: &Resolved,
    filter: &Filter,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = r.attr;
    let label = display_name(r.extension, attr, None);
    let value = value.unwrap_or(&Value::Null);
    match (op, r.sub) {
        (Op::Remove, None) => {
            let mut keep = selected.iter().map(|s| !s);
            list.retain(|_| keep.next().unwrap_or(true));
        }
        (Op::Remove, Some(sub)) => {
            for (element, _) in list.iter_mut().zip(selected).filter(|(_, s)| **s) {
                if let Some(object) = element.as_object_mut() {
                    object.remove(sub.name);
                }
            }
        }
        (Op::Add | Op::Replace, Some(sub)) => {
            set_sub(list, selected, r, sub, value, Some(filter))?;
        }
        (Op::Add | Op::Replace, None) => {
            if value.is_null() {
                // The matching values are unassigned.
                let mut keep = selected.iter().map(|s| !s);
                list.retain(|_| keep.next().unwrap_or(true));
                return Ok(());
            }
            let Some(incoming) = complex(attr, value, &label)? else {
                // `{}`: nothing to set.
                return Ok(());
            };
            let primary = incoming.get("primary") == Some(&Value::Bool(true));
            if !selected.contains(&true) {
                let mut element = seed(attr, filter, &label)?;
                element.extend(incoming);
                if primary {
                    unset_primary(list, &[]);
                }
                list.push(Value::Object(element));
                return Ok(());
            }
            for (element, _) in list.iter_mut().zip(selected).filter(|(_, s)| **s) {
                match (op, element.as_object_mut()) {
                    (Op::Add, Some(object)) => {
                        for (key, v) in &incoming {
                            merge_sub(attr, object, key, v, &label)?;
                        }
                    }
                    _ => *element = Value::Object(incoming.clone()),
                }
            }
            if primary {
                unset_primary(list, selected);
            }
        }
    }
    Ok(())
}

/// Sets sub-attribute `sub` on the selected elements; with none selected,
/// creates one (from the filter's `eq` terms when there is a filter).
fn set_sub(
    list: &mut Vec<Value>,
    selected: &[bool],
    r: &Resolved,
    sub: &AttrDef,
    value: &Value,
    filter: Option<&Filter>,
) -> Result<(), ScimError> {
    let attr = r.attr;
    let label = display_name(r.extension, attr, None);
    let primary = sub.name == "primary"
        && simple(sub, value, &format!("{label}.primary"))? == Some(Value::Bool(true));
    if !selected.contains(&true) {
        if value.is_null() {
            return Ok(());
        }
        let mut element = match filter {
            Some(filter) => seed(attr, filter, &label)?,
            None => Map::new(),
        };
        merge_sub(attr, &mut element, sub.name, value, &label)?;
        if primary {
            unset_primary(list, &[]);
        }
        list.push(Value::Object(element));
        return Ok(());
    }
    for (element, _) in list.iter_mut().zip(selected).filter(|(_, s)| **s) {
        if let Some(object) = element.as_object_mut() {
            merge_sub(attr, object, sub.name, value, &label)?;
        }
    }
    if primary {
        unset_primary(list, selected);
    }
    Ok(())
}

/// A new element described by a filter of `eq` terms joined by `and`:
/// `type eq "work"` gives `{"type": "work"}`. Anything else describes no
/// single element: 400 `noTarget`.
fn seed(attr: &AttrDef, filter: &Filter, label: &str) -> Result<Map<String, Value>, ScimError> {
    let no_target = || {
        ScimError::no_target(format!(
            "no value of {label} matches [{}], and it does not describe a new one \
             (only `eq` terms joined by `and` do)",
            super::lex::clip(&filter.to_string())
        ))
    };
    let terms = match filter {
        Filter::And(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let mut out = Map::new();
    for term in terms {
        let Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } = term
        else {
            return Err(no_target());
        };
        let value = match value {
            CompValue::Str(s) => Value::String(s.clone()),
            CompValue::Number(n) => Value::Number(n.clone()),
            CompValue::Bool(b) => Value::Bool(*b),
            CompValue::Null => return Err(no_target()),
        };
        merge_sub(attr, &mut out, &path.name, &value, label)?;
    }
    Ok(out)
}

fn is_primary(element: &Value) -> bool {
    element.get("primary") == Some(&Value::Bool(true))
}

/// `primary: false` on every element not in `keep` (RFC 7644 §3.5.2: a
/// new primary value demotes the old one).
fn unset_primary(list: &mut [Value], keep: &[bool]) {
    for (i, element) in list.iter_mut().enumerate() {
        if !keep.get(i).copied().unwrap_or(false)
            && is_primary(element)
            && let Some(object) = element.as_object_mut()
        {
            object.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
