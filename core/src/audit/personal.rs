//! Personal data in audit records, kept erasable without breaking the chain.
//!
//! A record of format 2 does not hash a person's name, address or words
//! directly: each such field is replaced in the hashed form by
//! `{subject, digest}`, where `digest = SHA-256(domain ‖ field ‖ salt ‖
//! canonical value)` with 16 random bytes of salt per field. The salt and the
//! value are stored apart (the server's `audit_personal` table) and can be
//! deleted when the person is erased: the record still hashes to what the
//! next one links to, and while the salt is there any change to the value
//! shows as a digest mismatch. The salt keeps a digest of a short value (an
//! address, a name) from being reversed by trying every candidate.
//!
//! Which fields are personal is decided here, by rule, from the record
//! itself, so new records and the conversion of records written before
//! format 2 agree: [`classify`].

use super::{ActorKind, AuditRecord, Outcome, canonical_json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Every field hashed as written (records made before erasure existed).
pub const FORMAT_PLAIN: u8 = 1;
/// Personal fields hashed as salted digests ([`PersonalField`]).
pub const FORMAT_ERASABLE: u8 = 2;

/// What an erased text field reads as.
pub const ERASED: &str = "[erased]";

/// The action of an erasure's own record (resource `user/<id>`): the
/// verifier accepts an erased field only when such a record names its
/// subject.
pub const ERASE_ACTION: &str = "user.erase";

/// Detail keys holding what is a signed-in person's own: words they wrote,
/// the groups they signed in with, their display preferences.
const WRITTEN_BY_ACTOR: [&str; 6] = ["comment", "note", "reason", "why", "groups", "preferences"];
/// Detail keys holding the username of the account a record's resource
/// (`user/<id>`) names.
const USERNAME_OF_RESOURCE: [&str; 2] = ["username", "userName"];
/// Detail keys holding a person's name beside the key holding their id.
const NAME_BESIDE_ID: [(&str, &str); 2] =
    [("requested_by", "requested_by_id"), ("to", "to_person")];
/// Detail keys holding a person as `{"id": …, "name": …}`.
const PERSON_OBJECT: [&str; 1] = ["on_behalf_of"];

/// One personal field of a record, as the record's hash commits to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalField {
    /// The user id the value is about (what an erasure names).
    pub subject: String,
    /// Hex SHA-256 of the domain, the field's name, the salt and the value.
    pub digest: String,
    /// Hex of the 16 random bytes hashed with the value; absent once erased
    /// (and the value with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

impl PersonalField {
    pub fn erased(&self) -> bool {
        self.salt.is_none()
    }
}

/// The personal fields of one record, by field name (`actor.name`,
/// `source_ip`, `user_agent`, `details.<key>`).
pub type PersonalFields = BTreeMap<String, PersonalField>;

/// The parts of a record [`classify`] looks at.
pub struct Classified<'a> {
    pub actor_is_user: bool,
    pub actor_id: &'a str,
    pub resource: &'a str,
    pub has_source_ip: bool,
    pub has_user_agent: bool,
    pub details: &'a Value,
}

/// Which fields of a record are personal, and whose: field name → subject.
/// A signed-in person's name, address and browser are theirs, as are the
/// words they wrote (`comment`, `reason`, …); a username in the details of
/// a record about `user/<id>` belongs to that account; a name beside its id
/// (`requested_by` next to `requested_by_id`) to that id. Anything else
/// (ids, workflow names, service tokens' and systems' names) is not
/// personal: an id is the stable pseudonym the log keeps.
pub fn classify(r: &Classified<'_>) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let details = r.details.as_object();
    let has = |key: &str| details.is_some_and(|d| d.contains_key(key));
    if r.actor_is_user && !r.actor_id.is_empty() {
        let mut mine = vec!["actor.name".to_owned()];
        if r.has_source_ip {
            mine.push("source_ip".into());
        }
        if r.has_user_agent {
            mine.push("user_agent".into());
        }
        mine.extend(
            WRITTEN_BY_ACTOR
                .iter()
                .filter(|k| has(k))
                .map(|k| format!("details.{k}")),
        );
        for field in mine {
            fields.insert(field, r.actor_id.to_owned());
        }
    }
    if let Some(account) = r.resource.strip_prefix("user/").filter(|a| !a.is_empty()) {
        for key in USERNAME_OF_RESOURCE.iter().filter(|k| has(k)) {
            fields.insert(format!("details.{key}"), account.to_owned());
        }
    }
    for (name, id) in NAME_BESIDE_ID {
        let subject = details
            .and_then(|d| d.get(id))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if let Some(subject) = subject
            && has(name)
        {
            fields.insert(format!("details.{name}"), subject.to_owned());
        }
    }
    for key in PERSON_OBJECT {
        let subject = details
            .and_then(|d| d.get(key))
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if let Some(subject) = subject {
            fields.insert(format!("details.{key}"), subject.to_owned());
        }
    }
    fields
}

