//! Reading a spec's source text: size check, YAML (JSON is YAML too),
//! normalisation, validation, and line numbers for every problem.

use super::locate::LocationTree;
use super::validate::validate;
use super::{MAX_SPEC_BYTES, SpecProblem, SpecRejection, WorkflowSpec};
use serde_saphyr::Error as YamlError;

/// Parses and validates a spec written in YAML or JSON.
///
/// Sources over [`MAX_SPEC_BYTES`] are refused unread. A document that does
/// not deserialize yields one problem (the parser stops there); a document
/// that does is validated and every problem is reported, each with the line
/// it is about where that can be found.
pub fn parse(source: &str) -> Result<WorkflowSpec, SpecRejection> {
    if source.len() > MAX_SPEC_BYTES {
        return Err(SpecRejection::TooLarge {
            bytes: source.len(),
            limit: MAX_SPEC_BYTES,
        });
    }
    if source.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(invalid(vec![SpecProblem::new(
            "",
            "the spec is empty; it needs at least name and steps",
        )]));
    }
    let mut spec: WorkflowSpec = serde_saphyr::from_str_with_options(source, yaml_options())
        .map_err(|err| invalid(vec![problem_from_yaml_error(&err, source)]))?;
    normalize(&mut spec);
    validate(&spec).map_err(|problems| invalid(with_lines(problems, source)))?;
    Ok(spec)
}

/// The `name:` of a spec that may be invalid otherwise, so that a refused
/// apply can still say which workflow it was about (audit records, logs).
/// `None` when the text is too large, not YAML, or names nothing sensible.
pub fn name_hint(source: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct NameOnly {
        name: Option<String>,
    }
    if source.len() > MAX_SPEC_BYTES {
        return None;
    }
    let named: NameOnly = serde_saphyr::from_str_with_options(source, yaml_options()).ok()?;
    named
        .name
        .filter(|n| !n.is_empty() && n.len() <= 100 && !n.chars().any(char::is_control))
}

fn invalid(problems: Vec<SpecProblem>) -> SpecRejection {
    SpecRejection::Invalid { problems }
}

/// Parser settings: YAML 1.2 booleans only (`yes`/`no`/`on`/`off` stay
/// strings, so `options: [yes, no]` means what it says), and
/// budgets sized for a 1 MiB spec so anchor/alias bombs and deep nesting fail
/// fast instead of eating memory.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 32;
    budget.max_nodes = 200_000;
    budget.max_events = 500_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_merge_keys = 1_000;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = MAX_SPEC_BYTES;
    budget.max_total_scalar_bytes = 4 * MAX_SPEC_BYTES;

    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// Canonical spellings, so equivalent specs hash the same.
fn normalize(spec: &mut WorkflowSpec) {
    for step in &mut spec.steps {
        if let Some(http) = &mut step.http {
            http.method = http.method.trim().to_ascii_uppercase();
        }
    }
}

/// Fills in lines from the source and orders problems top to bottom
/// (stable, so problems on one line keep validation order).
fn with_lines(mut problems: Vec<SpecProblem>, source: &str) -> Vec<SpecProblem> {
    if let Some(tree) = LocationTree::build(source, yaml_options()) {
        for problem in problems.iter_mut().filter(|p| p.line.is_none()) {
            problem.line = tree.line_of(&problem.path);
        }
    }
    problems.sort_by_key(|p| p.line.unwrap_or(u32::MAX));
    problems
}

/// One problem for a document that did not deserialize, with the path
/// recovered from the error's position.
fn problem_from_yaml_error(err: &YamlError, source: &str) -> SpecProblem {
    let err = err.without_snippet();
    let location = err.location().filter(|l| l.line() > 0);
    let missing_field = matches!(err, YamlError::SerdeMissingField { .. });
    let path = location
        .and_then(|l| {
            LocationTree::build(source, yaml_options())
                .map(|tree| tree.path_at(l.line(), l.column(), missing_field))
        })
        .unwrap_or_default();
    SpecProblem {
        path,
        line: location.and_then(|l| u32::try_from(l.line()).ok()),
        message: yaml_message(err),
    }
}

