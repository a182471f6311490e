//! Turning what a caller gave for a run's inputs into the typed values the
//! run uses. Forms and the CLI send everything as text, so strings are
//! coerced to the declared type ("3" → 3); the JSON API may send typed values.

use super::{InputSpec, InputType, SpecProblem};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::BTreeMap;

/// Checks `given` against the declared inputs and fills in defaults.
/// Returns every declared input with a value, or every problem found (path
/// `inputs.NAME`). A given `null` counts as not given.
pub fn resolve_inputs(
    declared: &IndexMap<String, InputSpec>,
    given: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, Vec<SpecProblem>> {
    let mut problems = Vec::new();
    for name in given.keys().filter(|n| !declared.contains_key(*n)) {
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "this workflow declares no inputs".to_owned()
        } else {
            format!("declared inputs: {}", known.join(", "))
        };
        problems.push(SpecProblem::new(
            format!("inputs.{name}"),
            format!("unknown input \"{name}\"; {hint}"),
        ));
    }

    let mut resolved = BTreeMap::new();
    for (name, spec) in declared {
        let path = format!("inputs.{name}");
        match given.get(name).filter(|v| !v.is_null()) {
            Some(value) => match coerce(spec, value) {
                Ok(v) => {
                    resolved.insert(name.clone(), v);
                }
                Err(expected) => problems.push(SpecProblem::new(
                    path,
                    format!("input \"{name}\" must be {expected}, got {value}"),
                )),
            },
            None => match &spec.default {
                Some(default) if !default.is_null() => {
                    resolved.insert(name.clone(), default.clone());
                }
                _ => problems.push(SpecProblem::new(
                    path,
                    format!("input \"{name}\" is required"),
                )),
            },
        }
    }

    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(problems)
    }
}

/// Converts a given value to the declared type, accepting text forms.
/// On failure returns what was expected ("an integer", "one of: a, b").
fn coerce(spec: &InputSpec, value: &Value) -> Result<Value, String> {
    let text = value.as_str().map(str::trim);
    match spec.kind {
        InputType::String => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(expected(spec)),
        },
        InputType::Integer => match (value, text) {
            (Value::Number(n), _) if n.is_i64() => Ok(value.clone()),
            (_, Some(t)) => t
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| expected(spec)),
            _ => Err(expected(spec)),
        },
        InputType::Number => match (value, text) {
            (Value::Number(_), _) => Ok(value.clone()),
            (_, Some(t)) => parse_number(t).ok_or_else(|| expected(spec)),
            _ => Err(expected(spec)),
        },
        InputType::Boolean => match (value, text) {
            (Value::Bool(_), _) => Ok(value.clone()),
            (_, Some(t)) => parse_bool(t).map(Value::Bool).ok_or_else(|| expected(spec)),
            _ => Err(expected(spec)),
        },
        InputType::Choice => {
            // Options are strings; a typed 2 or true picks the option "2"/"true".
            let chosen = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return Err(expected(spec)),
            };
            let options = spec.options.as_deref().unwrap_or_default();
            if options.contains(&chosen) {
                Ok(Value::String(chosen))
            } else {
                Err(expected(spec))
            }
        }
    }
}

/// "3" stays an integer, "2.5" becomes a float; NaN and infinities are refused.
fn parse_number(t: &str) -> Option<Value> {
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::from(i));
    }
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// The spellings forms and shells commonly use, case-insensitively.
fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// What a value of this input must look like, for messages.
fn expected(spec: &InputSpec) -> String {
    match spec.kind {
        InputType::String => "a string".to_owned(),
        InputType::Integer => "an integer".to_owned(),
        InputType::Number => "a number".to_owned(),
        InputType::Boolean => "a boolean (true/false, yes/no, on/off)".to_owned(),
        InputType::Choice => format!(
            "one of: {}",
            spec.options.as_deref().unwrap_or_default().join(", ")
        ),
    }
}

