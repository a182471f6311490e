//! Rollout checklist templates: what an environment's policy asks of every
//! promotion into it. Items are automatic (evaluated live from Gantry's own
//! data, see [`super::evaluation`]) or manual (a person holding the item's
//! role ticks them, with an optional evidence note).
//!
//! Later issues add automatic kinds (a canary that passed, no firing
//! alerts) as new [`ItemCheck`] variants. The enum is deliberately not
//! `#[non_exhaustive]`: every `match` in the workspace then fails to compile
//! until it handles the new kind.

use super::duration::PolicyDuration;
use crate::identity::Role;
use crate::spec::SpecProblem;
use serde::{Deserialize, Serialize};

/// Longest item id (ids name items in URLs, ticks and audit records).
pub const MAX_ITEM_ID_CHARS: usize = 64;
/// Longest manual item text: one line a reviewer reads at a glance.
pub const MAX_ITEM_TEXT_CHARS: usize = 300;
/// Most runs an item may ask for: more is a typo, and a week of runs is
/// plenty of evidence.
pub const MAX_MIN_RUNS: u32 = 1000;
/// Bounds of the window in which runs are counted.
pub const MIN_RUN_WINDOW: PolicyDuration = PolicyDuration::from_hours(1);
pub const MAX_RUN_WINDOW: PolicyDuration = PolicyDuration::from_days(30);
/// Bounds of a soak time.
pub const MIN_SOAK: PolicyDuration = PolicyDuration::from_mins(1);
pub const MAX_SOAK: PolicyDuration = PolicyDuration::from_days(30);

/// One item of a policy's checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemTemplate {
    /// Unique within the checklist; names the item in
    /// `POST /api/v1/promotions/{id}/checklist/{item}` and in ticks. Like a
    /// step id: a lowercase letter, then lowercase letters, digits, `_`, `-`.
    pub id: String,
    pub check: ItemCheck,
}

/// What an item checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ItemCheck {
    /// At least `min_runs` runs of the version being promoted succeeded in
    /// the previous environment within the last `window`, and of the runs
    /// that finished there in that window at least `min_success_ratio`
    /// succeeded (see [`super::evaluation::counts_toward_ratio`]).
    SuccessfulRunsInPrevious {
        min_runs: u32,
        window: PolicyDuration,
        /// 0.0 ..= 1.0.
        min_success_ratio: f64,
    },
    /// The version has been active in the previous environment for at
    /// least `min`, and still is.
    SoakTime { min: PolicyDuration },
    /// The workflow's last finished run in the target environment did not
    /// fail (or time out): don't pile a change onto an incident.
    TargetNotFailing,
    /// No alert fires on the workflow in the previous or the target
    /// environment (docs/alerting.md): don't promote into an incident, or
    /// what one is still tracking.
    NoFiringAlerts,
    /// The last verification in the previous environment (its policy's
    /// `verification` workflow, run after the version became active there)
    /// checked this version and passed. Added on its own to every
    /// promotion out of an environment that verifies.
    LastVerificationPassed,
    /// The diff adds no HTTP host; otherwise an approver acknowledges the
    /// new ones by name.
    NoNewHttpHosts,
    /// The diff adds no secret reference; otherwise an approver
    /// acknowledges the new ones by name.
    NoNewSecretReferences,
    /// A person holding `role` (or admin) in the target environment ticks
    /// it, with an evidence note (a link or text) when `evidence_required`.
    Manual {
        text: String,
        role: Role,
        #[serde(default)]
        evidence_required: bool,
    },
}

impl ItemCheck {
    /// Evaluated from Gantry's data rather than ticked by a person (the two
    /// "no new …" items still turn into an acknowledgement when something
    /// is new).
    pub fn is_automatic(&self) -> bool {
        !matches!(self, ItemCheck::Manual { .. })
    }

    /// Whether a person acknowledges what the diff adds when it adds
    /// something.
    pub fn is_acknowledgeable(&self) -> bool {
        matches!(
            self,
            ItemCheck::NoNewHttpHosts | ItemCheck::NoNewSecretReferences
        )
    }

