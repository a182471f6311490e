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
}
