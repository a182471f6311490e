//! Run inputs taken from a delivery's payload by JSON pointers (RFC 6901).

use serde_json::Value;
use std::collections::BTreeMap;

/// The run's inputs: each input's pointer looked up in `payload`. A
/// pointer that finds nothing (or `null`) leaves its input out, so the
/// workflow's default applies, or its "required" refusal names the input.
pub fn map_inputs(mapping: &BTreeMap<String, String>, payload: &Value) -> BTreeMap<String, Value> {
    mapping
        .iter()
        .filter_map(|(input, pointer)| {
            payload
                .pointer(pointer)
                .filter(|v| !v.is_null())
                .map(|v| (input.clone(), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_pick_values_and_missing_ones_are_left_out() {
        let payload = json!({"ref": "refs/heads/main", "head_commit": {"id": "abc"},
                             "a/b": 1, "none": null});
        let mapping: BTreeMap<String, String> = [
            ("git_ref", "/ref"),
            ("sha", "/head_commit/id"),
            ("escaped", "/a~1b"),
            ("absent", "/nope"),
            ("nothing", "/none"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let inputs = map_inputs(&mapping, &payload);
        assert_eq!(inputs.len(), 3);
        assert_eq!(inputs["git_ref"], json!("refs/heads/main"));
        assert_eq!(inputs["sha"], json!("abc"));
        assert_eq!(inputs["escaped"], json!(1));
    }
}