    /// A one-line title: what the item asks, with its thresholds.
    pub fn title(&self, previous: &str, target: &str) -> String {
        match self {
            ItemCheck::SuccessfulRunsInPrevious {
                min_runs,
                window,
                min_success_ratio,
            } => format!(
                "At least {min_runs} successful {} in {previous} in the last {window}, \
                 {} of finished runs succeeding",
                plural(*min_runs, "run", "runs"),
                percent(*min_success_ratio)
            ),
            ItemCheck::SoakTime { min } => format!("Active in {previous} for at least {min}"),
            ItemCheck::TargetNotFailing => format!("The last run in {target} is not failing"),
            ItemCheck::NoFiringAlerts => {
                format!("No alerts firing on the workflow in {previous} or {target}")
            }
            ItemCheck::LastVerificationPassed => {
                format!("The last verification in {previous} passed for this version")
            }
            ItemCheck::NoNewHttpHosts => "No new HTTP hosts".to_owned(),
            ItemCheck::NoNewSecretReferences => "No new secret references".to_owned(),
            ItemCheck::Manual { text, .. } => text.clone(),
        }
    }
}

impl ChecklistItemTemplate {
    /// Every problem with this item, with paths under `path` (such as
    /// `checklist[2]`).
    pub fn problems(&self, path: &str) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        if let Some(why) = id_problem(&self.id) {
            problems.push(SpecProblem::new(format!("{path}.id"), why));
        }
        let at = |field: &str| format!("{path}.check.{field}");
        match &self.check {
            ItemCheck::SuccessfulRunsInPrevious {
                min_runs,
                window,
                min_success_ratio,
            } => {
                if !(1..=MAX_MIN_RUNS).contains(min_runs) {
                    problems.push(SpecProblem::new(
                        at("min_runs"),
                        format!("{min_runs} is out of range; use 1 to {MAX_MIN_RUNS}"),
                    ));
                }
                if let Some(why) = window.check(MIN_RUN_WINDOW, MAX_RUN_WINDOW) {
                    problems.push(SpecProblem::new(at("window"), why));
                }
                if !(0.0..=1.0).contains(min_success_ratio) {
                    problems.push(SpecProblem::new(
                        at("min_success_ratio"),
                        "must be a fraction between 0 and 1, e.g. 0.9 for 90%",
                    ));
                }
            }
            ItemCheck::SoakTime { min } => {
                if let Some(why) = min.check(MIN_SOAK, MAX_SOAK) {
                    problems.push(SpecProblem::new(at("min"), why));
                }
            }
            ItemCheck::Manual { text, role, .. } => {
                if text.trim().is_empty() {
                    problems.push(SpecProblem::new(
                        at("text"),
                        "say what the person ticking this confirms",
                    ));
                } else if let Err(why) =
                    crate::text::check(text, MAX_ITEM_TEXT_CHARS, crate::text::Lines::One)
                {
                    problems.push(SpecProblem::new(at("text"), format!("text {why}")));
                }
                if !matches!(role, Role::Operator | Role::Approver | Role::Admin) {
                    problems.push(SpecProblem::new(
                        at("role"),
                        format!(
                            "{role}s can't tick items (their role is read-only); use \
                             operator, approver or admin"
                        ),
                    ));
                }
            }
            ItemCheck::TargetNotFailing
            | ItemCheck::NoFiringAlerts
            | ItemCheck::LastVerificationPassed
            | ItemCheck::NoNewHttpHosts
            | ItemCheck::NoNewSecretReferences => {}
        }
        problems
    }
}

/// Why `id` can't name an item, if it can't.
fn id_problem(id: &str) -> Option<String> {
    let valid = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().count() <= MAX_ITEM_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    (!valid).then(|| {
        format!(
            "item id {} is invalid: start with a lowercase letter, then use up to \
             {MAX_ITEM_ID_CHARS} lowercase letters, digits, '_' and '-'",
            crate::text::quoted(id)
        )
    })
}

