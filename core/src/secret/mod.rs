//! Masking secret values out of text before it is stored or shown (issue 16,
//! "Never stored, never shown").
//!
//! A [`SecretValue`] is expanded into its common encodings
//! ([`encoded_forms`]); a [`Masker`] replaces every occurrence of any form
//! with [`MASK`], and a [`StreamMasker`] does the same for one output stream
//! written in pieces, so a value split across two writes is still caught.
//!
//! Limits, by design: a value shorter than [`MIN_SECRET_LEN`] bytes is
//! refused (masking every "abc" would destroy logs and hide nothing), forms
//! shorter than [`MIN_FORM_LEN`] are never searched for, and a value that a
//! step transforms in any other way (reversed, encrypted, mixed-case percent
//! escapes, split by other text) is not recognised.

mod access;
mod fetch_summary;
mod forms;
mod masker;
#[cfg(feature = "ssr")]
mod provider;
mod references;
mod stream;
mod value;
mod view;

#[cfg(test)]
mod forms_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod masker_tests;
#[cfg(test)]
mod stream_tests;

pub use access::{FetchedBy, SecretAccess};
pub use fetch_summary::{FetchSummary, summarize_fetches};
pub use forms::encoded_forms;
pub use masker::Masker;
#[cfg(feature = "ssr")]
pub use provider::{
    FetchError, FetchRequest, Fetched, ProviderHealth, SecretLease, SecretProvider,
};
pub use references::{ResolvedReference, StepSecretRow, step_secret_rows};
pub use stream::StreamMasker;
pub use value::{SecretError, SecretValue};
pub use view::{
    AttemptSecretAccess, EnvironmentProviders, LastFetch, ProviderAnswer, ProviderSource,
    ReferenceVersion, SecretCoverage, SecretInvalidated, SecretInvalidation, SecretProviderStatus,
};

/// What a masked occurrence becomes.
pub const MASK: &str = "***";

/// The shortest value accepted as a secret, in bytes. Shorter values are
/// refused rather than masked: a 1–3 byte string occurs everywhere in
/// ordinary output, so masking it would wreck the logs while a value that
/// short protects nothing anyway.
pub const MIN_SECRET_LEN: usize = 4;

/// The shortest form searched for. Every whole-value encoding of a value of
/// [`MIN_SECRET_LEN`] bytes is at least this long; only the partial base64
/// forms (a value inside a longer encoded text) can be shorter, and those
/// are skipped.
pub const MIN_FORM_LEN: usize = 4;
