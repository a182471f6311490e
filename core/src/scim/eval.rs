//! Evaluating a parsed filter against one resource held as SCIM JSON, for
//! stores that filter in memory and for PATCH paths that pick elements.
//!
//! The rules, from RFC 7644 §3.4.2.2 and RFC 7643 §2:
//! - attribute names ignore ASCII case; a URN prefix picks the extension
//!   object keyed by that URN, or the top level when the URN is one of the
//!   resource's `schemas` (or a core schema, when `schemas` is absent);
//! - a multi-valued attribute matches if any of its values does, and
//!   `emails.value` reads `value` from every element of `emails`;
//! - comparing a complex value (`emails co "example.com"`) compares its
//!   `value` sub-attribute, the common reading of the RFC's own example;
//! - null, `""`, `[]` and `{}` (or objects of only such) are "no value":
//!   RFC 7643 §2.5 makes null and unassigned the same;
//! - strings compare ignoring case unless [`CaseExact`] says otherwise;
//!   two RFC 3339 timestamps compare chronologically; numbers numerically;
//!   booleans only for (in)equality, also against the strings `"True"` and
//!   `"False"` that Microsoft Entra ID stores and sends;
//! - anything else (mismatched types, `gt` on booleans, `co` on numbers) is
//!   simply no match, never an error: the server may reject such filters
//!   up front with [`Filter::attr_paths`] and its schema, as the RFC wants
//!   for `gt` on booleans.
//!
//! `ne`: the RFC defines it as "the attribute and operator values are not
//! identical", which presumes a value. We match `ne` only where the
//! attribute has a value, and then per value: `title ne "x"` does not match
//! a user without a title, and `emails.type ne "work"` matches a user with
//! any non-work email. This is what SQL (`col <> 'x'` is never true for
//! NULL) and most SCIM servers do; `not (title eq "x")` is there for the
//! other reading. `eq null` matches when the attribute has no value, and
//! `ne null` when it has one (the same as `pr`).

use super::filter::{AttrPath, CompValue, CompareOp, Filter, is_core_urn};
use chrono::DateTime;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Which attributes compare strings case-sensitively (RFC 7643's
/// `caseExact`). Closures `Fn(&AttrPath) -> bool` qualify. The path is
/// always the full one: inside `emails[value eq "x"]` it is `emails.value`.
pub trait CaseExact {
    fn is_case_exact(&self, path: &AttrPath) -> bool;
}

impl<F: Fn(&AttrPath) -> bool> CaseExact for F {
    fn is_case_exact(&self, path: &AttrPath) -> bool {
        self(path)
    }
}

/// The core schema's choices: `id` and `externalId` are `caseExact`
/// (RFC 7643 §3.1), everything else (`userName`, `displayName`, emails…)
/// is not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoreCaseExact;

impl CaseExact for CoreCaseExact {
    fn is_case_exact(&self, path: &AttrPath) -> bool {
        path.sub.is_none()
            && path.is_core()
            && (path.name.eq_ignore_ascii_case("id")
                || path.name.eq_ignore_ascii_case("externalId"))
    }
}

impl Filter {
    /// Whether `resource` (a SCIM User, Group… as JSON) matches, with the
    /// core schema's case rules ([`CoreCaseExact`]).
    pub fn matches(&self, resource: &Value) -> bool {
        self.matches_with(resource, &CoreCaseExact)
    }

    /// Whether `resource` matches, with the server's own case rules.
    pub fn matches_with(&self, resource: &Value, case_exact: &dyn CaseExact) -> bool {
        eval(self, Scope::Resource(resource), case_exact)
    }

    /// Whether one element of the multi-valued attribute `parent` matches
    /// this filter, whose paths name the element's sub-attributes: the
    /// bracketed part of `emails[type eq "work"]`, applied to one email.
    pub fn matches_element(
        &self,
        parent: &AttrPath,
        element: &Value,
        case_exact: &dyn CaseExact,
    ) -> bool {
        eval(self, Scope::Element { parent, element }, case_exact)
    }
}

/// What paths are relative to.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Resource(&'a Value),
    /// One element of `parent`, inside `parent[…]`.
    Element {
        parent: &'a AttrPath,
        element: &'a Value,
    },
}

