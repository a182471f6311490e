//! A canonical JSON encoding: object keys sorted by their UTF-8 bytes, no
//! insignificant whitespace, serde_json's own escaping and number format.
//! Sorting is done here rather than trusted to `serde_json::Map`, whose
//! order depends on a crate feature any dependency may switch on.

use serde_json::Value;

pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                scalar(&Value::String(key.clone()), out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        other => scalar(other, out),
    }
}

fn scalar(value: &Value, out: &mut String) {
    // Serializing a scalar Value cannot fail.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": {"z": [3, {"y": null, "x": true}], "c": "é\n"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"é\n","z":[3,{"x":true,"y":null}]},"b":1}"#
        );
    }

    #[test]
    fn the_same_document_parsed_from_different_texts_encodes_identically() {
        let a: Value = serde_json::from_str(r#"{ "k": 1, "j": [1, 2] }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"j":[1,2],"k":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }
}
