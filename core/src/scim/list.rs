//! `GET /Users` and `GET /Groups` (RFC 7644 §3.4.2): the query parameters
//! checked and parsed, the filter checked against the schema, paging, and
//! the ListResponse.
//!
//! Parameter names ignore case (`startIndex`, `STARTINDEX`); a parameter
//! given twice counts once, the last one. `sortBy` and `sortOrder` are
//! accepted and ignored: the ServiceProviderConfig says sorting is not
//! supported, and the RFC lets such a server return unsorted results.
//! Unknown parameters are ignored.

use super::error::ScimError;
use super::filter::{AttrPath, CompareOp, Filter, attr_path};
use super::lex::clip;
use super::schema::{AttrType, LIST_RESPONSE, ResourceKind, SchemaCaseExact, Target};
use super::value::quote;
use serde_json::{Value, json};

/// At most this many paths in `attributes` or `excludedAttributes`.
pub const MAX_ATTRIBUTE_PATHS: usize = 100;

/// A list request's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based, at least 1.
    pub start_index: usize,
    /// At most the server's maximum; 0 asks for `totalResults` only.
    pub count: usize,
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// Parses the query string's `(name, value)` pairs (already
/// percent-decoded) of a list request on `kind`.
///
/// `startIndex` below 1 counts as 1 and `count` below 0 as 0 (RFC 7644
/// §3.4.2.4); a `count` above `max_count`, or missing, is `max_count`.
/// A non-integer is 400 `invalidValue` naming the parameter; a bad or
/// unknown-attribute filter 400 `invalidFilter`.
pub fn parse_list_query(
    kind: ResourceKind,
    pairs: &[(String, String)],
    max_count: usize,
) -> Result<ListQuery, ScimError> {
    let mut query = ListQuery {
        filter: None,
        start_index: 1,
        count: max_count,
        attributes: Vec::new(),
        excluded: Vec::new(),
    };
    for (name, value) in pairs {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("filter") {
            query.filter = match value.trim() {
                "" => None,
                text => {
                    let filter = Filter::parse(text)?;
                    check_filter(kind, &filter)?;
                    Some(filter)
                }
            };
        } else if is("startIndex") {
            query.start_index = match integer("startIndex", value)? {
                (true, _) | (false, 0) => 1,
                (false, n) => usize::try_from(n).unwrap_or(usize::MAX),
            };
        } else if is("count") {
            query.count = match integer("count", value)? {
                (true, _) => 0,
                (false, n) => usize::try_from(n).unwrap_or(usize::MAX).min(max_count),
            };
        } else if is("attributes") {
            query.attributes = attr_paths("attributes", value)?;
        } else if is("excludedAttributes") {
            query.excluded = attr_paths("excludedAttributes", value)?;
        }
    }
    Ok(query)
}

/// `(negative, magnitude)`, the magnitude saturating at `u64::MAX`.
fn integer(name: &str, text: &str) -> Result<(bool, u64), ScimError> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScimError::invalid_value(format!(
            "{name} must be an integer, not {:?}",
            clip(text)
        )));
    }
    Ok((negative, digits.parse().unwrap_or(u64::MAX)))
}

fn attr_paths(name: &str, text: &str) -> Result<Vec<AttrPath>, ScimError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if out.len() == MAX_ATTRIBUTE_PATHS {
            return Err(ScimError::invalid_value(format!(
                "{name} lists more than {MAX_ATTRIBUTE_PATHS} attributes"
            )));
        }
        let path = attr_path(part, 0)
            .map_err(|e| ScimError::invalid_value(format!("{name}: {}", e.kind)))?;
        out.push(path);
    }
    Ok(out)
}

/// Refuses a filter on attributes `kind` does not have, and ordering or
/// substring operators on booleans (RFC 7644 §3.4.2.2), with 400
/// `invalidFilter`.
pub fn check_filter(kind: ResourceKind, filter: &Filter) -> Result<(), ScimError> {
    check(kind, filter, None)
}

