//! The shapes of names in a spec. Hand-written byte checks instead of
//! regexes: the rules are tiny, and the browser bundle stays free of a regex
//! engine. Each predicate documents its pattern.

/// `^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`: safe in URLs, file names and
/// metric labels.
pub fn is_workflow_name(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=64).contains(&b.len())
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'-')
}

/// `^[a-z][a-z0-9_-]{0,62}$`.
pub fn is_step_id(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=63).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// `^[a-z_][a-z0-9_]{0,62}$`: usable as a form field and a template name.
pub fn is_input_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=63).contains(&b.len())
        && b.first()
            .is_some_and(|c| c.is_ascii_lowercase() || *c == b'_')
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`: a portable shell variable name. Also the shape
/// of output keys, which steps write as `KEY=value` lines.
pub fn is_env_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`: a label's key (`team`,
/// `cost-center`), lowercase so `Team` and `team` can't both match.
pub fn is_label_key(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len())
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || matches!(c, b'.' | b'_' | b'-'))
}

/// `^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`: a label's value
/// (`data`, `Tier-1`), safe as a metric or Alertmanager label value.
pub fn is_label_value(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=63).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Environment names Gantry sets itself (`GANTRY_WORKDIR`, `GANTRY_OUTPUT`,
/// `GANTRY_EXPR_N`, …); a spec may not override them.
pub const RESERVED_ENV_PREFIX: &str = "GANTRY_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_names() {
        let long_ok = "a".repeat(64);
        let too_long = "a".repeat(65);
        for ok in ["a", "0", "backup-verify", "a-b-c", "x1", long_ok.as_str()] {
            assert!(is_workflow_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a b", "é", too_long.as_str()] {
            assert!(!is_workflow_name(bad), "{bad}");
        }
    }

    #[test]
    fn step_ids() {
        let long_ok = "a".repeat(63);
        let too_long = "a".repeat(64);
        for ok in ["a", "dump", "a_b-c1", "a-", long_ok.as_str()] {
            assert!(is_step_id(ok), "{ok}");
        }
        for bad in ["", "1a", "_a", "-a", "A", "a.b", "a b", too_long.as_str()] {
            assert!(!is_step_id(bad), "{bad}");
        }
    }

    #[test]
    fn input_names() {
        for ok in ["a", "_x", "target_2"] {
            assert!(is_input_name(ok), "{ok}");
        }
        for bad in ["", "1a", "A", "a-b", "a.b"] {
            assert!(!is_input_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_keys_and_values() {
        let long_ok = "a".repeat(63);
        let too_long = "a".repeat(64);
        for ok in [
            "team",
            "a",
            "cost-center",
            "app.kubernetes.io",
            "x_1",
            long_ok.as_str(),
        ] {
            assert!(is_label_key(ok), "{ok}");
        }
        for bad in ["", "Team", "-a", "a-", "a b", "a/b", "é", too_long.as_str()] {
            assert!(!is_label_key(bad), "{bad}");
        }
        for ok in ["data", "Tier-1", "v1.2", "A", long_ok.as_str()] {
            assert!(is_label_value(ok), "{ok}");
        }
        for bad in ["", "-x", "x.", "a b", "a:b", too_long.as_str()] {
            assert!(!is_label_value(bad), "{bad}");
        }
    }

    #[test]
    fn env_names() {
        for ok in ["A", "_", "MODE", "a1_B"] {
            assert!(is_env_name(ok), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A B", "A.B", "Ä"] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }
}
