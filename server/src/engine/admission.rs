//! Which version a new run gets. Without a live canary: the active one.
//! With one: the canary's with probability equal to its weight, decided
//! from the run's id (or the policy's sticky input) so the same key always
//! lands on the same side, unless the caller pinned a version. Shared by
//! every way a run starts (the API, the dashboard and the CLI through the
//! port, and the scheduler); runs approved by four eyes run the version
//! that was approved.

use crate::store::runs::CanaryTag;
use crate::store::versions::ActiveSpec;
use crate::store::{Store, StoreResult};
use gantry_core::canary::{Arm, Canary, Weight, takes_canary};
use serde_json::Value;
use std::collections::BTreeMap;

/// The version a run gets, and under which canary arm.
pub struct Admission {
    pub active: ActiveSpec,
    /// `(canary id, arm)` while a canary is live.
    pub canary: Option<(String, Arm)>,
    pub pinned: bool,
}

impl Admission {
    /// The run's canary and arm, as the store records them.
    pub fn canary_tag(&self) -> Option<CanaryTag<'_>> {
        self.canary.as_ref().map(|(id, arm)| CanaryTag {
            canary_id: id,
            arm: *arm,
        })
    }
}

/// Why a pinned version can't run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRefused {
    pub message: String,
}

/// The key a run's side is decided by: the sticky input's value when the
/// policy names one and the run has it (given, or its default), else the
/// run id.
fn key_of(
    canary: &Canary,
    stable: &ActiveSpec,
    inputs: &BTreeMap<String, Value>,
    run_id: &str,
) -> String {
    let Some(name) = canary.policy.sticky_input.as_deref() else {
        return run_id.to_owned();
    };
    let value = inputs
        .get(name)
        .cloned()
        .or_else(|| stable.spec.inputs.get(name).and_then(|i| i.default.clone()));
    match value {
        Some(Value::String(s)) => format!("input:{s}"),
        Some(v) => format!("input:{v}"),
        None => run_id.to_owned(),
    }
}

/// Picks the version of the run `run_id` in `environment`, where `stable`
/// is active. `pin`: the version the caller named.
pub async fn admit(
    store: &dyn Store,
    stable: ActiveSpec,
    environment: &str,
    run_id: &str,
    inputs: &BTreeMap<String, Value>,
    pin: Option<u32>,
) -> StoreResult<Result<Admission, PinRefused>> {
    let canary = store.live_canary(&stable.workflow_id, environment).await?;
    let Some(canary) = canary else {
        return Ok(match pin {
            Some(v) if v != stable.version => Err(PinRefused {
                message: format!(
                    "version {v} is not active in {environment} (version {} is) and no canary of it \
                     runs there; leave version out, or name {}",
                    stable.version, stable.version
                ),
            }),
            _ => Ok(Admission {
                active: stable,
                canary: None,
                pinned: pin.is_some(),
            }),
        });
    };
    let arm = match pin {
        Some(v) if v == canary.canary_version => Arm::Canary,
        Some(v) if v == canary.stable_version => Arm::Stable,
        Some(v) => {
            return Ok(Err(PinRefused {
                message: format!(
                    "version {v} is neither active in {environment} (version {}) nor its canary \
                     (version {}); name one of them, or leave version out",
                    canary.stable_version, canary.canary_version
                ),
            }));
        }
        None => {
            let weight =
                Weight::from_ppm(u32::from(canary.weight) * 10_000).unwrap_or(Weight::ZERO);
            if takes_canary(
                &canary.id,
                &key_of(&canary, &stable, inputs, run_id),
                weight,
            ) {
                Arm::Canary
            } else {
                Arm::Stable
            }
        }
    };
    let active = match arm {
        Arm::Stable => stable,
        Arm::Canary => ActiveSpec {
            spec: store
                .version_spec(&stable.workflow_id, canary.canary_version)
                .await?,
            version: canary.canary_version,
            ..stable
        },
    };
    Ok(Ok(Admission {
        active,
        canary: Some((canary.id, arm)),
        pinned: pin.is_some(),
    }))
}