/// Recursion follows the parsed filter, which the parser bounds at
/// [`super::MAX_DEPTH`].
fn check(kind: ResourceKind, filter: &Filter, parent: Option<&AttrPath>) -> Result<(), ScimError> {
    let full = |path: &AttrPath| match parent {
        Some(parent) => AttrPath {
            urn: parent.urn.clone(),
            name: parent.name.clone(),
            sub: Some(path.name.clone()),
        },
        None => path.clone(),
    };
    match filter {
        Filter::And(items) | Filter::Or(items) => {
            items.iter().try_for_each(|item| check(kind, item, parent))
        }
        Filter::Not(inner) => check(kind, inner, parent),
        Filter::Present { path } => leaf(kind, &full(path)).map(drop),
        Filter::Compare { path, op, .. } => {
            let path = full(path);
            let ty = leaf(kind, &path)?;
            if ty == AttrType::Boolean && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(ScimError::invalid_filter(format!(
                    "{path} is a boolean: only eq, ne and pr apply, not {op}"
                )));
            }
            Ok(())
        }
        Filter::ValuePath { path, filter } => {
            let path = full(path);
            if leaf(kind, &path)? != AttrType::Complex {
                return Err(ScimError::invalid_filter(format!(
                    "{path} has no sub-attributes to filter with [...]"
                )));
            }
            check(kind, filter, Some(&path))
        }
    }
}

fn leaf(kind: ResourceKind, path: &AttrPath) -> Result<AttrType, ScimError> {
    match kind.resolve(path) {
        Some(Target::Attr(r)) => Ok(r.leaf().ty),
        _ => Err(ScimError::invalid_filter(format!(
            "unknown attribute {} in the filter",
            quote(&path.to_string())
        ))),
    }
}

/// Whether `full` (a full representation) matches, with the schema's case
/// rules.
pub fn filter_matches(kind: ResourceKind, filter: &Filter, full: &Value) -> bool {
    filter.matches_with(full, &SchemaCaseExact(kind))
}