/// The parser's message, reworded where it would otherwise talk about Rust
/// types or parser options.
fn yaml_message(err: &YamlError) -> String {
    match err {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => format!(
            "unknown field \"{field}\"; allowed here: {}",
            expected.join(", ")
        ),
        YamlError::SerdeMissingField { field, .. } => {
            format!("missing required field \"{field}\"")
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown value \"{variant}\"; use one of: {}",
            expected.join(", ")
        ),
        YamlError::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("\"{key}\" appears twice; keep one"),
            None => "a key appears twice; keep one".to_owned(),
        },
        YamlError::MultipleDocuments { .. } => {
            "a spec is a single YAML document; remove the \"---\" separator".to_owned()
        }
        YamlError::InvalidScalar { ty, .. } => format!("expected {}", friendly_type(ty)),
        YamlError::Unexpected { expected, .. } => format!("expected {}", friendly_node(expected)),
        YamlError::Eof { .. } => {
            "the spec ends unexpectedly; it needs at least name and steps".to_owned()
        }
        other => {
            let message = strip_position(&other.to_string());
            // Budget breaches also arrive wrapped (e.g. inside an alias
            // expansion), so recognise them by their text.
            if let Some(breach) = message.strip_prefix("budget breached: ") {
                too_complex(breach)
            } else if message.contains("recursion limit") {
                too_complex(&message)
            } else {
                message
            }
        }
    }
}

fn too_complex(detail: &str) -> String {
    format!(
        "the spec exceeds a parser limit ({detail}): it nests too deeply or has too many nodes, anchors or aliases"
    )
}

/// Scalar target types as an author would say them.
fn friendly_type(ty: &str) -> String {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "bool" => "true or false".to_owned(),
        other => other.to_owned(),
    }
}

/// YAML node kinds as an author would say them.
fn friendly_node(expected: &str) -> &str {
    match expected {
        "sequence start" => "a list",
        "mapping start" => "a mapping (key: value pairs)",
        "string scalar" => "a string",
        other => other,
    }
}

