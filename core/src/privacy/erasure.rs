//! What erasing a person did, and the pseudonym that replaces them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The stable pseudonym of an erased account: the same id always gives the
/// same one (so records before and after read alike), and it can't be
/// turned back into a name.
pub fn pseudonym(user_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(user_id.as_bytes()));
    format!("erased-{}", &digest[..12])
}

/// The answer of `POST /api/v1/users/{user}/erase`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasureReport {
    pub user_id: String,
    /// What the person's name, username and e-mail read as from now on.
    pub pseudonym: String,
    /// Rows changed outside the audit log, by table.
    pub rows: BTreeMap<String, u64>,
    /// Personal fields of audit records erased (their digests stay, so the
    /// chain still verifies).
    pub audit_fields_erased: u64,
    /// The sequence number of the erasure's own audit record.
    pub audit_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_and_names_nobody() {
        let a = pseudonym("0190f2a4-0000-7000-8000-000000000001");
        assert_eq!(a, pseudonym("0190f2a4-0000-7000-8000-000000000001"));
        assert_ne!(a, pseudonym("0190f2a4-0000-7000-8000-000000000002"));
        assert!(a.starts_with("erased-") && a.len() == "erased-".len() + 12);
    }
}
