//! PATCH operation paths (RFC 7644 §3.5.2): which attribute, and which
//! elements of a multi-valued one, an `add`/`replace`/`remove` targets.
//!
//! ```text
//! PATH = attrPath / valuePath [subAttr]
//! ```
//!
//! e.g. `name.givenName`, `members[value eq "2819c223-…"]`,
//! `emails[type eq "work"].value` or
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
//! The bracketed part is a value filter, parsed by the filter parser with
//! the same limits; errors are [`PathError`]s, for a 400 with `scimType`
//! `invalidPath`.

use super::eval::{CaseExact, CoreCaseExact};
use super::filter::{AttrPath, Filter, FilterError, Parser, SyntaxError, attr_path, sub_attr};
use super::lex::Tok;
use serde_json::Value;
use std::fmt;

/// A parsed PATCH path.
///
/// `attr` holds the sub-attribute wherever it was written: for
/// `emails[type eq "work"].value` it is `emails.value` and `filter` is
/// `type eq "work"`; for `name.givenName` it is `name.givenName` with no
/// filter. A filter always applies to the elements of `attr.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// Selects elements of the multi-valued attribute `attr.name`; its paths
    /// name the elements' sub-attributes.
    pub filter: Option<Filter>,
}

impl PatchPath {
    pub fn parse(text: &str) -> Result<PatchPath, PathError> {
        parse(text).map_err(PathError::from)
    }

    /// Whether `element`, one value of `attr.name`, is a target: always
    /// without a filter, otherwise when the filter matches it (core
    /// schema case rules).
    pub fn selects(&self, element: &Value) -> bool {
        self.selects_with(element, &CoreCaseExact)
    }

    /// [`selects`](Self::selects) with the server's own case rules.
    pub fn selects_with(&self, element: &Value, case_exact: &dyn CaseExact) -> bool {
        let parent = AttrPath {
            sub: None,
            ..self.attr.clone()
        };
        self.filter
            .as_ref()
            .is_none_or(|f| f.matches_element(&parent, element, case_exact))
    }
}

impl std::str::FromStr for PatchPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PatchPath::parse(s)
    }
}

/// Canonical text that parses back to the same path.
impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(filter) = &self.filter else {
            return write!(f, "{}", self.attr);
        };
        if let Some(urn) = &self.attr.urn {
            write!(f, "{urn}:")?;
        }
        write!(f, "{}[{filter}]", self.attr.name)?;
        if let Some(sub) = &self.attr.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A refused PATCH path: what is wrong and the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path: {kind} (at byte {position})")]
pub struct PathError {
    /// Byte offset into the path text, at most its length.
    pub position: usize,
    pub kind: SyntaxError,
}

impl PathError {
    /// The SCIM error type to answer with (RFC 7644 §3.12), with status 400.
    pub const SCIM_TYPE: &'static str = "invalidPath";
}

impl From<FilterError> for PathError {
    fn from(e: FilterError) -> Self {
        Self {
            position: e.position,
            kind: e.kind,
        }
    }
}

fn expected(position: usize, what: &'static str, found: &Tok<'_>) -> FilterError {
    FilterError::new(
        position,
        SyntaxError::Expected {
            expected: what,
            found: found.describe(),
        },
    )
}

