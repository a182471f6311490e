//! Dynamic credentials (`vault-db:` references): the database secrets
//! engine issues a fresh username and password per attempt under a lease,
//! which the worker renews while the attempt runs and Gantry revokes when
//! it ends (`sys/leases/renew`, `sys/leases/revoke`).

use gantry_core::secret::{FetchError, Fetched, SecretLease, SecretValue};
use serde_json::Value;
use std::time::Duration;

/// The creds endpoint a reference names, its mount replaced when the
/// environment's override says so. Segments are plain names: nothing that
/// could climb to another endpoint (`..`) or smuggle a query.
pub(super) fn api_path(path: &str, mount: Option<&str>) -> Result<String, String> {
    let mut segments: Vec<&str> = path.split('/').collect();
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    };
    if segments.len() < 3 || !segments.iter().all(|s| plain(s)) {
        return Err(format!(
            "vault-db:{path} must name a creds endpoint like database/creds/ROLE (plain names, no . or ..)"
        ));
    }
    if let Some(mount) = mount {
        segments[0] = mount;
    }
    Ok(segments.join("/"))
}

/// The credential in a creds answer: the password as the value, the
/// username as `NAME_USERNAME`, and the lease. Errors name the reference,
/// never a field's value.
pub(super) fn credential(body: &Value, reference: &str) -> Result<Fetched, FetchError> {
    let text = |field: &str| {
        body["data"][field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                FetchError::Unusable(format!(
                    "{reference}: the answer has no {field}; is this a database creds endpoint?"
                ))
            })
    };
    let usable = |value: String, what: &str| {
        SecretValue::new(value)
            .map_err(|e| FetchError::Unusable(format!("{reference}: {what}: {e}")))
    };
    let password = usable(text("password")?, "password")?;
    let username = usable(text("username")?, "username")?;
    let id = body["lease_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| FetchError::Unusable(format!("{reference}: the answer holds no lease")))?;
    Ok(Fetched {
        value: password,
        version: None,
        lease: Some(SecretLease {
            id: id.to_owned(),
            duration: Duration::from_secs(body["lease_duration"].as_u64().unwrap_or(0)),
            renewable: body["renewable"].as_bool().unwrap_or(false),
        }),
        also: vec![("USERNAME".to_owned(), username)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn creds_paths_are_plain_and_take_the_mount_override() {
        assert_eq!(
            api_path("database/creds/ro", None).unwrap(),
            "database/creds/ro"
        );
        assert_eq!(
            api_path("database/creds/ro", Some("db-prod")).unwrap(),
            "db-prod/creds/ro"
        );
        for bad in [
            "database/creds/../../sys/raw",
            "database//ro",
            "db/creds",
            "db/creds/r?x=1",
        ] {
            assert!(api_path(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_answer_becomes_password_username_and_lease() {
        let body = json!({
            "lease_id": "database/creds/ro/abc", "lease_duration": 60, "renewable": true,
            "data": {"username": "v-ro-xyz", "password": "p4ssw0rd-long"}
        });
        let f = credential(&body, "vault-db:database/creds/ro").unwrap();
        assert_eq!(f.value.expose(), "p4ssw0rd-long");
        assert_eq!(f.also[0].0, "USERNAME");
        assert_eq!(f.also[0].1.expose(), "v-ro-xyz");
        let lease = f.lease.unwrap();
        assert_eq!(
            (lease.id.as_str(), lease.duration.as_secs(), lease.renewable),
            ("database/creds/ro/abc", 60, true)
        );
        let e = credential(&json!({"data": {"password": "p4ssw0rd-long"}}), "r").unwrap_err();
        assert!(e.to_string().contains("no username"), "{e}");
        assert!(!e.to_string().contains("p4ssw0rd"), "{e}");
    }
}
