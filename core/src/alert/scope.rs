//! Which workflows and environments a rule is about: a workflow by name or
//! by a pattern (`etl-*`), workflows by the labels in their specs
//! (`{team: data}`), an environment, or any combination (all must hold);
//! a field left out matches everything.

use super::rule::RuleSpec;
use crate::spec::names::{is_label_key, is_label_value, is_workflow_name};
use crate::text::quoted;
use std::collections::BTreeMap;

/// Most labels a rule may select by (and a spec may carry).
pub const MAX_LABELS: usize = 32;

impl RuleSpec {
    /// Whether the rule is about `workflow` (whose spec has `labels`) in
    /// `environment`. Rules about the installation (queue backlog,
    /// authentication failures) have no workflow or labels and match
    /// whatever is passed, so callers may pass `""` for what they lack.
    pub fn matches(
        &self,
        workflow: &str,
        labels: &BTreeMap<String, String>,
        environment: &str,
    ) -> bool {
        self.workflow
            .as_deref()
            .is_none_or(|pattern| glob_matches(pattern, workflow))
            && self
                .labels
                .iter()
                .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
            && self.environment.as_deref().is_none_or(|e| e == environment)
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any characters
/// (none too) and `?` for exactly one. Linear in practice: the classic
/// backtrack to the last `*` only, never exponential.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and where in `name` it began matching.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Why `pattern` can't select workflows, if it can't: a workflow name, or
/// one with `*` and `?` in it.
pub fn pattern_problem(pattern: &str) -> Option<String> {
    let wild = pattern.contains(['*', '?']);
    let shape_ok = if wild {
        (1..=64).contains(&pattern.len())
            && pattern
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-*?".contains(&c))
    } else {
        is_workflow_name(pattern)
    };
    (!shape_ok).then(|| {
        format!(
            "{} is neither a workflow name nor a pattern of lowercase letters, digits, dashes, * and ? (e.g. etl-*)",
            quoted(pattern)
        )
    })
}

/// The first problem with a set of labels, naming the label.
pub fn labels_problem(labels: &BTreeMap<String, String>) -> Option<String> {
    if labels.len() > MAX_LABELS {
        return Some(format!("at most {MAX_LABELS} labels"));
    }
    labels.iter().find_map(|(k, v)| label_problem(k, v))
}

/// What is wrong with one label, if anything.
pub fn label_problem(key: &str, value: &str) -> Option<String> {
    if !is_label_key(key) {
        Some(format!(
            "label {} must be 1-63 lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
            quoted(key)
        ))
    } else if !is_label_value(value) {
        Some(format!(
            "label {key}'s value {} must be 1-63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
            quoted(value)
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> RuleSpec {
        let mut base =
            serde_json::json!({"name": "r", "kind": "consecutive_failures", "threshold": 3});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), json.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn globs_match_as_shells_do() {
        let cases = [
            ("etl-*", "etl-daily", true),
            ("etl-*", "etl-", true),
            ("etl-*", "etl", false),
            ("etl-*", "my-etl-daily", false),
            ("*-nightly", "backup-nightly", true),
            ("*", "", true),
            ("*", "anything", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("nightly", "nightly", true),
            ("nightly", "nightly2", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob_matches(pattern, name), want, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn a_rule_matches_when_every_part_of_its_scope_does() {
        let team_data = labels(&[("team", "data"), ("tier", "1")]);
        let nothing = BTreeMap::new();
        let everything = rule(serde_json::json!({}));
        assert!(everything.matches("any", &nothing, "prod"));

        let exact = rule(serde_json::json!({"workflow": "nightly", "environment": "prod"}));
        assert!(exact.matches("nightly", &nothing, "prod"));
        assert!(!exact.matches("nightly", &nothing, "dev"));
        assert!(!exact.matches("nightly-2", &nothing, "prod"));

        let pattern = rule(serde_json::json!({"workflow": "etl-*"}));
        assert!(pattern.matches("etl-orders", &nothing, "dev"));
        assert!(!pattern.matches("load-etl", &nothing, "dev"));

        let by_label = rule(serde_json::json!({"labels": {"team": "data"}}));
        assert!(by_label.matches("x", &team_data, "prod"));
        assert!(!by_label.matches("x", &labels(&[("team", "web")]), "prod"));
        assert!(!by_label.matches("x", &nothing, "prod"), "label missing");

        let both = rule(
            serde_json::json!({"workflow": "etl-*", "labels": {"team": "data", "tier": "1"}, "environment": "prod"}),
        );
        assert!(both.matches("etl-a", &team_data, "prod"));
        assert!(!both.matches("etl-a", &labels(&[("team", "data")]), "prod"));
        assert!(!both.matches("web", &team_data, "prod"));
    }

    #[test]
    fn patterns_and_labels_that_cannot_select_are_named() {
        for ok in ["nightly", "etl-*", "*", "a?c", "*-daily"] {
            assert_eq!(pattern_problem(ok), None, "{ok}");
        }
        for bad in ["", "Etl-*", "etl_*", "etl-", "a b", "etl-[ab]"] {
            assert!(pattern_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(labels_problem(&labels(&[("team", "data")])), None);
        let why = labels_problem(&labels(&[("Team", "data")])).unwrap();
        assert!(why.contains("\"Team\""), "{why}");
        let why = labels_problem(&labels(&[("team", "da ta")])).unwrap();
        assert!(why.contains("team's value"), "{why}");
        let many: BTreeMap<String, String> = (0..=MAX_LABELS)
            .map(|i| (format!("k{i}"), "v".to_owned()))
            .collect();
        assert!(labels_problem(&many).unwrap().contains("at most"));
    }
}