/// A ListResponse (RFC 7644 §3.4.2): `total` matches in all, `resources`
/// the page from `start_index`.
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index.max(1),
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn query(list: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        parse_list_query(ResourceKind::User, &pairs(list), 100)
    }

    #[test]
    fn paging_parameters_follow_the_rfc() {
        type Case<'a> = (&'a [(&'a str, &'a str)], usize, usize);
        let cases: &[Case<'_>] = &[
            (&[], 1, 100),
            (&[("startIndex", "1"), ("count", "10")], 1, 10),
            (&[("STARTINDEX", "21"), ("Count", "20")], 21, 20),
            (&[("startIndex", "0")], 1, 100),
            (&[("startIndex", "-5")], 1, 100),
            (&[("count", "0")], 1, 0),
            (&[("count", "-1")], 1, 0),
            (&[("count", "1000")], 1, 100),
            (&[("count", "99999999999999999999999")], 1, 100),
            (
                &[("startIndex", "99999999999999999999999")],
                usize::MAX,
                100,
            ),
            (&[("count", " +7 ")], 1, 7),
            (&[("count", "5"), ("count", "6")], 1, 6),
            (
                &[
                    ("sortBy", "userName"),
                    ("sortOrder", "descending"),
                    ("other", "x"),
                ],
                1,
                100,
            ),
        ];
        for (list, start, count) in cases {
            let q = query(list).unwrap();
            assert_eq!((q.start_index, q.count), (*start, *count), "{list:?}");
        }
        for (name, value) in [
            ("startIndex", "one"),
            ("count", "1.5"),
            ("count", ""),
            ("count", "-"),
            ("startIndex", "0x10"),
        ] {
            let e = query(&[(name, value)]).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidValue"), "{name}={value}");
            assert!(
                e.detail.starts_with(&format!("{name} must be an integer")),
                "{}",
                e.detail
            );
        }
    }

    #[test]
    fn filters_are_parsed_and_checked_against_the_schema() {
        let ok = [
            r#"userName eq "bjensen""#,
            r#"externalId eq "00ujl29u0le5T6Aj10h7""#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"emails co "example.com""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            "active eq true and not (title pr)",
            r#"name.familyName sw "J""#,
            "active ne false",
        ];
        for text in ok {
            let q = query(&[("filter", text)]).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(q.filter, Some(Filter::parse(text).unwrap()));
        }
        assert_eq!(query(&[("filter", "  ")]).unwrap().filter, None);
        let bad: &[(&str, &str)] = &[
            ("userName eq", "invalid filter: expected a value"),
            (
                r#"department eq "x""#,
                r#"unknown attribute "department" in the filter"#,
            ),
            (
                r#"name.nick eq "x""#,
                r#"unknown attribute "name.nick" in the filter"#,
            ),
            (
                r#"emails[kind eq "work"]"#,
                r#"unknown attribute "emails.kind" in the filter"#,
            ),
            (
                r#"members.value eq "x""#,
                r#"unknown attribute "members.value" in the filter"#,
            ),
            (
                "password pr",
                r#"unknown attribute "password" in the filter"#,
            ),
            (
                "active gt true",
                "active is a boolean: only eq, ne and pr apply, not gt",
            ),
            (r#"emails.primary co "t""#, "emails.primary is a boolean"),
            (
                r#"userName[value eq "x"]"#,
                "userName has no sub-attributes",
            ),
        ];
        for (text, message) in bad {
            let e = query(&[("filter", text)]).unwrap_err();
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidFilter")),
                "{text}"
            );
            assert!(e.detail.starts_with(message), "{text}: {}", e.detail);
        }
        let group = parse_list_query(
            ResourceKind::Group,
            &pairs(&[(
                "filter",
                r#"displayName eq "Ops" and members[value eq "u1"]"#,
            )]),
            10,
        );
        assert!(group.is_ok());
        assert!(
            parse_list_query(
                ResourceKind::Group,
                &pairs(&[("filter", "userName pr")]),
                10
            )
            .is_err()
        );
    }

    #[test]
    fn attribute_lists_are_parsed() {
        let q = query(&[
            ("attributes", "userName, name.givenName,,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            ("excludedAttributes", "groups"),
        ])
        .unwrap();
        let shown: Vec<String> = q.attributes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "userName",
                "name.givenName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
            ]
        );
        assert_eq!(q.excluded, [AttrPath::new("groups")]);
        let e = query(&[("attributes", "userName,emails[type eq \"work\"]")]).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        assert!(e.detail.starts_with("attributes: "), "{}", e.detail);
        let e = query(&[("excludedAttributes", "a.b.c")]).unwrap_err();
        assert!(e.detail.starts_with("excludedAttributes: "), "{}", e.detail);
        let many = vec!["userName"; MAX_ATTRIBUTE_PATHS + 1].join(",");
        assert_eq!(
            query(&[("attributes", &many)]).unwrap_err().scim_type,
            Some("invalidValue")
        );
    }

    #[test]
    fn list_responses() {
        assert_eq!(
            list_response(2, 1, vec![json!({"id": "a"}), json!({"id": "b"})]),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 2,
                "startIndex": 1,
                "itemsPerPage": 2,
                "Resources": [{"id": "a"}, {"id": "b"}]
            })
        );
        assert_eq!(list_response(40, 21, vec![])["itemsPerPage"], 0);
    }

    #[test]
    fn filter_matches_uses_the_schema_case_rules() {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "AbC",
            "userName": "BJensen",
            "externalId": "Ext-1",
            "emails": [{"value": "BJ@Example.com", "type": "work"}]
        });
        let cases: &[(&str, bool)] = &[
            (r#"userName eq "bjensen""#, true),
            (r#"externalId eq "ext-1""#, false),
            (r#"externalId eq "Ext-1""#, true),
            (r#"id eq "abc""#, false),
            (
                r#"emails[type eq "WORK" and value eq "bj@example.com"]"#,
                true,
            ),
        ];
        for (text, expected) in cases {
            let f = Filter::parse(text).unwrap();
            assert_eq!(
                filter_matches(ResourceKind::User, &f, &user),
                *expected,
                "{text}"
            );
        }
        let group = json!({"id": "g", "displayName": "Ops", "members": [{"value": "U1"}]});
        let f = Filter::parse(r#"members[value eq "u1"]"#).unwrap();
        assert!(!filter_matches(ResourceKind::Group, &f, &group));
        let f = Filter::parse(r#"members[value eq "U1"]"#).unwrap();
        assert!(filter_matches(ResourceKind::Group, &f, &group));
    }
}
