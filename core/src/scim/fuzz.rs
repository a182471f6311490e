//! No input makes the parsers or the evaluator panic: a fixed list of
//! hostile strings plus a deterministic generator (fixed seed, so a failure
//! reproduces). Whatever parses prints back to text that parses to the same
//! thing; whatever fails points at a character boundary inside the input.

use super::{Filter, PatchPath};
use serde_json::{Value, json};

const HOSTILE: &[&str] = &[
    "",
    " ",
    "\t\n\r",
    "(",
    ")",
    "[",
    "]",
    "((((",
    "))))",
    "][",
    "\"",
    "\"\\",
    "\\",
    "\"\\\"",
    "not",
    "not (",
    "not ()",
    "not not (a pr)",
    "and",
    "or",
    "pr",
    "eq",
    "a eq",
    "a eq \"\\u\"",
    "a eq \"\\u12\"",
    "a eq \"\\ud83d\"",
    "a eq \"\\udc00\\ud83d\"",
    "a eq \"\\ud83d\\ude00\"",
    "\u{0}",
    "a eq \"\u{0}\"",
    "a\u{0} pr",
    "a eq \"\u{7f}\"",
    "😀 pr",
    "a eq \"😀\"",
    "a eq \"\u{202e}gnp.exe\"",
    "\u{feff}a pr",
    "a\u{a0}pr",
    "a eq \"\u{2028}\"",
    "ａ pr",
    "userName eq \"x\" or 1=1 --",
    "userName eq \"a'; DROP TABLE users; --\"",
    "userName eq \"x\" or \"1\"=\"1\"",
    "userName eq x' OR '1'='1",
    "userName eq \"x\"; DELETE FROM users",
    "userName eq \"x\" /* */",
    "userName eq \"x\" UNION SELECT * FROM tokens",
    "' OR ''='",
    "%27%20OR%201%3D1",
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "a eq 1e309",
    "a eq -1e309",
    "a eq 1e-400",
    "a eq -",
    "a eq 0x10",
    "a eq 00",
    "a eq 1.",
    "a eq .5",
    "a eq NaN",
    "a eq Infinity",
    "a eq 99999999999999999999999999999999",
    "urn:",
    ":",
    "urn:a:b:",
    "urn:a:b:c",
    "urn:::a pr",
    "a..b pr",
    "a.b. pr",
    "$ref pr",
    "$ pr",
    "a[b[c]]",
    "]a[",
    "a[ ]",
    "a[b pr]]",
    "a[b pr].c",
    "emails[type eq \"work\"",
    "emails[type eq \"work\"]]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\"].value eq \"x\"",
    "a pr and",
    "or a pr",
    "a pr or or b pr",
    "a pr and and b pr",
    "(a pr) (b pr)",
    "a pr b pr",
    "a eq \"x\"\"y\"",
    "a eq true false",
    "a eq TRUE",
    "a eq nul",
    "a eQ \"x\" AnD b Pr",
    "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

/// Pieces the generator strings together: valid tokens, near misses and
/// junk, so that some outputs parse and most fail in different places.
const FRAGMENTS: &[&str] = &[
    "userName",
    "emails",
    "name.familyName",
    "type",
    "value",
    "primary",
    "members",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "EQ",
    "Pr",
    "and",
    "or",
    "not",
    "AND",
    "Or",
    "NOT",
    "(",
    ")",
    "[",
    "]",
    "(",
    ")",
    "[",
    "]",
    "\"work\"",
    "\"\"",
    "\"é😀\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"",
    "\\",
    "\"\\x\"",
    "true",
    "false",
    "null",
    "True",
    "1",
    "-2",
    "3.5",
    "1e3",
    "0",
    "01",
    "-",
    ".",
    ":",
    "$ref",
    "=",
    "'",
    ";",
    "--",
    "1=1",
    "é",
    "😀",
    "\u{0}",
    "\u{7f}",
    "\u{a0}",
    ",",
    "*",
];

/// xorshift64: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn resources() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "work",
            "name": {"familyName": "é😀"},
            "emails": [{"type": "work", "value": "a\"b", "primary": true}, {"value": ""}],
            "members": [{"value": "1"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "x"}}
        }),
        json!({"userName": null, "emails": [null, [], {}], "type": 1e3}),
        json!([1, 2]),
        json!(null),
    ]
}