fn eval(filter: &Filter, scope: Scope<'_>, case_exact: &dyn CaseExact) -> bool {
    match filter {
        Filter::And(items) => items.iter().all(|f| eval(f, scope, case_exact)),
        Filter::Or(items) => items.iter().any(|f| eval(f, scope, case_exact)),
        Filter::Not(inner) => !eval(inner, scope, case_exact),
        Filter::Present { path } => values(scope, path).into_iter().any(has_value),
        Filter::Compare { path, op, value } => {
            let exact = match scope {
                Scope::Resource(_) => case_exact.is_case_exact(path),
                Scope::Element { parent, .. } => case_exact.is_case_exact(&AttrPath {
                    urn: parent.urn.clone(),
                    name: parent.name.clone(),
                    sub: Some(path.name.clone()),
                }),
            };
            compare_all(&values(scope, path), *op, value, exact)
        }
        Filter::ValuePath { path, filter } => {
            // The grammar has no value filter inside another.
            let Scope::Resource(resource) = scope else {
                return false;
            };
            attribute(resource, path).is_some_and(|attr| {
                as_slice(attr)
                    .iter()
                    .filter(|e| e.is_object())
                    .any(|element| {
                        eval(
                            filter,
                            Scope::Element {
                                parent: path,
                                element,
                            },
                            case_exact,
                        )
                    })
            })
        }
    }
}

/// `name`'s value in an object, preferring an exact match of the key and
/// otherwise ignoring ASCII case.
fn get<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The attribute `path.name` of a resource (before any sub-attribute),
/// looked up where its URN says.
fn attribute<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let Some(urn) = &path.urn else {
        return get(resource, &path.name);
    };
    if let Some(extension) = get(resource, urn).filter(|e| e.is_object()) {
        return get(extension, &path.name);
    }
    let declared = match get(resource, "schemas") {
        Some(Value::Array(schemas)) => schemas
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))),
        _ => is_core_urn(urn),
    };
    declared.then(|| get(resource, &path.name)).flatten()
}

fn as_slice(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Every non-null value `path` names, multi-valued attributes flattened.
fn values<'a>(scope: Scope<'a>, path: &AttrPath) -> Vec<&'a Value> {
    let attr = match scope {
        Scope::Resource(resource) => attribute(resource, path),
        Scope::Element { element, .. } => get(element, &path.name),
    };
    let mut out = Vec::new();
    let Some(attr) = attr else {
        return out;
    };
    match &path.sub {
        None => push_values(attr, &mut out),
        Some(sub) => {
            for item in as_slice(attr) {
                if let Some(v) = get(item, sub) {
                    push_values(v, &mut out);
                }
            }
        }
    }
    out
}

fn push_values<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        other => out.push(other),
    }
}

/// `pr`: "a non-empty value, or a non-empty node for complex attributes".
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(has_value),
        Value::Object(members) => members.values().any(has_value),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_all(values: &[&Value], op: CompareOp, literal: &CompValue, exact: bool) -> bool {
    match (literal, op) {
        (CompValue::Null, CompareOp::Eq) => !values.iter().any(|v| has_value(v)),
        (CompValue::Null, CompareOp::Ne) => values.iter().any(|v| has_value(v)),
        (CompValue::Null, _) => false,
        _ => values.iter().any(|v| compare_one(v, op, literal, exact)),
    }
}

/// One (non-null) stored value against the literal.
fn compare_one(value: &Value, op: CompareOp, literal: &CompValue, exact: bool) -> bool {
    if op == CompareOp::Ne {
        return !compare_one(value, CompareOp::Eq, literal, exact);
    }
    let value = match value {
        Value::Object(_) => match get(value, "value") {
            Some(inner) => inner,
            None => return false,
        },
        other => other,
    };
    match (value, literal) {
        (Value::String(s), CompValue::Str(l)) => compare_strings(s, op, l, exact),
        (Value::Number(n), CompValue::Number(l)) => {
            compare_numbers(n, l).is_some_and(|o| ordered(op, o))
        }
        (Value::Bool(b), CompValue::Bool(l)) => op == CompareOp::Eq && b == l,
        (Value::String(s), CompValue::Bool(l)) => op == CompareOp::Eq && parse_bool(s) == Some(*l),
        (Value::Bool(b), CompValue::Str(l)) => op == CompareOp::Eq && parse_bool(l) == Some(*b),
        _ => false,
    }
}

/// Whether `ordering` (stored value against literal) satisfies `op`.
fn ordered(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare_strings(value: &str, op: CompareOp, literal: &str, exact: bool) -> bool {
    let ordering_op = !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if ordering_op
        && let (Ok(a), Ok(b)) = (
            DateTime::parse_from_rfc3339(value),
            DateTime::parse_from_rfc3339(literal),
        )
    {
        return ordered(op, a.cmp(&b));
    }
    let (value, literal): (Cow<'_, str>, Cow<'_, str>) = if exact {
        (value.into(), literal.into())
    } else {
        (value.to_lowercase().into(), literal.to_lowercase().into())
    };
    match op {
        CompareOp::Co => value.contains(&*literal),
        CompareOp::Sw => value.starts_with(&*literal),
        CompareOp::Ew => value.ends_with(&*literal),
        _ => ordered(op, value.cmp(&literal)),
    }
}

/// Exact for integers of any sign and size serde_json holds; floats
/// otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// `"true"`/`"false"` in any case, as Entra ID writes `"True"`/`"False"`.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
