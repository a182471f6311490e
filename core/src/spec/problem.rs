//! Why a spec was refused. Always compiled and serializable, so the browser
//! and the CLI can show every problem next to the line it is about.

use crate::error::PortError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One thing wrong with a spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecProblem {
    /// Where in the document, e.g. `steps[1].needs[0]` or
    /// `inputs.target.default`; empty for the document as a whole.
    pub path: String,
    /// 1-based source line when known.
    pub line: Option<u32>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl SpecProblem {
    /// A problem without a known line (lines are filled in by the parser).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// A spec that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpecRejection {
    /// Refused before parsing, to bound parser work.
    #[error("the spec is {bytes} bytes; the limit is {limit} bytes, make it smaller")]
    TooLarge { bytes: usize, limit: usize },
    /// Every problem found, in document order where possible.
    #[error("{}", describe_problems(problems))]
    Invalid { problems: Vec<SpecProblem> },
}

impl SpecRejection {
    /// The problems to list; a size rejection is one document-level problem.
    pub fn problems(&self) -> Vec<SpecProblem> {
        match self {
            SpecRejection::TooLarge { .. } => vec![SpecProblem::new("", self.to_string())],
            SpecRejection::Invalid { problems } => problems.clone(),
        }
    }
}

fn describe_problems(problems: &[SpecProblem]) -> String {
    match problems {
        [] => "the spec is invalid".to_owned(),
        [one] => one.to_string(),
        many => {
            let list: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("{} problems: {}", many.len(), list.join("; "))
        }
    }
}

/// At the port a rejected spec is a plain invalid-argument error on `spec`;
/// callers wanting the structured list keep the [`SpecRejection`] itself.
impl From<SpecRejection> for PortError {
    fn from(rejection: SpecRejection) -> Self {
        PortError::invalid("spec", rejection.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_display_includes_line_and_path_when_known() {
        let mut p = SpecProblem::new("steps[0].id", "bad id");
        assert_eq!(p.to_string(), "steps[0].id: bad id");
        p.line = Some(4);
        assert_eq!(p.to_string(), "line 4: steps[0].id: bad id");
        assert_eq!(SpecProblem::new("", "empty").to_string(), "empty");
    }

    #[test]
    fn rejection_display_lists_all_problems() {
        let r = SpecRejection::Invalid {
            problems: vec![SpecProblem::new("a", "x"), SpecProblem::new("b", "y")],
        };
        assert_eq!(r.to_string(), "2 problems: a: x; b: y");
        let big = SpecRejection::TooLarge {
            bytes: 10,
            limit: 5,
        };
        assert!(big.to_string().contains("limit is 5 bytes"));
        assert_eq!(big.problems().len(), 1);
    }

    #[test]
    fn rejection_serializes_with_a_kind_tag() {
        let r = SpecRejection::TooLarge { bytes: 2, limit: 1 };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"kind":"too_large","bytes":2,"limit":1}"#);
        let back: SpecRejection = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn rejection_becomes_an_invalid_port_error() {
        let e: PortError = SpecRejection::Invalid {
            problems: vec![SpecProblem::new("name", "bad")],
        }
        .into();
        assert_eq!(e.http_status(), 400);
    }
}