/// Errors point inside the input, at a character boundary, and say
/// something.
fn check_error(text: &str, position: usize, message: &str) {
    assert!(position <= text.len(), "{text:?}: position {position}");
    assert!(
        text.is_char_boundary(position),
        "{text:?}: position {position}"
    );
    assert!(!message.is_empty());
}

fn exercise(text: &str, resources: &[Value]) -> (bool, bool) {
    let filter_ok = match Filter::parse(text) {
        Ok(filter) => {
            let canonical = filter.to_string();
            assert_eq!(
                Filter::parse(&canonical).as_ref(),
                Ok(&filter),
                "{text:?} printed as {canonical:?}"
            );
            for resource in resources {
                let _ = filter.matches(resource);
            }
            let _ = filter.attr_paths();
            true
        }
        Err(e) => {
            check_error(text, e.position, &e.to_string());
            false
        }
    };
    let path_ok = match PatchPath::parse(text) {
        Ok(path) => {
            let canonical = path.to_string();
            assert_eq!(
                PatchPath::parse(&canonical).as_ref(),
                Ok(&path),
                "{text:?} printed as {canonical:?}"
            );
            for resource in resources {
                let _ = path.selects(resource);
            }
            true
        }
        Err(e) => {
            check_error(text, e.position, &e.to_string());
            false
        }
    };
    (filter_ok, path_ok)
}

#[test]
fn hostile_strings_never_panic() {
    let resources = resources();
    for text in HOSTILE {
        exercise(text, &resources);
    }
    // The injection attempts either fail or stay literal strings.
    assert!(Filter::parse("userName eq \"x\" or 1=1 --").is_err());
    assert!(Filter::parse("userName eq x' OR '1'='1").is_err());
}

#[test]
fn generated_strings_never_panic() {
    let resources = resources();
    let mut rng = Rng(0x5C1A_F117_E2D0_0001);
    let (mut filters, mut paths) = (0, 0);
    for _ in 0..20_000 {
        let max_len = if rng.below(2) == 0 { 4 } else { 14 };
        let len = 1 + rng.below(max_len);
        // Mostly space-separated, as real filters are; sometimes glued.
        let mut text = String::new();
        for _ in 0..len {
            text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            if rng.below(4) != 0 {
                text.push(' ');
            }
        }
        let (f, p) = exercise(&text, &resources);
        filters += usize::from(f);
        paths += usize::from(p);
    }
    // The generator reaches past the first token often enough to matter.
    assert!(filters > 20, "only {filters} generated filters parsed");
    assert!(paths > 20, "only {paths} generated paths parsed");
}

#[test]
fn structured_filters_round_trip_and_evaluate() {
    // Build well-formed filters from a tiny grammar, so deep and wide
    // valid shapes get exercised too, not just early failures.
    fn build(rng: &mut Rng, depth: usize, in_brackets: bool) -> String {
        let attrs = ["userName", "type", "value", "name.familyName", "emails"];
        let values = ["\"work\"", "1", "true", "null", "\"\"", "\"é\""];
        let ops = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
        match if depth == 0 {
            rng.below(2)
        } else {
            rng.below(7)
        } {
            0 => format!("{} pr", attrs[rng.below(attrs.len())]),
            1 => format!(
                "{} {} {}",
                attrs[rng.below(attrs.len())],
                ops[rng.below(ops.len())],
                values[rng.below(values.len())]
            ),
            2 => format!("not ({})", build(rng, depth - 1, in_brackets)),
            3 => format!("({})", build(rng, depth - 1, in_brackets)),
            4 if !in_brackets => format!("emails[{}]", build(rng, depth - 1, true)),
            5 => format!(
                "{} and {}",
                build(rng, depth - 1, in_brackets),
                build(rng, depth - 1, in_brackets)
            ),
            _ => format!(
                "{} or {}",
                build(rng, depth - 1, in_brackets),
                build(rng, depth - 1, in_brackets)
            ),
        }
    }
    let resources = resources();
    let mut rng = Rng(42);
    let mut parsed = 0;
    for _ in 0..2_000 {
        let text = build(&mut rng, 5, false);
        let (ok, _) = exercise(&text, &resources);
        parsed += usize::from(ok);
    }
    // Only the term limit can refuse these.
    assert!(parsed > 1_900, "{parsed}");
}

#[test]
fn random_bytes_never_panic() {
    let resources = resources();
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() >> 24) as u8).collect();
        exercise(&String::from_utf8_lossy(&bytes), &resources);
    }
}
