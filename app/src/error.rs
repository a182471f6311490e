//! The dashboard's error type: a port error as the server produced it, or a
//! transport failure between browser and server.

use gantry_core::PortError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Port(#[from] PortError),
    /// The request never reached the port or its answer was unreadable
    /// (network down, server restarted, bad encoding).
    #[error("could not reach the server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

impl AppError {
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, AppError::Port(PortError::Unauthenticated))
    }

    /// Decodes the error a server function left in the URL (`__err`) after a
    /// form was posted without JavaScript and redirected back.
    pub fn from_url_param(encoded: &str) -> Option<AppError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(encoded)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The problems of a rejected spec or run whose path is `path` exactly
    /// (`inputs.count`), joined for display next to that field.
    pub fn problem_at(&self, path: &str) -> Option<String> {
        let AppError::Port(PortError::Unprocessable { problems, .. }) = self else {
            return None;
        };
        let found: Vec<&str> = problems
            .iter()
            .filter(|p| p.path == path)
            .map(|p| p.message.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    }
}

/// The error a plain form post to the server function at `server_fn_path`
/// left in this page's URL, if any. Pages with several forms show each
/// error beside the form that caused it.
pub fn url_error_for(server_fn_path: &str) -> Option<AppError> {
    use leptos::prelude::ReadUntracked as _;
    let query = leptos_router::hooks::use_query_map();
    let query = query.read_untracked();
    let from = query.get("__path");
    if from.as_deref().is_some_and(|p| p != server_fn_path) {
        return None;
    }
    query
        .get("__err")
        .and_then(|e| AppError::from_url_param(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn url_error_round_trips() {
        let err = AppError::Port(PortError::invalid("theme", "pick one of the listed themes"));
        let encoded =
            base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&err).unwrap());
        assert_eq!(AppError::from_url_param(&encoded), Some(err));
        assert_eq!(AppError::from_url_param("not base64!"), None);
    }

    #[test]
    fn problems_are_found_by_their_path() {
        use gantry_core::spec::SpecProblem;
        let err = AppError::Port(PortError::Unprocessable {
            message: "the run's inputs are invalid".into(),
            problems: vec![
                SpecProblem::new("inputs.count", "must be an integer"),
                SpecProblem::new("inputs.target", "is required"),
            ],
        });
        assert_eq!(
            err.problem_at("inputs.count").as_deref(),
            Some("must be an integer")
        );
        assert_eq!(err.problem_at("inputs.other"), None);
        assert_eq!(
            AppError::Transport("x".into()).problem_at("inputs.count"),
            None
        );
    }
}