/// Drops the parser's trailing " at line N, column M": the problem carries
/// the line itself.
fn strip_position(message: &str) -> String {
    const MARK: &str = " at line ";
    let mut from = 0;
    while let Some(found) = message[from..].find(MARK) {
        let i = from + found;
        let after = &message[i + MARK.len()..];
        if after.starts_with(|c: char| c.is_ascii_digit()) && after.contains(", column ") {
            return message[..i].to_owned();
        }
        from = i + MARK.len();
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_of_an_invalid_spec_can_still_be_read() {
        assert_eq!(
            name_hint("name: broken\nsteps: []\n").as_deref(),
            Some("broken")
        );
        assert_eq!(
            name_hint("{\"name\": \"j\", \"extra\": 1}").as_deref(),
            Some("j")
        );
        assert_eq!(name_hint("steps: []"), None);
        assert_eq!(name_hint(": : :"), None);
        assert_eq!(name_hint("name: \"a\\u0000b\""), None);
    }
    use crate::spec::{Backoff, StepKind};
    use std::time::Duration;

    const EXAMPLE: &str = r#"name: backup-verify
description: Verify last night's backup
schedule: "0 3 * * *"
inputs:
  target: { type: string, default: primary }
concurrency: 1
timeout: 30m
steps:
  - id: dump
    run: ./scripts/dump.sh "${{ inputs.target }}"
    timeout: 10m
    retries: { max_attempts: 3, backoff: exponential, initial: 5s }
    env: { MODE: full }
    outputs: [sha]
  - id: check
    needs: [dump]
    run: echo "${{ steps.dump.outputs.sha }}" && sha256sum -c "$GANTRY_WORKDIR/dump.sha256"
  - id: notify
    needs: [check]
    http: { method: POST, url: "http://127.0.0.1:9999/hook", body: '{"ok":true}', expect_status: [200, 204] }
"#;

    const EXAMPLE_JSON: &str = r#"{
  "name": "backup-verify",
  "description": "Verify last night's backup",
  "schedule": "0 3 * * *",
  "inputs": {"target": {"type": "string", "default": "primary"}},
  "concurrency": 1,
  "timeout": "30m",
  "steps": [
    {"id": "dump", "run": "./scripts/dump.sh \"${{ inputs.target }}\"", "timeout": "10m",
     "retries": {"max_attempts": 3, "backoff": "exponential", "initial": "5s"},
     "env": {"MODE": "full"}, "outputs": ["sha"]},
    {"id": "check", "needs": ["dump"],
     "run": "echo \"${{ steps.dump.outputs.sha }}\" && sha256sum -c \"$GANTRY_WORKDIR/dump.sha256\""},
    {"id": "notify", "needs": ["check"],
     "http": {"method": "POST", "url": "http://127.0.0.1:9999/hook", "body": "{\"ok\":true}",
              "expect_status": [200, 204]}}
  ]
}"#;

    /// The example with comments, other key order, other spacing and
    /// quoting, a lowercase method and equivalent duration spellings.
    const EXAMPLE_REWRITTEN: &str = r#"
# Nightly backup check.
steps:
  - run: ./scripts/dump.sh "${{ inputs.target }}"   # the dump
    id: dump
    outputs:
      - sha
    env:
      MODE: full
    retries:
      initial: 5s
      backoff: exponential
      max_attempts: 3
    timeout: 600s
  - needs: [dump]
    id: check
    run: 'echo "${{ steps.dump.outputs.sha }}" && sha256sum -c "$GANTRY_WORKDIR/dump.sha256"'
  - http:
      expect_status: [200, 204]
      body: '{"ok":true}'
      url: http://127.0.0.1:9999/hook
      method: post
    needs: [check]
    id: notify
timeout: 1800s
name: backup-verify
concurrency: 1
schedule: '0 3 * * *'
description: "Verify last night's backup"
inputs: {target: {default: primary, type: string}}
"#;

    #[test]
    fn the_example_parses() {
        let spec = parse(EXAMPLE).unwrap();
        assert_eq!(spec.name, "backup-verify");
        assert_eq!(spec.schedule.as_deref(), Some("0 3 * * *"));
        assert_eq!(spec.concurrency, Some(1));
        assert_eq!(spec.timeout.map(|d| d.0), Some(Duration::from_secs(1800)));
        assert_eq!(spec.inputs.keys().collect::<Vec<_>>(), ["target"]);
        assert_eq!(spec.steps.len(), 3);
        let dump = spec.step("dump").unwrap();
        let retries = dump.retries.as_ref().unwrap();
        assert_eq!(
            (retries.max_attempts, retries.backoff),
            (3, Backoff::Exponential)
        );
        assert_eq!(dump.max_attempts(), 3);
        assert_eq!(dump.outputs, ["sha"]);
        assert!(matches!(dump.kind(), StepKind::Shell(s) if s.starts_with("./scripts/dump.sh")));
        match spec.step("notify").unwrap().kind() {
            StepKind::Http(http) => {
                assert_eq!(http.method, "POST");
                assert_eq!(http.expect_status, [200, 204]);
                assert_eq!(http.body.as_deref(), Some(r#"{"ok":true}"#));
            }
            other => panic!("notify should be http, got {other:?}"),
        }
    }

    #[test]
    fn json_and_yaml_give_the_same_hash() {
        let yaml = parse(EXAMPLE).unwrap();
        let json = parse(EXAMPLE_JSON).unwrap();
        assert_eq!(yaml, json);
        assert_eq!(yaml.content_hash(), json.content_hash());
    }

    #[test]
    fn json_escapes_and_tab_indentation_are_understood() {
        let json = "{\n\t\"name\": \"w\",\n\t\"description\": \"\\ud83d\\ude00 \\/ \\u00e9 \\\"q\\\"\",\n\t\"steps\": [{\"id\": \"a\", \"run\": \"true\"}]\n}";
        let spec = parse(json).unwrap();
        assert_eq!(spec.description.as_deref(), Some("😀 / é \"q\""));
    }

    #[test]
    fn comments_key_order_and_spelling_keep_the_hash() {
        let a = parse(EXAMPLE).unwrap();
        let b = parse(EXAMPLE_REWRITTEN).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.content_hash(), b.content_hash());
        assert_eq!(a.canonical_json(), b.canonical_json());
    }

    /// Pinned before `slo:` existed: a spec that doesn't use a newer field
    /// must keep the hash it was stored under.
    #[test]
    fn a_spec_without_newer_fields_keeps_its_pinned_hash() {
        assert_eq!(
            parse(EXAMPLE).unwrap().content_hash(),
            "cab94ef10f53261a11bcedc044cf8ba614850698b3d8e6582f4d3a7e5fa8f95c"
        );
    }

    #[test]
    fn an_slo_section_parses_and_hashes_by_meaning() {
        let with = |slo: &str| parse(&EXAMPLE.replacen("steps:", &format!("{slo}steps:"), 1));
        let spec = with(
            "slo:\n  prod:\n    window: 28d\n    success: 99.5%\n    duration: { within: 10m, target: 0.95 }\n  dev: { window: 7d, success: 0.9 }\n",
        )
        .unwrap();
        let prod = &spec.slo["prod"];
        assert_eq!(prod.success.map(|t| t.ppm()), Some(995_000));
        assert_eq!(
            prod.duration
                .as_ref()
                .map(|d| (d.within.0.as_secs(), d.target.ppm())),
            Some((600, 950_000))
        );
        assert!(spec.canonical_json().contains(
            r#""slo":{"dev":{"window":"7days","success":"90%"},"prod":{"window":"28days","success":"99.5%","duration":{"within":"10m","target":"95%"}}}"#
        ));
        let base = parse(EXAMPLE).unwrap().content_hash();
        assert_ne!(spec.content_hash(), base);
        // The same objectives written otherwise hash the same.
        let rewritten = with(
            "slo:\n  dev: { success: 90%, window: 1week }\n  prod:\n    duration: { target: 95%, within: 600s }\n    success: 0.995\n    window: 4weeks\n",
        )
        .unwrap();
        assert_eq!(rewritten.content_hash(), spec.content_hash());
        // An empty section is no section.
        assert_eq!(with("slo: {}\n").unwrap().content_hash(), base);
    }

    #[test]
    fn changing_a_value_changes_the_hash() {
        let base = parse(EXAMPLE).unwrap().content_hash();
        let edits = [
            ("timeout: 30m", "timeout: 31m"),
            ("default: primary", "default: replica"),
            ("concurrency: 1", "concurrency: 2"),
            ("MODE: full", "MODE: fast"),
            ("[200, 204]", "[200, 201]"),
            ("needs: [check]", "needs: [dump, check]"),
        ];
        for (from, to) in edits {
            let edited = EXAMPLE.replacen(from, to, 1);
            assert_ne!(edited, EXAMPLE, "{from} not found");
            assert_ne!(
                parse(&edited).unwrap().content_hash(),
                base,
                "{from} → {to}"
            );
        }
    }

    #[test]
    fn canonical_form_is_tidy_and_parses_back() {
        let spec = parse(EXAMPLE).unwrap();
        let canonical = spec.canonical_json();
        assert!(canonical.starts_with(r#"{"name":"backup-verify","description":"#));
        assert!(canonical.contains(r#""timeout":"10m""#));
        assert!(!canonical.contains("null"));
        assert!(!canonical.contains("[]"));
        assert_eq!(parse(&canonical).unwrap(), spec);
    }

    /// (source, path, line, message fragment)
    fn yaml_level_cases() -> Vec<(String, &'static str, Option<u32>, &'static str)> {
        let s = |x: &str| x.to_owned();
        vec![
            (s("name: [x\n"), "", Some(1), "expected a string"),
            (
                s("name: x\nsteps:\n  - id: a\n   run: b\n"),
                "",
                Some(4),
                "did not find expected '-' indicator",
            ),
            (
                s("name: x\nbogus: 1\nsteps: []\n"),
                "bogus",
                Some(2),
                "unknown field \"bogus\"; allowed here: name, description",
            ),
            (
                s("name: x\nsteps:\n  - id: a\n    run: b\n    runs: c\n"),
                "steps[0].runs",
                Some(5),
                "unknown field \"runs\"",
            ),
            (
                s(
                    "name: x\nsteps:\n  - id: a\n    run: b\n    http: {method: GET, url: 'http://x', hdrs: {}}\n",
                ),
                "steps[0].http.hdrs",
                Some(5),
                "unknown field \"hdrs\"",
            ),
            (
                s("name: x\nconcurrency: many\nsteps: []\n"),
                "concurrency",
                Some(2),
                "expected a whole number",
            ),
            (
                s("name: x\nconcurrency: -1\nsteps: []\n"),
                "concurrency",
                Some(2),
                "expected a whole number (0 or more)",
            ),
            (
                s("name: x\nsteps:\n  - id: a\n    run: b\n    needs: a\n"),
                "steps[0].needs",
                Some(5),
                "expected a list",
            ),
            (
                s("name: x\nsteps: {}\n"),
                "steps",
                Some(2),
                "expected a list",
            ),
            (
                s("steps: []\n"),
                "",
                Some(1),
                "missing required field \"name\"",
            ),
            (
                s("name: x\nsteps:\n  - run: b\n"),
                "steps[0]",
                Some(3),
                "missing required field \"id\"",
            ),
            (
                s("name: x\nname: y\nsteps: []\n"),
                "name",
                Some(2),
                "\"name\" appears twice",
            ),
            (
                s("name: x\nsteps: []\n---\nname: y\n"),
                "",
                Some(4),
                "single YAML document",
            ),
            (
                s("name: x\ntimeout: 10 parsecs\nsteps: []\n"),
                "timeout",
                Some(2),
                "invalid duration \"10 parsecs\"",
            ),
            (
                s("name: x\ntimeout: 10\nsteps: []\n"),
                "timeout",
                Some(2),
                "needs a unit",
            ),
            (
                s("name: x\ninputs:\n  n: {type: int}\nsteps: []\n"),
                "inputs.n.type",
                Some(3),
                "unknown value \"int\"; use one of: string, integer",
            ),
            (
                s(
                    "name: x\nsteps:\n  - id: a\n    retries: {max_attempts: 2, backoff: linear}\n    run: b\n",
                ),
                "steps[0].retries.backoff",
                Some(4),
                "unknown value \"linear\"",
            ),
            (
                s(
                    "name: x\nsteps:\n  - id: a\n    http: {method: GET, url: 'http://x', expect_status: [700000]}\n",
                ),
                "steps[0].http.expect_status[0]",
                Some(4),
                "expected a whole number",
            ),
            (s("- just\n- a list\n"), "", Some(1), "expected a mapping"),
            (
                s("{\"name\": \"x\", \"steps\": [{\"id\": \"a\", \"run\": 5, \"bogus\": 1}]}"),
                "steps[0].bogus",
                Some(1),
                "unknown field \"bogus\"",
            ),
            (
                s(
                    "{\"name\": \"x\",\n \"steps\": [\n  {\"id\": \"a\", \"timeout\": \"5 lightyears\"}]}",
                ),
                "steps[0].timeout",
                Some(3),
                "invalid duration",
            ),
            (s(""), "", None, "the spec is empty"),
            (
                s("  \n# only a comment\n"),
                "",
                Some(3),
                "ends unexpectedly",
            ),
        ]
    }

    #[test]
    fn yaml_level_errors_have_a_path_and_line() {
        for (source, path, line, fragment) in yaml_level_cases() {
            let problems = match parse(&source) {
                Err(SpecRejection::Invalid { problems }) => problems,
                other => panic!("{source:?} should be invalid, got {other:?}"),
            };
            assert_eq!(problems.len(), 1, "{source:?}: {problems:?}");
            let p = &problems[0];
            assert_eq!(p.path, path, "{source:?}: {p:?}");
            assert_eq!(p.line, line, "{source:?}: {p:?}");
            assert!(p.message.contains(fragment), "{source:?}: {p:?}");
            assert!(!p.message.contains(" at line "), "{source:?}: {p:?}");
            assert!(
                !p.message.contains("DuplicateKeyPolicy"),
                "{source:?}: {p:?}"
            );
        }
    }

    #[test]
    fn oversized_sources_are_refused_unread() {
        let big = format!(
            "name: x\ndescription: \"{}\"\nsteps: []\n",
            "a".repeat(MAX_SPEC_BYTES)
        );
        assert_eq!(
            parse(&big),
            Err(SpecRejection::TooLarge {
                bytes: big.len(),
                limit: MAX_SPEC_BYTES
            })
        );
    }

    fn first_problem(source: &str) -> SpecProblem {
        match parse(source) {
            Err(SpecRejection::Invalid { problems }) => problems[0].clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alias_bombs_fail_fast() {
        // Nine levels of nine aliases: 9^9 strings if expanded.
        let mut bomb = String::from(
            "name: x\ninputs:\n  x:\n    type: string\n    default:\n      a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
        );
        for i in 1..10 {
            let list = vec![format!("*a{}", i - 1); 9].join(",");
            bomb.push_str(&format!("      a{i}: &a{i} [{list}]\n"));
        }
        bomb.push_str("steps: []\n");
        let started = std::time::Instant::now();
        let problem = first_problem(&bomb);
        assert!(
            problem.message.contains("exceeds a parser limit"),
            "{problem:?}"
        );
        assert!(!problem.message.contains(" at line "), "{problem:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = format!(
            "name: x\ninputs:\n  x: {{type: string, default: {}{}}}\nsteps: []\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let problem = first_problem(&deep);
        assert!(
            problem.message.contains("exceeds a parser limit"),
            "{problem:?}"
        );
    }

    #[test]
    fn yaml_one_point_one_booleans_stay_strings() {
        let src = "name: x\ninputs:\n  answer: {type: choice, options: [yes, no], default: no}\nsteps:\n  - id: a\n    run: 'true'\n";
        let spec = parse(src).unwrap();
        assert_eq!(spec.inputs["answer"].default, Some(serde_json::json!("no")));
    }

    #[test]
    fn a_byte_order_mark_is_fine() {
        let with_bom = format!("\u{feff}{EXAMPLE}");
        assert_eq!(parse(&with_bom).unwrap(), parse(EXAMPLE).unwrap());
    }

    #[test]
    fn strip_position_only_strips_the_trailing_position() {
        assert_eq!(strip_position("bad thing at line 3, column 4"), "bad thing");
        assert_eq!(strip_position("look at line 3"), "look at line 3");
        assert_eq!(
            strip_position("breach at line 6, column 48 (defined at line 10, column 15)"),
            "breach"
        );
        assert_eq!(strip_position("at line x at line 2, column 1"), "at line x");
    }
}