/// Whether `value` is a valid value of the input exactly as written (no
/// coercion): a spec's `default` must already have the declared type.
/// Returns what was expected when it is not.
pub fn check_default(spec: &InputSpec, value: &Value) -> Result<(), String> {
    let ok = match spec.kind {
        InputType::String => value.is_string(),
        InputType::Integer => value.is_i64(),
        InputType::Number => value.is_number(),
        InputType::Boolean => value.is_boolean(),
        InputType::Choice => value.as_str().is_some_and(|s| {
            spec.options
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|o| o == s)
        }),
    };
    if ok { Ok(()) } else { Err(expected(spec)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(kind: InputType, default: Option<Value>) -> InputSpec {
        InputSpec {
            kind,
            default,
            description: None,
            options: (kind == InputType::Choice)
                .then(|| vec!["red".into(), "green".into(), "2".into()]),
        }
    }

    fn declared() -> IndexMap<String, InputSpec> {
        [
            ("name", input(InputType::String, None)),
            ("count", input(InputType::Integer, None)),
            ("ratio", input(InputType::Number, None)),
            ("dry", input(InputType::Boolean, None)),
            ("color", input(InputType::Choice, None)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn resolve_one(name: &str, value: Value) -> Result<Value, String> {
        let decl: IndexMap<String, InputSpec> =
            declared().into_iter().filter(|(k, _)| k == name).collect();
        let given = [(name.to_owned(), value)].into_iter().collect();
        resolve_inputs(&decl, &given)
            .map(|mut m| m.remove(name).unwrap_or(Value::Null))
            .map_err(|p| {
                p.iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
    }

    #[test]
    fn coercion_table() {
        let ok = [
            ("name", json!("x"), json!("x")),
            ("name", json!(""), json!("")),
            ("count", json!(3), json!(3)),
            ("count", json!("3"), json!(3)),
            ("count", json!(" -7 "), json!(-7)),
            ("ratio", json!("2.5"), json!(2.5)),
            ("ratio", json!("3"), json!(3)),
            ("ratio", json!(1e3), json!(1000.0)),
            ("ratio", json!(4), json!(4)),
            ("dry", json!(true), json!(true)),
            ("dry", json!("true"), json!(true)),
            ("dry", json!("False"), json!(false)),
            ("dry", json!("yes"), json!(true)),
            ("dry", json!("no"), json!(false)),
            ("dry", json!("ON"), json!(true)),
            ("dry", json!("off"), json!(false)),
            ("color", json!("green"), json!("green")),
            ("color", json!(2), json!("2")),
        ];
        for (name, given, want) in ok {
            assert_eq!(resolve_one(name, given.clone()), Ok(want), "{name}={given}");
        }
    }

    #[test]
    fn wrong_types_are_rejected_with_what_was_expected() {
        let bad = [
            (
                "count",
                json!("abc"),
                "input \"count\" must be an integer, got \"abc\"",
            ),
            ("count", json!(2.5), "must be an integer, got 2.5"),
            ("count", json!("2.5"), "must be an integer"),
            ("count", json!(true), "must be an integer, got true"),
            ("count", json!("99999999999999999999"), "must be an integer"),
            ("ratio", json!("NaN"), "must be a number"),
            ("ratio", json!("inf"), "must be a number"),
            ("ratio", json!("1,5"), "must be a number"),
            ("dry", json!("maybe"), "must be a boolean"),
            ("dry", json!(1), "must be a boolean"),
            ("name", json!(5), "input \"name\" must be a string, got 5"),
            ("name", json!(["a"]), "must be a string"),
            (
                "color",
                json!("blue"),
                "must be one of: red, green, 2, got \"blue\"",
            ),
            ("color", json!("Red"), "must be one of"),
            ("color", json!({"a": 1}), "must be one of"),
        ];
        for (name, given, want) in bad {
            let err = resolve_one(name, given.clone()).unwrap_err();
            assert!(err.contains(want), "{name}={given}: {err}");
        }
    }

    #[test]
    fn defaults_fill_missing_and_null_inputs() {
        let mut decl = IndexMap::new();
        decl.insert(
            "target".to_owned(),
            input(InputType::String, Some(json!("primary"))),
        );
        decl.insert("n".to_owned(), input(InputType::Integer, Some(json!(1))));
        let given = [("n".to_owned(), json!(null))].into_iter().collect();
        let out = resolve_inputs(&decl, &given).unwrap();
        assert_eq!(out.get("target"), Some(&json!("primary")));
        assert_eq!(out.get("n"), Some(&json!(1)));
        let given = [("target".to_owned(), json!("replica"))]
            .into_iter()
            .collect();
        let out = resolve_inputs(&decl, &given).unwrap();
        assert_eq!(out.get("target"), Some(&json!("replica")));
    }

    #[test]
    fn missing_required_and_unknown_inputs_are_all_reported() {
        let given = [
            ("bogus".to_owned(), json!(1)),
            ("count".to_owned(), json!("x")),
        ]
        .into_iter()
        .collect();
        let problems = resolve_inputs(&declared(), &given).unwrap_err();
        let pairs: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        assert!(pairs.contains(&(
            "inputs.bogus",
            "unknown input \"bogus\"; declared inputs: name, count, ratio, dry, color"
        )));
        assert!(pairs.contains(&("inputs.name", "input \"name\" is required")));
        assert!(pairs.contains(&(
            "inputs.count",
            "input \"count\" must be an integer, got \"x\""
        )));
        assert_eq!(problems.len(), 6, "{pairs:?}");
    }

    #[test]
    fn no_inputs_declared() {
        let given = [("x".to_owned(), json!(1))].into_iter().collect();
        let problems = resolve_inputs(&IndexMap::new(), &given).unwrap_err();
        assert!(problems[0].message.contains("declares no inputs"));
        assert_eq!(
            resolve_inputs(&IndexMap::new(), &BTreeMap::new()),
            Ok(BTreeMap::new())
        );
    }

    #[test]
    fn defaults_must_have_the_declared_type_exactly() {
        let cases = [
            (InputType::String, json!("x"), true),
            (InputType::String, json!(1), false),
            (InputType::Integer, json!(1), true),
            (InputType::Integer, json!("1"), false),
            (InputType::Integer, json!(1.5), false),
            (InputType::Number, json!(1.5), true),
            (InputType::Number, json!(1), true),
            (InputType::Boolean, json!(false), true),
            (InputType::Boolean, json!("no"), false),
            (InputType::Choice, json!("red"), true),
            (InputType::Choice, json!("blue"), false),
        ];
        for (kind, value, ok) in cases {
            assert_eq!(
                check_default(&input(kind, None), &value).is_ok(),
                ok,
                "{kind:?} {value}"
            );
        }
    }
}