/// The checklist the last environment starts with, chosen so a change
/// reaching production has been exercised where it came from:
///
/// - `stage_runs`: at least 3 runs of this version succeeded in the previous
///   environment in the last 7 days, and at least 90% of the runs that
///   finished there did: three runs rule out a lucky one, and 90% tolerates
///   one flaky run in ten without hiding a broken change;
/// - `soak`: it has been active there for at least an hour, long enough for
///   an hourly schedule to fire and for dashboards to show a regression;
/// - `target_healthy`: the last run in the target didn't fail (fix the
///   incident first, or roll back; don't stack changes);
/// - `no_firing_alerts`: no alert fires on the workflow in stage or prod;
/// - `http_hosts` and `secret_references`: anything new the change reaches
///   out to, or reads, is acknowledged by an approver by name;
/// - `on_call_aware`: the on-call operator knows it is going out and how to
///   roll it back (`gantry rollback`), ticked by an operator.
pub fn default_checklist() -> Vec<ChecklistItemTemplate> {
    let item = |id: &str, check| ChecklistItemTemplate {
        id: id.to_owned(),
        check,
    };
    vec![
        item(
            "stage_runs",
            ItemCheck::SuccessfulRunsInPrevious {
                min_runs: 3,
                window: PolicyDuration::from_days(7),
                min_success_ratio: 0.9,
            },
        ),
        item(
            "soak",
            ItemCheck::SoakTime {
                min: PolicyDuration::from_hours(1),
            },
        ),
        item("target_healthy", ItemCheck::TargetNotFailing),
        item("no_firing_alerts", ItemCheck::NoFiringAlerts),
        item("http_hosts", ItemCheck::NoNewHttpHosts),
        item("secret_references", ItemCheck::NoNewSecretReferences),
        item(
            "on_call_aware",
            ItemCheck::Manual {
                text: "The on-call engineer knows this change is going out and how to roll it back"
                    .to_owned(),
                role: Role::Operator,
                evidence_required: false,
            },
        ),
    ]
}

/// `90%`, `95.5%`: a ratio as people write it.
pub(super) fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

