//! The chain's arithmetic: `hash = SHA-256(prev_hash bytes ‖ canonical
//! record)`, the genesis value, and the message a checkpoint signs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the very first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain's end: the last record's sequence number and hash (`seq` 0 and
/// the genesis hash for an empty log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainLink {
    pub seq: u64,
    pub hash: String,
}

impl ChainLink {
    pub fn genesis() -> Self {
        ChainLink {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

/// `prev_hash` is hex; its 32 raw bytes are hashed (a malformed value is
/// hashed as its text, so a tampered row still yields a mismatch rather
/// than an error).
pub fn chain_hash(prev_hash: &str, canonical_record: &str) -> String {
    let mut h = Sha256::new();
    match hex::decode(prev_hash) {
        Ok(bytes) if bytes.len() == 32 => h.update(&bytes),
        _ => h.update(prev_hash.as_bytes()),
    }
    h.update(canonical_record.as_bytes());
    hex::encode(h.finalize())
}

/// What an Ed25519 checkpoint signs: a versioned, unambiguous statement that
/// the chain up to `seq` ends in `hash`.
pub fn checkpoint_message(seq: u64, hash: &str) -> Vec<u8> {
    format!("gantry-audit-checkpoint/v1\n{seq}\n{hash}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_both_inputs() {
        let a = chain_hash(GENESIS_HASH, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash(GENESIS_HASH, "{ }"));
        assert_ne!(a, chain_hash(&"1".repeat(64), "{}"));
        assert_eq!(a, chain_hash(GENESIS_HASH, "{}"));
    }

    #[test]
    fn a_malformed_prev_hash_still_hashes() {
        assert_ne!(chain_hash("zz", "{}"), chain_hash(GENESIS_HASH, "{}"));
    }
}