fn parse(text: &str) -> Result<PatchPath, FilterError> {
    let mut parser = Parser::new(text)?;
    let first = parser.bump()?;
    let word = match first.tok {
        Tok::Word(word) => word,
        Tok::End => return Err(FilterError::new(0, SyntaxError::Empty)),
        other => return Err(expected(first.start, "an attribute path", &other)),
    };
    let mut attr = attr_path(word, first.start)?;
    let next = parser.bump()?;
    match next.tok {
        Tok::End => return Ok(PatchPath { attr, filter: None }),
        Tok::LBracket if attr.sub.is_some() => {
            return Err(FilterError::new(
                first.start,
                SyntaxError::BadAttrPath {
                    path: super::lex::clip(word),
                    reason: "`[…]` filters a multi-valued attribute, not a sub-attribute",
                },
            ));
        }
        Tok::LBracket => {}
        other => return Err(expected(next.start, "`[` or the end of the path", &other)),
    }
    let filter = parser.bracketed(next.start)?;
    let after = parser.bump()?;
    match after.tok {
        Tok::End => {}
        Tok::Word(word) if word.starts_with('.') => {
            attr.sub = Some(sub_attr(&word[1..], after.start)?);
            parser.expect_end("the end of the path")?;
        }
        other => {
            return Err(expected(
                after.start,
                "`.subAttribute` or the end of the path",
                &other,
            ));
        }
    }
    Ok(PatchPath {
        attr,
        filter: Some(filter),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn parses_the_rfc_and_provider_paths() {
        // (path, urn, name, sub, filter)
        type Case = (
            &'static str,
            Option<&'static str>,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            ("userName", None, "userName", None, None),
            ("name.givenName", None, "name", Some("givenName"), None),
            ("members", None, "members", None, None),
            (
                r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
                None,
                "members",
                None,
                Some(r#"value eq "2819c223-7f76-453a-919d-413861904646""#),
            ),
            (
                r#"emails[type eq "work"].value"#,
                None,
                "emails",
                Some("value"),
                Some(r#"type eq "work""#),
            ),
            (
                r#"addresses[type eq "work" and primary eq true].streetAddress"#,
                None,
                "addresses",
                Some("streetAddress"),
                Some(r#"type eq "work" and primary eq true"#),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Some(ENTERPRISE),
                "employeeNumber",
                None,
                None,
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Some(ENTERPRISE),
                "manager",
                Some("value"),
                None,
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "name",
                Some("familyName"),
                None,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].display"#,
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "emails",
                Some("display"),
                Some(r#"type eq "work""#),
            ),
            (
                r#"  EMAILS[TYPE EQ "work" OR NOT (primary PR)].Value "#,
                None,
                "EMAILS",
                Some("Value"),
                Some(r#"TYPE eq "work" or not (primary pr)"#),
            ),
            ("members.$ref", None, "members", Some("$ref"), None),
        ];
        for (text, urn, name, sub, filter) in cases {
            let path = PatchPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (
                    path.attr.urn.as_deref(),
                    path.attr.name.as_str(),
                    path.attr.sub.as_deref(),
                    path.filter.as_ref().map(ToString::to_string).as_deref()
                ),
                (*urn, *name, *sub, *filter),
                "{text}"
            );
            let canonical = path.to_string();
            assert_eq!(PatchPath::parse(&canonical), Ok(path), "{text}: round trip");
        }
        assert_eq!(
            PatchPath::parse(r#"emails[type eq "work"].value"#)
                .unwrap()
                .to_string(),
            r#"emails[type eq "work"].value"#
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "it is empty"),
            ("[type eq \"work\"]", 0, "expected an attribute path"),
            ("\"userName\"", 0, "expected an attribute path"),
            (
                "userName eq \"x\"",
                9,
                "expected `[` or the end of the path",
            ),
            ("emails[", 7, "expected an attribute name"),
            ("emails[type eq \"work\"", 21, "expected `]`"),
            ("emails[type eq \"work\"]value", 22, "`.subAttribute`"),
            ("emails[type eq \"work\"].", 22, "a sub-attribute name"),
            ("emails[type eq \"work\"].a.b", 22, "a sub-attribute name"),
            (
                "emails[type eq \"work\"].value[x pr]",
                28,
                "the end of the path",
            ),
            ("emails[type eq \"work\"][x pr]", 22, "`.subAttribute`"),
            ("name.givenName[x pr]", 0, "not a sub-attribute"),
            ("emails[type[x pr]]", 11, "cannot contain another"),
            ("emails[urn:a:b:type pr]", 7, "without a URN"),
            ("emails[type eq work]", 15, "expected a value"),
            ("a.b.c", 0, "at most one level"),
            ("urn:x:", 0, "an attribute name starts"),
            ("notaurn:x", 0, "a schema prefix is a URN"),
            ("emails[type eq \"work\"] or x pr", 23, "`.subAttribute`"),
            ("émails", 0, "unexpected character 'é'"),
        ];
        for (text, position, needle) in cases {
            let err = PatchPath::parse(text).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.position, *position, "{text:?}: {message}");
            assert!(message.starts_with("invalid path: "), "{message}");
            assert!(message.contains(needle), "{text:?}: {message}");
        }
        assert_eq!(PathError::SCIM_TYPE, "invalidPath");
        let deep = format!("x[{}a pr{}]", "(".repeat(100), ")".repeat(100));
        assert!(matches!(
            PatchPath::parse(&deep).unwrap_err().kind,
            SyntaxError::TooDeep { .. }
        ));
        let long = "a".repeat(super::super::filter::MAX_FILTER_LEN + 1);
        assert!(matches!(
            PatchPath::parse(&long).unwrap_err().kind,
            SyntaxError::TooLong { .. }
        ));
    }

    #[test]
    fn selects_the_elements_the_filter_matches() {
        let emails = [
            json!({"value": "bjensen@example.com", "type": "work", "primary": true}),
            json!({"value": "babs@jensen.org", "type": "home"}),
        ];
        let cases: &[(&str, [bool; 2])] = &[
            ("emails", [true, true]),
            (r#"emails[type eq "work"].value"#, [true, false]),
            (r#"emails[type eq "WORK"]"#, [true, false]),
            (r#"emails[not (primary pr)]"#, [false, true]),
            (
                r#"emails[value ew ".org" or primary eq true]"#,
                [true, true],
            ),
            (r#"emails[type eq "other"]"#, [false, false]),
        ];
        for (text, expected) in cases {
            let path = PatchPath::parse(text).unwrap();
            assert_eq!(
                [path.selects(&emails[0]), path.selects(&emails[1])],
                *expected,
                "{text}"
            );
        }
        let members =
            PatchPath::parse(r#"members[value eq "2819C223-7F76-453A-919D-413861904646"]"#)
                .unwrap();
        let member = json!({"value": "2819c223-7f76-453a-919d-413861904646"});
        assert!(members.selects(&member));
        let exact_values = |p: &AttrPath| p.name == "members" && p.sub.as_deref() == Some("value");
        assert!(!members.selects_with(&member, &exact_values));
    }
}