pub(super) fn plural<'a>(n: u32, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual(text: &str, role: Role) -> ChecklistItemTemplate {
        ChecklistItemTemplate {
            id: "m".into(),
            check: ItemCheck::Manual {
                text: text.into(),
                role,
                evidence_required: false,
            },
        }
    }

    #[test]
    fn the_default_checklist_is_valid_and_reads_well() {
        let items = default_checklist();
        for (i, item) in items.iter().enumerate() {
            assert_eq!(item.problems(&format!("checklist[{i}]")), vec![]);
        }
        let titles: Vec<String> = items
            .iter()
            .map(|i| i.check.title("stage", "prod"))
            .collect();
        assert_eq!(
            titles,
            [
                "At least 3 successful runs in stage in the last 7 d, 90% of finished runs succeeding",
                "Active in stage for at least 1 h",
                "The last run in prod is not failing",
                "No alerts firing on the workflow in stage or prod",
                "No new HTTP hosts",
                "No new secret references",
                "The on-call engineer knows this change is going out and how to roll it back",
            ]
        );
        let automatic = items.iter().filter(|i| i.check.is_automatic()).count();
        assert_eq!(automatic, 6);
    }

    #[test]
    fn items_travel_as_tagged_json_and_refuse_unknown_fields() {
        let json = r#"{"id":"soak","check":{"kind":"soak_time","min":"2h"}}"#;
        let item: ChecklistItemTemplate = serde_json::from_str(json).unwrap();
        assert_eq!(
            item.check,
            ItemCheck::SoakTime {
                min: PolicyDuration::from_hours(2)
            }
        );
        assert_eq!(serde_json::to_string(&item).unwrap(), json);
        let unit = r#"{"id":"t","check":{"kind":"target_not_failing"}}"#;
        let item: ChecklistItemTemplate = serde_json::from_str(unit).unwrap();
        assert_eq!(item.check, ItemCheck::TargetNotFailing);
        let manual =
            r#"{"id":"m","check":{"kind":"manual","text":"Docs updated","role":"operator"}}"#;
        let item: ChecklistItemTemplate = serde_json::from_str(manual).unwrap();
        assert!(matches!(
            item.check,
            ItemCheck::Manual {
                evidence_required: false,
                ..
            }
        ));
        for bad in [
            r#"{"id":"s","check":{"kind":"soak_time","min":"1h","mni":"2h"}}"#,
            r#"{"id":"s","check":{"kind":"soak_time","min":"1h"},"extra":1}"#,
            r#"{"id":"s","check":{"kind":"canary"}}"#,
            r#"{"id":"s","check":{"kind":"soak_time"}}"#,
        ] {
            assert!(
                serde_json::from_str::<ChecklistItemTemplate>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn item_problems_table() {
        let runs = |min_runs, window, ratio| ChecklistItemTemplate {
            id: "r".into(),
            check: ItemCheck::SuccessfulRunsInPrevious {
                min_runs,
                window,
                min_success_ratio: ratio,
            },
        };
        let soak = |min| ChecklistItemTemplate {
            id: "s".into(),
            check: ItemCheck::SoakTime { min },
        };
        let day = PolicyDuration::from_days(1);
        // (item, the problem's path, a phrase of its message); None = valid.
        let cases: Vec<(ChecklistItemTemplate, Option<(&str, &str)>)> = vec![
            (runs(3, day, 0.9), None),
            (
                runs(0, day, 0.9),
                Some(("c.check.min_runs", "use 1 to 1000")),
            ),
            (
                runs(1001, day, 0.9),
                Some(("c.check.min_runs", "use 1 to 1000")),
            ),
            (
                runs(3, PolicyDuration::from_mins(5), 0.9),
                Some(("c.check.window", "between 1 h and 30 d")),
            ),
            (
                runs(3, day, 1.5),
                Some(("c.check.min_success_ratio", "between 0 and 1")),
            ),
            (
                runs(3, day, f64::NAN),
                Some(("c.check.min_success_ratio", "between 0 and 1")),
            ),
            (runs(3, day, 0.0), None),
            (runs(3, day, 1.0), None),
            (
                soak(PolicyDuration::from_secs(0)),
                Some(("c.check.min", "between 1 min")),
            ),
            (
                soak(PolicyDuration::from_days(31)),
                Some(("c.check.min", "and 30 d")),
            ),
            (manual("Release notes written", Role::Operator), None),
            (
                manual("  ", Role::Operator),
                Some(("c.check.text", "say what")),
            ),
            (
                manual("two\nlines", Role::Operator),
                Some(("c.check.text", "one line")),
            ),
            (
                manual("evil \u{202E}txet", Role::Operator),
                Some(("c.check.text", "U+202E")),
            ),
            (
                manual(&"x".repeat(301), Role::Approver),
                Some(("c.check.text", "keep it to 300")),
            ),
            (
                manual("ok", Role::Viewer),
                Some(("c.check.role", "viewers can't tick")),
            ),
            (
                manual("ok", Role::Auditor),
                Some(("c.check.role", "operator, approver or admin")),
            ),
            (manual("ok", Role::Admin), None),
        ];
        for (item, expected) in cases {
            let problems = item.problems("c");
            match expected {
                None => assert_eq!(problems, vec![], "{item:?}"),
                Some((path, phrase)) => {
                    assert_eq!(problems.len(), 1, "{item:?}: {problems:?}");
                    assert_eq!(problems[0].path, path, "{item:?}");
                    assert!(problems[0].message.contains(phrase), "{:?}", problems[0]);
                }
            }
        }
    }

    #[test]
    fn item_ids_follow_the_step_id_rule() {
        for ok in ["a", "stage_runs", "on-call-2", &"a".repeat(64)] {
            assert_eq!(id_problem(ok), None, "{ok}");
        }
        for bad in ["", "1st", "Soak", "soak time", "a/b", &"a".repeat(65), "é"] {
            let why = id_problem(bad).unwrap();
            assert!(
                why.contains("start with a lowercase letter"),
                "{bad}: {why}"
            );
        }
        // The id is quoted safely in the message.
        assert!(id_problem("a\u{202E}").unwrap().contains("\\u{202E}"));
    }

    #[test]
    fn percentages_read_naturally() {
        assert_eq!(percent(0.9), "90%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.955), "95.5%");
        assert_eq!(percent(0.0), "0%");
    }
}
