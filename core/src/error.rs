//! The one error type every port method returns. Serializable so the browser
//! receives the same variants the server produced; the HTTP mapping lives at
//! the edges (`server`'s API error, the dashboard's server functions).

use crate::spec::SpecProblem;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PortError {
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("not allowed: {reason}")]
    Forbidden { reason: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Well-formed request, but its content breaks rules (a workflow spec,
    /// run inputs); every problem names its field path.
    #[error("{message}: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Unprocessable {
        message: String,
        problems: Vec<SpecProblem>,
    },
    /// A sensitive action by a person whose sign-in is older than the
    /// step-up window: they must sign in again, then repeat the action.
    #[error("{message}")]
    StepUpRequired { message: String },
    #[error("{message}")]
    TooLarge { message: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("temporarily unavailable: {message}")]
    Unavailable { message: String },
    /// Too much is waiting already (backpressure): a limit on unfinished
    /// runs of a workflow or environment (429), or of the whole server
    /// (`saturated`: 503). Retry after `retry_after_seconds`.
    #[error("{message}")]
    Overloaded {
        message: String,
        retry_after_seconds: u32,
        saturated: bool,
    },
    /// Something broke on our side. The cause is logged with `reference`;
    /// clients only ever see the reference, never internal detail.
    #[error("internal error (reference {reference})")]
    Internal { reference: String },
}

impl PortError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::Forbidden {
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// The HTTP status this error maps to at every edge.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Unauthenticated | Self::StepUpRequired { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Invalid { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::Unprocessable { .. } => 422,
            Self::TooLarge { .. } => 413,
            Self::Unavailable { .. } => 503,
            Self::Overloaded { saturated, .. } => {
                if *saturated {
                    503
                } else {
                    429
                }
            }
            Self::Internal { .. } => 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_maps_to_its_status() {
        let cases = [
            (PortError::Unauthenticated, 401),
            (PortError::forbidden("x"), 403),
            (
                PortError::StepUpRequired {
                    message: "m".into(),
                },
                401,
            ),
            (PortError::not_found("x"), 404),
            (PortError::invalid("f", "m"), 400),
            (
                PortError::Conflict {
                    message: "m".into(),
                },
                409,
            ),
            (
                PortError::Unavailable {
                    message: "m".into(),
                },
                503,
            ),
            (
                PortError::Internal {
                    reference: "r".into(),
                },
                500,
            ),
            (
                PortError::Overloaded {
                    message: "m".into(),
                    retry_after_seconds: 5,
                    saturated: false,
                },
                429,
            ),
            (
                PortError::Overloaded {
                    message: "m".into(),
                    retry_after_seconds: 5,
                    saturated: true,
                },
                503,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.http_status(), status, "{err:?}");
        }
    }

    #[test]
    fn messages_name_the_field_to_fix() {
        assert_eq!(
            PortError::invalid("theme", "unknown theme \"neon\"").to_string(),
            "theme: unknown theme \"neon\""
        );
    }

    #[test]
    fn serializes_with_a_kind_tag_for_clients() {
        let json = serde_json::to_value(PortError::forbidden("viewer cannot do that")).unwrap();
        assert_eq!(json["kind"], "forbidden");
        assert_eq!(json["reason"], "viewer cannot do that");
    }
}
