//! Which version a run gets while a canary is at weight w: decided from
//! the run's key (its id, or the value of a sticky input named in the
//! policy, so one customer always gets the same version), never by a
//! random draw, so a retry or a re-admission lands where the run did.
//!
//! The key is hashed with the promotion's id: the same customers are not
//! the canary's first users in every release.

use sha2::{Digest, Sha256};

/// A canary's share of admissions in parts per million (10% = 100,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Weight(u32);

impl Weight {
    pub const MAX: u32 = 1_000_000;
    /// No runs: a canary rolled back or aborted.
    pub const ZERO: Weight = Weight(0);

    /// `None` above 100%.
    pub fn from_ppm(ppm: u32) -> Option<Self> {
        (ppm <= Self::MAX).then_some(Self(ppm))
    }

    pub fn ppm(self) -> u32 {
        self.0
    }
}

/// Where `key` falls in [0, 1,000,000) for the promotion `seed`.
pub fn position(seed: &str, key: &str) -> u32 {
    let mut hash = Sha256::new();
    hash.update((seed.len() as u64).to_be_bytes());
    hash.update(seed.as_bytes());
    hash.update(key.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 2^64 is not a multiple of a million; the bias is below 1e-13.
    (u64::from_be_bytes(first) % u64::from(Weight::MAX)) as u32
}

/// Whether the run keyed `key` takes the canary at `weight`. Raising the
/// weight only adds runs to the canary: a key on the canary at 10% is on
/// it at 50%.
pub fn takes_canary(seed: &str, key: &str, weight: Weight) -> bool {
    position(seed, key) < weight.ppm()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_taken_matches_the_weight_within_tolerance() {
        let weight = Weight::from_ppm(100_000).unwrap();
        let n = 20_000;
        let taken = (0..n)
            .filter(|i| takes_canary("promotion-1", &format!("run-{i}"), weight))
            .count();
        // 10% of 20,000: standard deviation 42; four of them either side.
        assert!((1_832..=2_168).contains(&taken), "{taken}");
    }

    #[test]
    fn a_key_keeps_its_version_and_a_higher_weight_only_adds() {
        let low = Weight::from_ppm(100_000).unwrap();
        let high = Weight::from_ppm(500_000).unwrap();
        for i in 0..2_000 {
            let key = format!("customer-{i}");
            assert_eq!(
                takes_canary("p", &key, low),
                takes_canary("p", &key, low),
                "deterministic"
            );
            if takes_canary("p", &key, low) {
                assert!(takes_canary("p", &key, high));
            }
        }
        assert!(!takes_canary("p", "k", Weight::from_ppm(0).unwrap()));
        assert!(takes_canary(
            "p",
            "k",
            Weight::from_ppm(Weight::MAX).unwrap()
        ));
        assert_eq!(Weight::from_ppm(Weight::MAX + 1), None);
    }

    #[test]
    fn other_promotions_pick_other_keys() {
        let w = Weight::from_ppm(100_000).unwrap();
        let picked = |seed: &str| -> Vec<usize> {
            (0..1_000)
                .filter(|i| takes_canary(seed, &format!("customer-{i}"), w))
                .collect()
        };
        assert_ne!(picked("release-1"), picked("release-2"));
    }
}