/// Which fields of `record` are personal, by [`classify`].
pub fn classify_record(record: &AuditRecord) -> BTreeMap<String, String> {
    classify(&Classified {
        actor_is_user: record.actor.kind == ActorKind::User,
        actor_id: &record.actor.id,
        resource: &record.resource,
        has_source_ip: record.source_ip.is_some(),
        has_user_agent: record.user_agent.is_some(),
        details: &record.details,
    })
}

/// The value a personal field holds in `record` as shown (`None` when the
/// record has no such field).
pub fn value_of(record: &AuditRecord, field: &str) -> Option<Value> {
    match field {
        "actor.name" => Some(Value::String(record.actor.name.clone())),
        "source_ip" => record.source_ip.clone().map(Value::String),
        "user_agent" => record.user_agent.clone().map(Value::String),
        _ => field
            .strip_prefix("details.")
            .and_then(|key| record.details.get(key))
            .cloned(),
    }
}

/// Puts `value` back into `field` of a record read from storage.
pub fn restore(record: &mut AuditRecord, field: &str, value: Value) {
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => canonical_json(&other),
    };
    match field {
        "actor.name" => record.actor.name = text(value),
        "source_ip" => record.source_ip = Some(text(value)),
        "user_agent" => record.user_agent = Some(text(value)),
        _ => {
            if let (Some(key), Some(details)) = (
                field.strip_prefix("details."),
                record.details.as_object_mut(),
            ) {
                details.insert(key.to_owned(), value);
            }
        }
    }
}

/// Shows `field` of a record read from storage as erased: text reads
/// [`ERASED`], an address or browser as absent.
pub fn show_erased(record: &mut AuditRecord, field: &str) {
    match field {
        "source_ip" => record.source_ip = None,
        "user_agent" => record.user_agent = None,
        _ => restore(record, field, Value::String(ERASED.into())),
    }
}

/// Seals the personal fields of a fresh record (format 2): each gets a
/// subject, a salt from `salt` and the digest of its value.
pub fn seal(record: &mut AuditRecord, salt: &mut dyn FnMut() -> [u8; 16]) {
    record.format = FORMAT_ERASABLE;
    record.personal = classify_record(record)
        .into_iter()
        .filter_map(|(field, subject)| {
            let value = value_of(record, &field)?;
            let salt = hex::encode(salt());
            let digest = digest(&field, &salt, &value);
            Some((
                field,
                PersonalField {
                    subject,
                    digest,
                    salt: Some(salt),
                },
            ))
        })
        .collect();
}

/// Converts a record of format 1 to format 2 behind `prev_hash` (the
/// converted record before it): its personal fields sealed, its old hash
/// kept for the checkpoints that name it, its new hash computed.
pub fn convert(
    mut record: AuditRecord,
    prev_hash: &str,
    salt: &mut dyn FnMut() -> [u8; 16],
) -> AuditRecord {
    if record.format != FORMAT_PLAIN {
        return record;
    }
    record.legacy_hash = Some(std::mem::take(&mut record.hash));
    record.prev_hash = prev_hash.to_owned();
    seal(&mut record, salt);
    record.hash = record.computed_hash();
    record
}

