//! SCIM errors (RFC 7644 §3.12): an HTTP status, for 400s and 409s a
//! `scimType` saying which rule the request broke, and a human-readable
//! `detail`. Everything in this module fails with a [`ScimError`]; the
//! server answers with [`ScimError::body`] and the status.

use super::filter::FilterError;
use super::path::PathError;
use super::schema::{ERROR_SCHEMA, ResourceKind};
use serde_json::{Value, json};
use std::fmt;

/// A refused SCIM request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status: 400, 401, 403, 404, 409, 412, 413 or 500.
    pub status: u16,
    /// RFC 7644 §3.12's `scimType`, for some 400s and for 409.
    pub scim_type: Option<&'static str>,
    /// For the client's operator: what is wrong, naming the attribute,
    /// parameter or operation.
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidSyntax`: the request body or a query parameter is not
    /// what the protocol expects (unknown attribute, missing `schemas`…).
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidValue`: a value of the wrong type, a missing required
    /// attribute, two `primary` values…
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some(FilterError::SCIM_TYPE), detail)
    }

    /// 400 `invalidPath`: a PATCH path that does not parse or names no
    /// attribute of the resource.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some(PathError::SCIM_TYPE), detail)
    }

    /// 400 `noTarget`: a PATCH operation with nothing to apply to.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }

    /// 400 `mutability`: changing a read-only or immutable attribute.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }

    /// 400 `tooMany`: more than the server is willing to process.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(400, Some("tooMany"), detail)
    }

    /// 409 `uniqueness`: a `userName`, `displayName`… already taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 412: `If-Match` names another version (RFC 7644 §3.14).
    pub fn precondition(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// 413: the body is larger than `maxPayloadSize`.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }

    /// 500.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// 412: the resource changed between reading and writing it, under a
    /// client that sent `If-Match` (without one, the server retries).
    pub fn changed_meanwhile(kind: ResourceKind) -> Self {
        Self::precondition(format!(
            "the {} changed meanwhile; read it again",
            kind.name()
        ))
    }

    /// 409: the resource kept changing under every retry.
    pub fn keeps_changing(kind: ResourceKind) -> Self {
        Self::new(
            409,
            None,
            format!("the {} keeps changing; try again", kind.name()),
        )
    }

    /// 409 `uniqueness`: another resource has this one's unique name.
    pub fn name_taken(kind: ResourceKind) -> Self {
        Self::uniqueness(match kind {
            ResourceKind::User => "another user has that userName",
            ResourceKind::Group => "another group has that displayName",
        })
    }

    /// 400 `invalidValue`: a group's members name ids no provisioned
    /// person has (the first five of them).
    pub fn unknown_members(ids: &[String]) -> Self {
        let some: Vec<String> = ids.iter().take(5).map(|id| format!("{id:?}")).collect();
        Self::invalid_value(format!(
            "members: no provisioned user has the id {}",
            some.join(", ")
        ))
    }

    /// The same error with `context` in front of its detail, e.g. which
    /// PATCH operation failed.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.detail = format!("{context}: {}", self.detail);
        self
    }

    /// The RFC 7644 §3.12 response body. `status` is a string there.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(object)) = (self.scim_type, body.as_object_mut()) {
            object.insert("scimType".to_owned(), Value::from(scim_type));
        }
        body
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(scim_type) => write!(f, "{} {scim_type}: {}", self.status, self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

impl From<FilterError> for ScimError {
    fn from(e: FilterError) -> Self {
        Self::invalid_filter(e.to_string())
    }
}

impl From<PathError> for ScimError {
    fn from(e: PathError) -> Self {
        Self::invalid_path(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::{Filter, PatchPath};

    #[test]
    fn every_constructor_has_its_status_and_type() {
        type Make = fn(&str) -> ScimError;
        let cases: &[(Make, u16, Option<&str>)] = &[
            (|d| ScimError::invalid_syntax(d), 400, Some("invalidSyntax")),
            (|d| ScimError::invalid_value(d), 400, Some("invalidValue")),
            (|d| ScimError::invalid_filter(d), 400, Some("invalidFilter")),
            (|d| ScimError::invalid_path(d), 400, Some("invalidPath")),
            (|d| ScimError::no_target(d), 400, Some("noTarget")),
            (|d| ScimError::mutability(d), 400, Some("mutability")),
            (|d| ScimError::too_many(d), 400, Some("tooMany")),
            (|d| ScimError::uniqueness(d), 409, Some("uniqueness")),
            (|d| ScimError::not_found(d), 404, None),
            (|d| ScimError::precondition(d), 412, None),
            (|d| ScimError::payload_too_large(d), 413, None),
            (|d| ScimError::unauthorized(d), 401, None),
            (|d| ScimError::forbidden(d), 403, None),
            (|d| ScimError::internal(d), 500, None),
        ];
        for (make, status, scim_type) in cases {
            let e = make("what");
            assert_eq!(
                (e.status, e.scim_type, e.detail.as_str()),
                (*status, *scim_type, "what")
            );
            let body = e.body();
            assert_eq!(body["schemas"], json!([ERROR_SCHEMA]));
            assert_eq!(body["status"], json!(status.to_string()));
            assert_eq!(body["detail"], json!("what"));
            match scim_type {
                Some(t) => assert_eq!(body["scimType"], json!(t)),
                None => assert!(body.get("scimType").is_none(), "{body}"),
            }
        }
    }

    #[test]
    fn body_matches_the_rfc_example() {
        let e = ScimError::invalid_value("name.givenName must be a string");
        assert_eq!(
            e.body(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidValue",
                "detail": "name.givenName must be a string"
            })
        );
        assert_eq!(
            e.to_string(),
            "400 invalidValue: name.givenName must be a string"
        );
        assert_eq!(
            ScimError::not_found("no such user").to_string(),
            "404: no such user"
        );
        assert_eq!(
            ScimError::no_target("x").context("Operations[2]").detail,
            "Operations[2]: x"
        );
    }

    #[test]
    fn refused_writes_say_what_to_do() {
        let stale = ScimError::changed_meanwhile(ResourceKind::User);
        assert_eq!(
            (stale.status, stale.detail.as_str()),
            (412, "the User changed meanwhile; read it again")
        );
        let busy = ScimError::keeps_changing(ResourceKind::Group);
        assert_eq!(
            (busy.status, busy.scim_type, busy.detail.as_str()),
            (409, None, "the Group keeps changing; try again")
        );
        let taken = ScimError::name_taken(ResourceKind::Group);
        assert_eq!(
            (taken.status, taken.scim_type, taken.detail.as_str()),
            (
                409,
                Some("uniqueness"),
                "another group has that displayName"
            )
        );
        let ids: Vec<String> = (1..=7).map(|i| format!("u{i}")).collect();
        let unknown = ScimError::unknown_members(&ids);
        assert_eq!(
            unknown.detail,
            r#"members: no provisioned user has the id "u1", "u2", "u3", "u4", "u5""#
        );
    }

    #[test]
    fn parser_errors_convert() {
        let e = ScimError::from(Filter::parse("userName eq").unwrap_err());
        assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")));
        assert!(e.detail.starts_with("invalid filter: "), "{}", e.detail);
        let e = ScimError::from(PatchPath::parse("emails[").unwrap_err());
        assert_eq!((e.status, e.scim_type), (400, Some("invalidPath")));
        assert!(e.detail.starts_with("invalid path: "), "{}", e.detail);
    }
}
