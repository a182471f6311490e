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
mod tests {
    use super::*;
    use serde_json::json;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    /// RFC 7643 §8.2's full user, trimmed, as Entra ID provisions it
    /// (enterprise extension, `active` as the string Entra sends).
    fn bjensen() -> Value {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                ENTERPRISE
            ],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "701984",
            "userName": "bjensen@example.com",
            "name": {
                "formatted": "Ms. Barbara J Jensen, III",
                "familyName": "Jensen",
                "givenName": "Barbara"
            },
            "displayName": "Babs Jensen",
            "title": "Tour Guide",
            "userType": "Employee",
            "active": "True",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "ims": [{"value": "someaimhandle", "type": "aim"}],
            "groups": [],
            "loginCount": 42,
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z"
            },
            ENTERPRISE: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "department": "Tour Operations",
                "manager": {
                    "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                    "displayName": "John Smith"
                }
            }
        })
    }

    /// As Okta provisions a user: no extension, real booleans, few fields.
    fn okta_user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "userName": "isaac.brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "O'Malley"},
            "emails": [{"primary": true, "value": "isaac.brock@example.org", "type": "work"}],
            "ims": [{"value": "isaac@foo.com", "type": "xmpp"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "userType": "Intern",
            "title": "",
            "active": true,
            "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34.500+02:00"}
        })
    }

    fn group() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Tour Guides",
            "members": [
                {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
                {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
            ],
            "meta": {"resourceType": "Group"}
        })
    }

    fn check(resource: &Value, cases: &[(&str, bool)]) {
        for (text, expected) in cases {
            let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(filter.matches(resource), *expected, "{text}");
        }
    }

    #[test]
    fn rfc_examples_against_bjensen_and_an_okta_user() {
        // (filter, bjensen, okta user)
        let cases: &[(&str, bool, bool)] = &[
            (r#"userName eq "bjensen@example.com""#, true, false),
            (r#"userName eq "BJensen@Example.com""#, true, false),
            (r#"name.familyName co "O'Malley""#, false, true),
            (r#"userName sw "J""#, false, false),
            (r#"userName sw "b""#, true, false),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "I""#,
                false,
                true,
            ),
            ("title pr", true, false),
            (
                r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
                false,
                false,
            ),
            (
                r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
                true,
                false,
            ),
            (
                r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
                false,
                true,
            ),
            (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true, true),
            (r#"title pr and userType eq "Employee""#, true, false),
            (r#"title pr or userType eq "Intern""#, true, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                true,
                false,
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                true,
                false,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                false,
                false,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com")"#,
                false,
                true,
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                true,
                false,
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                true,
                false,
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                true,
                true,
            ),
        ];
        let (b, o) = (bjensen(), okta_user());
        for (text, on_b, on_o) in cases {
            let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (filter.matches(&b), filter.matches(&o)),
                (*on_b, *on_o),
                "{text}"
            );
        }
    }

    #[test]
    fn every_operator_on_strings_numbers_and_booleans() {
        check(
            &bjensen(),
            &[
                (r#"displayName eq "babs jensen""#, true),
                (r#"displayName ne "babs jensen""#, false),
                (r#"displayName ne "Barbara""#, true),
                (r#"displayName co "S JEN""#, true),
                (r#"displayName sw "babs""#, true),
                (r#"displayName ew "JENSEN""#, true),
                (r#"displayName ew "Babs""#, false),
                (r#"displayName gt "Babs""#, true),
                (r#"displayName ge "babs jensen""#, true),
                (r#"displayName lt "c""#, true),
                (r#"displayName le "Babs Jensem""#, false),
                ("loginCount eq 42", true),
                ("loginCount eq 42.0", true),
                ("loginCount ne 42", false),
                ("loginCount gt 41", true),
                ("loginCount gt 41.5", true),
                ("loginCount ge 42", true),
                ("loginCount lt -1", false),
                ("loginCount le 4.2e1", true),
                ("loginCount gt 18446744073709551615", false),
                ("loginCount co 4", false),
                // Entra's "True" is a boolean when compared with one.
                ("active eq true", true),
                ("active eq false", false),
                ("active ne false", true),
                ("active gt false", false),
                ("emails.primary eq true", true),
                ("emails.primary eq false", false),
                (r#"emails.primary eq "TRUE""#, true),
                // Mismatched types never match, and never fail.
                (r#"loginCount eq "42""#, false),
                ("userName eq 1", false),
                ("name eq 1", false),
                ("userName eq true", false),
                ("meta gt 1", false),
            ],
        );
    }

    #[test]
    fn dates_compare_chronologically_across_formats() {
        // 04:42:34.500+02:00 is 02:42:34.5Z, before 04:42:34Z.
        check(
            &okta_user(),
            &[
                (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, true),
                (r#"meta.lastModified eq "2011-05-13T02:42:34.5Z""#, true),
                (r#"meta.lastModified gt "2011-05-13T02:42:34Z""#, true),
                (r#"meta.lastModified sw "2011-05-13T04""#, true),
                (r#"meta.lastModified gt "2011""#, true),
            ],
        );
    }

    #[test]
    fn ne_and_null_on_missing_and_empty_attributes() {
        check(
            &okta_user(),
            &[
                // nickName is missing: ne does not match, not (eq) does.
                (r#"nickName ne "x""#, false),
                (r#"not (nickName eq "x")"#, true),
                ("nickName eq null", true),
                ("nickName ne null", false),
                ("nickName pr", false),
                // title is "": no value for pr and null, but a string for ne.
                ("title pr", false),
                ("title eq null", true),
                (r#"title eq """#, true),
                (r#"title ne "x""#, true),
                ("userName ne null", true),
                ("userName eq null", false),
                ("userName gt null", false),
                // ne on a multi-valued attribute: some value differs.
                (r#"emails.type ne "work""#, false),
                (r#"emails.type ne "home""#, true),
            ],
        );
        check(
            &bjensen(),
            &[
                (r#"emails.type ne "work""#, true),
                (r#"not (emails.type eq "work")"#, false),
                ("groups pr", false),
                ("groups eq null", true),
                ("name pr", true),
            ],
        );
        let sparse = json!({
            "nickName": null,
            "emails": [null, {"value": null}, {}],
            "name": {"givenName": "", "middleName": null},
            "x509Certificates": [[]]
        });
        check(
            &sparse,
            &[
                ("nickName pr", false),
                ("nickName eq null", true),
                (r#"nickName ne "x""#, false),
                ("emails pr", false),
                ("emails.value pr", false),
                ("name pr", false),
                ("name.givenName pr", false),
                ("x509Certificates pr", false),
            ],
        );
    }

    #[test]
    fn names_ignore_case_and_urns_find_extensions() {
        check(
            &bjensen(),
            &[
                (r#"USERNAME EQ "bjensen@example.com""#, true),
                (r#"Name.FamilyName Eq "jensen""#, true),
                (r#"EMAILS[TYPE EQ "WORK"]"#, true),
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara""#,
                    true,
                ),
                (
                    r#"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName pr"#,
                    true,
                ),
                (
                    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                    true,
                ),
                (
                    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
                    true,
                ),
                (
                    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "tour""#,
                    true,
                ),
                // The core schema may be omitted; extensions may not.
                (r#"employeeNumber eq "701984""#, false),
                (r#"manager.value pr"#, false),
                // A URN the resource does not have finds nothing.
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr"#,
                    false,
                ),
                (r#"urn:example:other:1.0:User:userName pr"#, false),
                (
                    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
                    false,
                ),
            ],
        );
        // Without `schemas`, core URNs still find core attributes.
        let bare = json!({"userName": "x"});
        check(
            &bare,
            &[
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
                    true,
                ),
                (r#"urn:example:other:1.0:User:userName eq "x""#, false),
            ],
        );
    }

    #[test]
    fn value_filters_select_one_element() {
        check(
            &bjensen(),
            &[
                (r#"emails[type eq "work"]"#, true),
                (r#"emails[type eq "home" and value ew "jensen.org"]"#, true),
                // Both conditions must hold for the same element…
                (
                    r#"emails[type eq "home" and value co "example.com"]"#,
                    false,
                ),
                // …unlike two separate comparisons.
                (
                    r#"emails.type eq "home" and emails.value co "example.com""#,
                    true,
                ),
                (r#"emails[primary eq true]"#, true),
                (r#"emails[not (primary pr)]"#, true),
                (r#"emails[type eq "other" or value sw "BABS"]"#, true),
                (r#"ims[type eq "xmpp"]"#, false),
                (r#"phoneNumbers[type eq "work"]"#, false),
                (r#"not (phoneNumbers[type pr])"#, true),
                // A single complex attribute is one element.
                (r#"name[givenName eq "barbara"]"#, true),
                (r#"userName[value pr]"#, false),
                (
                    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName sw "john"]"#,
                    true,
                ),
            ],
        );
    }

    #[test]
    fn groups_as_entra_and_okta_query_them() {
        check(
            &group(),
            &[
                (r#"displayName eq "tour guides""#, true),
                (r#"displayName eq "Tour""#, false),
                // Entra ID: "is this user a member?"
                (
                    r#"id eq "abf4dd94-a4c0-4f67-89c9-76b03340cb9b" and members eq "902c246b-6245-4190-8e05-00816be7344a""#,
                    true,
                ),
                (
                    r#"members eq "00000000-0000-0000-0000-000000000000""#,
                    false,
                ),
                (
                    r#"members[value eq "2819C223-7F76-453A-919D-413861904646"]"#,
                    true,
                ),
                (
                    r#"members.value eq "902c246b-6245-4190-8e05-00816be7344a""#,
                    true,
                ),
                (r#"members[type eq "Group"]"#, false),
                (r#"members[display co "mandy"]"#, true),
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr"#,
                    true,
                ),
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:User:displayName pr"#,
                    false,
                ),
                (r#"meta.resourceType eq "group""#, true),
            ],
        );
    }

    #[test]
    fn case_exact_attributes_follow_the_hook() {
        // The core defaults: id and externalId are caseExact.
        check(
            &okta_user(),
            &[
                (r#"externalId eq "00ujl29u0le5T6Aj10h7""#, true),
                (r#"externalId eq "00UJL29U0LE5T6AJ10H7""#, false),
                (r#"id eq "23A35C27-23D3-4C03-B4C5-6443C09E7173""#, false),
                (r#"id eq "23a35c27-23d3-4c03-b4c5-6443c09e7173""#, true),
                (
                    r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId sw "00UJ""#,
                    false,
                ),
                (r#"userName eq "ISAAC.BROCK@EXAMPLE.COM""#, true),
            ],
        );
        let user = okta_user();
        let everything_exact = |_: &AttrPath| true;
        let nothing_exact = |_: &AttrPath| false;
        let f = |text: &str| Filter::parse(text).unwrap();
        assert!(
            !f(r#"userName eq "ISAAC.BROCK@EXAMPLE.COM""#).matches_with(&user, &everything_exact)
        );
        assert!(
            f(r#"id eq "23A35C27-23D3-4C03-B4C5-6443C09E7173""#)
                .matches_with(&user, &nothing_exact)
        );

        // Inside brackets the hook sees the full path.
        let seen = std::cell::RefCell::new(Vec::new());
        let recording = |p: &AttrPath| {
            seen.borrow_mut().push(p.to_string());
            p.sub.as_deref() == Some("value")
        };
        let filter = f(r#"emails[type eq "WORK" and value eq "ISAAC.BROCK@EXAMPLE.ORG"]"#);
        assert!(!filter.matches_with(&user, &recording));
        assert_eq!(seen.borrow().as_slice(), ["emails.type", "emails.value"]);
    }

    #[test]
    fn matches_element_evaluates_the_bracketed_part() {
        let filter = Filter::parse(r#"type eq "work" and primary eq true"#).unwrap();
        let emails = AttrPath::new("emails");
        let cases = [
            (json!({"type": "Work", "primary": true}), true),
            (json!({"type": "work", "primary": "True"}), true),
            (json!({"type": "work"}), false),
            (json!("work"), false),
        ];
        for (element, expected) in cases {
            assert_eq!(
                filter.matches_element(&emails, &element, &CoreCaseExact),
                expected,
                "{element}"
            );
        }
    }

    #[test]
    fn odd_resources_never_match_and_never_panic() {
        let resources = [
            json!(null),
            json!("userName"),
            json!([{"userName": "x"}]),
            json!({"userName": {"userName": "x"}}),
            json!({"userName": [[["x"]]]}),
            json!({"schemas": "not a list", "userName": "x"}),
            json!({"userName": "X", "username": "x"}),
        ];
        let filter = Filter::parse(r#"userName eq "x""#).unwrap();
        let results: Vec<bool> = resources.iter().map(|r| filter.matches(r)).collect();
        // The last has an exact-case key `userName` = "X": case-insensitive eq.
        assert_eq!(results, [false, false, false, false, false, true, true]);
    }
}
