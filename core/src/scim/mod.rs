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
//!
//! On top of those, the schema-driven resource logic the `/scim/v2`
//! endpoints run (RFC 7643 and RFC 7644), pure like the rest of the crate:
//!
//! - [`schema`](mod@schema): the User, Group and enterprise User definitions,
//!   [`ResourceKind`] and [`SchemaCaseExact`];
//! - [`discovery`]: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`;
//! - [`resource`]: [`normalize`] a POST/PUT body to the stored document,
//!   [`apply_patch`] a PatchOp atomically, [`with_meta`] for the full
//!   representation and [`project`] for `attributes`/`excludedAttributes`;
//! - [`list`]: list query parameters, schema-checked filters, paging and
//!   the ListResponse; [`search`]: a search over several types, and the
//!   one-name lookup providers make before a create;
//! - [`represent`](mod@represent): a stored resource as clients see it (`meta`, a
//!   person's groups, a group's members, `$ref`s) and the document PATCH
//!   starts from; [`columns`]: what the server keeps beside a document
//!   (username, display name, e-mail, a group's members);
//! - [`error`]: [`ScimError`], every refusal with its status, `scimType`
//!   and RFC 7644 §3.12 body.

pub mod columns;
pub mod discovery;
pub mod error;
pub mod eval;
pub mod filter;
mod lex;
pub mod list;
mod normalize;
mod patch;
pub mod path;
mod project;
pub mod represent;
pub mod request;
pub mod resource;
pub mod schema;
pub mod search;
mod value;

pub use columns::{GroupColumns, UserColumns, group_columns, user_columns};
pub use error::ScimError;
pub use eval::{CaseExact, CoreCaseExact};
pub use filter::{
    AttrPath, CORE_SCHEMA_PREFIX, CompValue, CompareOp, Filter, FilterError, MAX_DEPTH,
    MAX_FILTER_LEN, MAX_TERMS, SyntaxError,
};
pub use list::{
    ListQuery, MAX_ATTRIBUTE_PATHS, check_filter, filter_matches, list_response, parse_list_query,
};
pub use path::{PatchPath, PathError};
pub use represent::{ResourceRef, StoredResource, patch_base, represent};
pub use request::{SEARCH_REQUEST, ScimAnswer, ScimRequest, search_query};
pub use resource::{
    MAX_OPERATIONS, apply_patch, check_if_match, etag, if_match, normalize, project, with_meta,
};
pub use schema::{
    ENTERPRISE_USER_SCHEMA, ERROR_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE, PATCH_OP, ResourceKind,
    SchemaCaseExact, USER_SCHEMA, resource_type, resource_types, schema, schemas_document,
    service_provider_config,
};
pub use search::{Narrowing, Pager, Related, narrowing, parse_search, related_needed, wanted};

#[cfg(test)]
mod fuzz;
