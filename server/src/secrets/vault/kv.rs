//! Reading one KV version 2 entry and picking a reference's key out of it.
//!
//! One request: the read answer carries the version's metadata beside the
//! data, so the version recorded in the audit record costs nothing extra
//! (vaultrs' `kv2::read` drops it; its `ReadSecretResponse` keeps it).

use super::failure::{Failure, bounded};
use super::path::KvPath;
use gantry_core::secret::{FetchError, Fetched, SecretValue};
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;
use vaultrs::api::kv2::requests::ReadSecretRequest;
use vaultrs::client::VaultClient;

/// One entry's keys and values, and its version.
pub(super) struct Entry {
    data: Map<String, Value>,
    version: u64,
}

/// Prints the keys, never the values.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .field("version", &self.version)
            .finish()
    }
}

/// Reads the latest version of the entry at `path`.
pub(super) async fn read(
    client: &VaultClient,
    path: &KvPath,
    timeout: Duration,
) -> Result<Entry, Failure> {
    let endpoint = ReadSecretRequest::builder()
        .mount(path.mount.as_str())
        .path(path.secret.as_str())
        .build()
        .map_err(|e| Failure::Other(format!("cannot build the read request: {e}")))?;
    let response = bounded(timeout, async {
        vaultrs::api::exec_with_result(client, endpoint)
            .await
            .map_err(|e| Failure::from_client(e, timeout))
    })
    .await?;
    match response.data {
        Value::Object(data) => Ok(Entry {
            data,
            version: response.metadata.version,
        }),
        // A destroyed or deleted version answers without data.
        _ => Err(Failure::Status {
            code: 404,
            errors: vec!["the latest version is deleted".into()],
        }),
    }
}

/// The value under `key`, as text. `reference` names the reference in
/// every error; no error text includes a value, even a non-text one.
pub(super) fn pick(mut entry: Entry, key: &str, reference: &str) -> Result<Fetched, FetchError> {
    let version = entry.version;
    let value = match entry.data.remove(key) {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(FetchError::Unusable(format!(
                "{reference}: the value is {}, not text (store it as a string)",
                kind(&other)
            )));
        }
        None => {
            let mut keys: Vec<&String> = entry.data.keys().collect();
            keys.sort();
            return Err(FetchError::NotFound(format!(
                "{reference}: version {version} has no key {key:?} (its keys: {keys:?})"
            )));
        }
    };
    let value =
        SecretValue::new(value).map_err(|e| FetchError::Unusable(format!("{reference}: {e}")))?;
    Ok(Fetched {
        value,
        version: Some(version),
        lease: None,
        also: Vec::new(),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, pick};
    use gantry_core::secret::FetchError;
    use serde_json::json;

    fn entry(data: serde_json::Value) -> Entry {
        Entry {
            data: data.as_object().unwrap().clone(),
            version: 3,
        }
    }

    #[test]
    fn a_text_value_comes_back_with_its_version() {
        let fetched = pick(entry(json!({"password": "hunter22"})), "password", "r").unwrap();
        assert_eq!(fetched.value.expose(), "hunter22");
        assert_eq!(fetched.version, Some(3));
    }

    #[test]
    fn a_missing_key_is_not_found_and_lists_the_keys_only() {
        let err = pick(
            entry(json!({"user": "admin-7731"})),
            "password",
            "kv/db#password",
        )
        .unwrap_err();
        let FetchError::NotFound(text) = err else {
            panic!("{err:?}")
        };
        assert!(
            text.contains("kv/db#password") && text.contains("\"user\""),
            "{text}"
        );
        assert!(!text.contains("admin-7731"), "{text}");
    }

    #[test]
    fn values_that_are_not_text_are_unusable_without_showing_them() {
        for (value, word) in [
            (json!(8675309), "a number"),
            (json!(true), "a boolean"),
            (json!({"inner": "s3cr3t-inner"}), "an object"),
        ] {
            let err = pick(entry(json!({ "k": value })), "k", "kv/x#k").unwrap_err();
            let FetchError::Unusable(text) = err else {
                panic!("{err:?}")
            };
            assert!(text.contains(word) && text.contains("kv/x#k"), "{text}");
            assert!(
                !text.contains("8675309") && !text.contains("s3cr3t"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_value_too_short_to_mask_is_unusable() {
        let err = pick(entry(json!({"pin": "123"})), "pin", "kv/x#pin").unwrap_err();
        assert!(
            matches!(&err, FetchError::Unusable(t) if t.contains("at least 4")),
            "{err:?}"
        );
    }
}
