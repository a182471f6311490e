//! The parsers a user or an identity provider feeds take any text without
//! panicking, and what they print they read back unchanged. The SCIM
//! filter and PATCH path parsers also have `scim/fuzz.rs`'s fixed hostile
//! strings.

use super::config;
use crate::audit::canonical_json;
use crate::scim::{Filter, PatchPath, ResourceKind, apply_patch, normalize};
use crate::spec::SpecDuration;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Attribute paths a SCIM filter may name (valid or not for a schema: the
/// parser doesn't check the schema).
fn attr_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("userName".to_owned()),
        Just("name.familyName".to_owned()),
        Just("emails.value".to_owned()),
        Just("active".to_owned()),
        Just("meta.lastModified".to_owned()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:userName".to_owned()),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ]
}

/// A comparison's right-hand side, as filter text.
fn comp_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| json!(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_owned()),
    ]
}

/// Well-formed filter text: comparisons, presence, value paths, `not`,
/// `and`/`or` chains and parentheses, nested a few levels.
fn filter_text() -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("eq"),
        Just("ne"),
        Just("co"),
        Just("sw"),
        Just("ew"),
        Just("gt"),
        Just("ge"),
        Just("lt"),
        Just("le")
    ];
    let leaf = prop_oneof![
        (attr_path(), op, comp_value()).prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        attr_path().prop_map(|a| format!("{a} pr")),
        ("[a-zA-Z]{1,8}", comp_value()).prop_map(|(a, v)| format!("emails[{a} eq {v}]")),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| format!("not ({f})")),
            inner.clone().prop_map(|f| format!("({f})")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|fs| fs.join(" and ")),
            prop::collection::vec(inner, 2..4).prop_map(|fs| fs.join(" or ")),
        ]
    })
}

/// Any JSON an audit record's details or a SCIM body may hold. Numbers
/// are integers: serde_json reads some decimals back one bit off without
/// its `float_roundtrip` feature, and no hashed field holds a decimal.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` with every object's keys inserted in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().rev() {
                out.insert(k.clone(), reversed(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// A SCIM PATCH body: well-formed operations with arbitrary paths and
/// values, or arbitrary JSON.
fn patch_body() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        Just("add".to_owned()),
        Just("replace".to_owned()),
        Just("remove".to_owned()),
        Just("Replace".to_owned()),
        "\\PC{0,8}",
    ];
    let path = prop_oneof![
        Just(None),
        Just(Some("members".to_owned())),
        Just(Some("emails[type eq \"work\"].value".to_owned())),
        Just(Some("name.givenName".to_owned())),
        Just(Some("active".to_owned())),
        Just(Some("members[value eq \"u1\"]".to_owned())),
        "\\PC{0,30}".prop_map(Some),
    ];
    let operation = (op, path, json_value()).prop_map(|(op, path, value)| {
        let mut o = json!({"op": op, "value": value});
        if let Some(path) = path {
            o["path"] = json!(path);
        }
        o
    });
    prop_oneof![
        prop::collection::vec(operation, 0..4).prop_map(|ops| json!({
            "schemas": [crate::scim::PATCH_OP],
            "Operations": ops,
        })),
        json_value(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_duration_reads_back_what_it_prints(
        secs in 0u64..=7 * 24 * 3600,
        millis in 0u32..1000,
    ) {
        let duration = SpecDuration(Duration::new(secs, millis * 1_000_000));
        let printed = json!(duration.to_string());
        let back: SpecDuration = serde_json::from_value(printed.clone())
            .map_err(|e| TestCaseError::fail(format!("{printed} does not parse: {e}")))?;
        prop_assert_eq!(back, duration);
    }

    #[test]
    fn any_duration_text_is_read_or_refused(text in "\\PC{0,40}") {
        let _ = serde_json::from_value::<SpecDuration>(json!(text));
    }

    #[test]
    fn any_spec_text_is_read_or_refused(text in "\\PC{0,300}") {
        let _ = crate::spec::parse(&text);
    }

    #[test]
    fn any_spec_shaped_yaml_is_read_or_refused(
        name in "[a-z][a-z0-9-]{0,12}|\\PC{0,12}",
        step in "[a-z][a-z0-9_-]{0,8}|\\PC{0,8}",
        run in "\\PC{0,40}",
        timeout in "\\PC{0,10}",
        needs in "\\PC{0,10}",
    ) {
        let yaml = format!(
            "name: {name:?}\nsteps:\n  - id: {step:?}\n    run: {run:?}\n    timeout: {timeout:?}\n    needs: [{needs:?}]\n"
        );
        let _ = crate::spec::parse(&yaml);
    }

    #[test]
    fn any_template_text_is_read_or_refused(text in "\\PC{0,80}") {
        let _ = crate::spec::template::expressions(&text);
    }

    #[test]
    fn any_cron_expression_and_timezone_are_read_or_refused(
        expr in "[0-9*/,\\- A-Za-z?#LW]{0,40}",
        zone in prop::option::of("[A-Za-z/_+-]{0,20}"),
    ) {
        if let Ok(schedule) = crate::schedule::CronSchedule::parse(&expr, zone.as_deref()) {
            let now = chrono::Utc::now();
            if let Some(next) = schedule.next_after(now) {
                prop_assert!(next > now, "{expr}: next fire {next} is not after {now}");
            }
        }
    }

    #[test]
    fn a_scim_filter_reads_back_what_it_prints(text in filter_text()) {
        // Generated filters are well formed, but may exceed the parser's
        // limits: those are refused, never a panic.
        if let Ok(filter) = Filter::parse(&text) {
            let printed = filter.to_string();
            let back = Filter::parse(&printed)
                .map_err(|e| TestCaseError::fail(format!("{printed:?} does not parse: {e}")))?;
            prop_assert_eq!(back, filter);
        }
    }

    #[test]
    fn any_scim_filter_or_path_text_is_read_or_refused(text in "\\PC{0,120}") {
        let _ = Filter::parse(&text);
        let _ = PatchPath::parse(&text);
    }

    #[test]
    fn canonical_json_ignores_formatting_and_key_order(value in json_value()) {
        let canonical = canonical_json(&value);
        let pretty = serde_json::to_string_pretty(&value).expect("a value prints");
        let reread: Value = serde_json::from_str(&pretty).expect("printed JSON reads back");
        prop_assert_eq!(&canonical_json(&reread), &canonical);
        prop_assert_eq!(&canonical_json(&reversed(&value)), &canonical);
        // And it is JSON that reads back to the same value.
        let back: Value = serde_json::from_str(&canonical)
            .map_err(|e| TestCaseError::fail(format!("{canonical:?} is not JSON: {e}")))?;
        prop_assert_eq!(back, value);
    }

    #[test]
    fn any_scim_body_and_patch_are_applied_or_refused(
        body in json_value(),
        patch in patch_body(),
        group in any::<bool>(),
    ) {
        let kind = if group { ResourceKind::Group } else { ResourceKind::User };
        let _ = normalize(kind, &body);
        let stored = match kind {
            ResourceKind::User => json!({
                "userName": "kim", "name": {"givenName": "Kim"}, "active": true,
                "emails": [{"type": "work", "value": "kim@example.com"}]
            }),
            ResourceKind::Group => json!({
                "displayName": "Ops", "members": [{"value": "u1"}, {"value": "u2"}]
            }),
        };
        let _ = apply_patch(kind, &stored, &patch);
    }
}