/// A format-2 record as its own row stores it: its personal fields
/// emptied (a name reads "", an address or browser is absent, a detail is
/// left out), their values being [`sealed_values`]'s to keep.
pub fn without_values(record: &AuditRecord) -> AuditRecord {
    let mut public = record.clone();
    for field in record.personal.keys() {
        match field.as_str() {
            "actor.name" => public.actor.name.clear(),
            "source_ip" => public.source_ip = None,
            "user_agent" => public.user_agent = None,
            other => {
                if let (Some(key), Some(details)) = (
                    other.strip_prefix("details."),
                    public.details.as_object_mut(),
                ) {
                    details.remove(key);
                }
            }
        }
    }
    public
}

/// One personal value as the erasable table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub seq: u64,
    pub field: String,
    pub subject: String,
    pub salt: String,
    /// Canonical JSON.
    pub value: String,
}

/// The personal values of a format-2 record that are not erased.
pub fn sealed_values(record: &AuditRecord) -> Vec<SealedValue> {
    record
        .personal
        .iter()
        .filter_map(|(field, p)| {
            Some(SealedValue {
                seq: record.seq,
                field: field.clone(),
                subject: p.subject.clone(),
                salt: p.salt.clone()?,
                value: canonical_json(&value_of(record, field)?),
            })
        })
        .collect()
}

/// Fills a record read from its row with the values kept apart (`kept`:
/// field → (salt, canonical JSON value)); a field with none kept is erased.
pub fn reunite(record: &mut AuditRecord, mut kept: BTreeMap<String, (String, String)>) {
    let fields: Vec<String> = record.personal.keys().cloned().collect();
    for field in fields {
        match kept.remove(&field) {
            Some((salt, value)) => {
                let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
                restore(record, &field, value);
                if let Some(p) = record.personal.get_mut(&field) {
                    p.salt = Some(salt);
                }
            }
            None => {
                show_erased(record, &field);
                if let Some(p) = record.personal.get_mut(&field) {
                    p.salt = None;
                }
            }
        }
    }
}

