//! SCIM 2.0 query filters and PATCH paths: the parts of RFC 7644 an
//! identity provider (Microsoft Entra ID, Okta) sends as text and expects
//! the server to understand, as pure parsers and an in-memory evaluator.
//!
//! - [`filter`]: `filter=` (§3.4.2.2) into a [`Filter`] AST, bounded in
//!   length, nesting and size because anyone reaching the endpoint writes it;
//! - [`eval`]: [`Filter::matches`] against a resource's SCIM JSON, with the
//!   RFC's matching rules and a [`CaseExact`] hook for the server's schema;
//! - [`path`]: PATCH `path` (§3.5.2) into a [`PatchPath`], whose bracketed
//!   part is a value filter.
//!
//! Errors carry a byte position and map to a 400 with `scimType`
//! [`FilterError::SCIM_TYPE`] (`invalidFilter`) or [`PathError::SCIM_TYPE`]
//! (`invalidPath`). Nothing here panics on any input.

pub mod eval;
pub mod filter;
mod lex;
pub mod path;

pub use eval::{CaseExact, CoreCaseExact};
pub use filter::{
    AttrPath, CORE_SCHEMA_PREFIX, CompValue, CompareOp, Filter, FilterError, MAX_DEPTH,
    MAX_FILTER_LEN, MAX_TERMS, SyntaxError,
};
pub use path::{PatchPath, PathError};

#[cfg(test)]
mod fuzz;
