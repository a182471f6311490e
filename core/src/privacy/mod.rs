//! Personal data on request (issue 22): what an export of one person
//! holds, what an erasure did, and the pseudonym an erased person is known
//! by from then on. The inventory of where Gantry keeps personal data is
//! docs/privacy.md; the audit log's erasable fields are
//! [`crate::audit::personal`].

mod erasure;
mod export;

pub use erasure::{ErasureReport, pseudonym};
pub use export::{EXPORT_FORMAT, PersonExport};
