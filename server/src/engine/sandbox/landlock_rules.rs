//! Landlock (Linux 5.13+, unprivileged): the supervisor confines itself,
//! and so every process the step starts, to the paths of its
//! [`AccessRules`]. Handled: every file-system right of ABI 6 and the
//! signal and abstract-socket scopes, so a step can neither touch files
//! outside its rules nor signal, ptrace or read the memory and
//! environment (`/proc/PID/environ`, `/proc/PID/mem`) of processes outside
//! its sandbox. The network is not handled (steps may call out; HTTP
//! policy is separate).

use super::job::AccessRules;
use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope, path_beneath_rules,
};

/// The ABI whose rights we handle, tested on a kernel that has it; older
/// kernels get what they support (best effort), newer ones nothing more.
const TARGET: ABI = ABI::V6;

/// How much of the ruleset the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    Full,
    Partial,
    None,
}

impl Confinement {
    pub fn as_str(self) -> &'static str {
        match self {
            Confinement::Full => "full",
            Confinement::Partial => "partial",
            Confinement::None => "none",
        }
    }
}

/// Restricts the calling thread and every process it starts later.
/// Call it before any other thread exists.
pub fn confine_self(rules: &AccessRules) -> Result<Confinement, String> {
    let fail = |e: landlock::RulesetError| format!("cannot set up the Landlock ruleset: {e}");
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(TARGET))
        .map_err(fail)?
        .scope(Scope::from_all(TARGET))
        .map_err(fail)?
        .create()
        .map_err(fail)?
        .add_rules(path_beneath_rules(&rules.read, AccessFs::from_read(TARGET)))
        .map_err(fail)?
        .add_rules(path_beneath_rules(&rules.write, AccessFs::from_all(TARGET)))
        .map_err(fail)?
        .restrict_self()
        .map_err(fail)?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Confinement::Full,
        RulesetStatus::PartiallyEnforced => Confinement::Partial,
        RulesetStatus::NotEnforced => Confinement::None,
    })
}

/// The highest ABI (up to [`TARGET`]) the kernel accepts a ruleset for;
/// creating one restricts nothing.
pub fn probe() -> Option<u8> {
    let levels = [
        (ABI::V6, 6),
        (ABI::V5, 5),
        (ABI::V4, 4),
        (ABI::V3, 3),
        (ABI::V2, 2),
        (ABI::V1, 1),
    ];
    levels.into_iter().find_map(|(abi, n)| {
        let ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| {
                if n >= 6 {
                    r.scope(Scope::from_all(abi))
                } else {
                    Ok(r)
                }
            })
            .and_then(|r| r.create());
        ruleset.is_ok().then_some(n)
    })
}
