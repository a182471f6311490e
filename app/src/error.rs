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
        #[cfg(feature = "ssr")]
        if let Some(refused) = ssr::malformed_request(&value) {
            return refused;
        }
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    //! A request a server function could not read is the caller's mistake:
    //! 400 with the usual error shape, never a 500 echoing the decoder's
    //! message. (A body too large or too slow is answered 413 or 408 by the
    //! server's edge before this answer leaves.)

    use super::AppError;
    use gantry_core::PortError;
    use leptos::prelude::use_context;
    use leptos::server_fn::error::ServerFnErrorErr;
    use leptos_axum::ResponseOptions;

    /// The refusal for a request that failed to decode on the server, or
    /// `None` outside a server function's request (or for other errors).
    pub(super) fn malformed_request(error: &ServerFnErrorErr) -> Option<AppError> {
        let message = match error {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                "the form's fields are missing, malformed or of the wrong type; reload the page and try again"
            }
            ServerFnErrorErr::MissingArg(_) => {
                "a required field is missing; reload the page and try again"
            }
            _ => return None,
        };
        // Only a server function answering a request has response options.
        let response = use_context::<ResponseOptions>()?;
        let error = PortError::invalid("request", message);
        // A plain form post keeps its redirect back to the form, which
        // shows the error.
        if !crate::api::ssr::plain_form_post()
            && let Ok(status) = axum::http::StatusCode::from_u16(error.http_status())
        {
            response.set_status(status);
        }
        Some(AppError::Port(error))
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