/// What a format-2 record's hash commits to for its personal fields, and
/// what its row stores: `{field: {subject, digest}}`, never a salt or value.
pub fn commitments(record: &AuditRecord) -> Value {
    record
        .personal
        .iter()
        .map(|(field, p)| {
            (
                field.clone(),
                serde_json::json!({"subject": p.subject, "digest": p.digest}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The hashed form of a format-2 record: personal fields blanked (their
/// values are not hashed), their subjects and digests committed instead.
pub(super) fn commit(record: &AuditRecord, fields: &mut Value) {
    for field in record.personal.keys() {
        match field.as_str() {
            "actor.name" => fields["actor"]["name"] = Value::Null,
            "source_ip" | "user_agent" => fields[field.as_str()] = Value::Null,
            other => {
                if let (Some(key), Some(details)) = (
                    other.strip_prefix("details."),
                    fields["details"].as_object_mut(),
                ) {
                    details.remove(key);
                }
            }
        }
    }
    fields["format"] = Value::from(record.format);
    fields["personal"] = commitments(record);
    if let Some(legacy) = &record.legacy_hash {
        fields["legacy_hash"] = Value::String(legacy.clone());
    }
}

/// Checks a record's personal fields against the digests its hash commits
/// to. `Ok` lists the fields found erased, with their subjects; `Err` says
/// which field no longer matches.
pub fn check(record: &AuditRecord) -> Result<Vec<(&str, &str)>, String> {
    if record.format == FORMAT_PLAIN {
        return Ok(Vec::new());
    }
    if record.format != FORMAT_ERASABLE {
        return Err(format!(
            "format {} is not one this version knows",
            record.format
        ));
    }
    let mut erased = Vec::new();
    for (field, p) in &record.personal {
        let known = matches!(field.as_str(), "actor.name" | "source_ip" | "user_agent")
            || field.starts_with("details.");
        if !known {
            return Err(format!("{field:?} is not a field that can be personal"));
        }
        match &p.salt {
            None => erased.push((field.as_str(), p.subject.as_str())),
            Some(salt) => {
                let value = value_of(record, field).unwrap_or(Value::Null);
                if digest(field, salt, &value) != p.digest {
                    return Err(format!(
                        "its {field} no longer matches the digest it was sealed with"
                    ));
                }
            }
        }
    }
    Ok(erased)
}

/// The user an erasure record erased: `Some(id)` for a succeeded
/// [`ERASE_ACTION`] on `user/<id>`.
pub fn erasure_of(record: &AuditRecord) -> Option<&str> {
    (record.action == ERASE_ACTION && record.outcome == Outcome::Succeeded)
        .then(|| record.resource.strip_prefix("user/"))
        .flatten()
}

/// The digest a record commits to for `value` in `field` under `salt_hex`.
/// A salt that is not hex is hashed as its text (a tampered row still
/// yields a mismatch rather than an error).
pub fn digest(field: &str, salt_hex: &str, value: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"gantry-audit-personal/v1\n");
    h.update(field.as_bytes());
    h.update(b"\n");
    match hex::decode(salt_hex) {
        Ok(bytes) => h.update(&bytes),
        Err(_) => h.update(salt_hex.as_bytes()),
    }
    h.update(canonical_json(value).as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classified<'a>(
        actor_is_user: bool,
        resource: &'a str,
        details: &'a Value,
    ) -> Classified<'a> {
        Classified {
            actor_is_user,
            actor_id: "u-1",
            resource,
            has_source_ip: true,
            has_user_agent: false,
            details,
        }
    }

    #[test]
    fn a_signed_in_persons_name_address_and_words_are_theirs() {
        let d = json!({"comment": "ship it", "version": 3});
        let f = classify(&classified(true, "workflow/a", &d));
        assert_eq!(
            f.into_iter().collect::<Vec<_>>(),
            [
                ("actor.name".to_owned(), "u-1".to_owned()),
                ("details.comment".into(), "u-1".into()),
                ("source_ip".into(), "u-1".into()),
            ]
        );
    }

    #[test]
    fn a_token_or_the_system_acting_is_not_a_person() {
        let d = json!({"reason": "schedule slot missed"});
        assert!(classify(&classified(false, "workflow/a", &d)).is_empty());
    }

    #[test]
    fn a_username_belongs_to_the_account_the_record_is_about() {
        let d = json!({"username": "bob", "userName": "bob"});
        let f = classify(&classified(false, "user/u-2", &d));
        assert_eq!(f["details.username"], "u-2");
        assert_eq!(f["details.userName"], "u-2");
        let f = classify(&classified(false, "workflow/user", &d));
        assert!(f.is_empty());
    }

    #[test]
    fn a_name_beside_its_id_belongs_to_that_id() {
        let d = json!({"requested_by": "Bob", "requested_by_id": "u-2"});
        let f = classify(&classified(true, "approval/1", &d));
        assert_eq!(f["details.requested_by"], "u-2");
        assert_eq!(f["actor.name"], "u-1");
    }

    #[test]
    fn a_delegator_and_a_delegate_are_their_own() {
        let d =
            json!({"on_behalf_of": {"id": "u-3", "name": "Dee"}, "to": "eve", "to_person": "u-4"});
        let f = classify(&classified(true, "approval/1", &d));
        assert_eq!(f["details.on_behalf_of"], "u-3");
        assert_eq!(f["details.to"], "u-4");
        let f = classify(&classified(
            true,
            "approval/1",
            &json!({"on_behalf_of": "u-3"}),
        ));
        assert!(!f.contains_key("details.on_behalf_of"));
    }

    #[test]
    fn the_digest_binds_field_salt_and_value() {
        let v = json!("10.0.0.1");
        let d = digest("source_ip", "00112233445566778899aabbccddeeff", &v);
        assert_eq!(d.len(), 64);
        assert_ne!(
            d,
            digest("user_agent", "00112233445566778899aabbccddeeff", &v)
        );
        assert_ne!(
            d,
            digest("source_ip", "ff112233445566778899aabbccddeeff", &v)
        );
        assert_ne!(
            d,
            digest(
                "source_ip",
                "00112233445566778899aabbccddeeff",
                &json!("10.0.0.2")
            )
        );
        assert_ne!(d, digest("source_ip", "not hex", &v));
    }
}
