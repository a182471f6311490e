//! The erasable format end to end in the pure half: records with personal
//! fields sealed, erased, tampered with and converted from format 1, each
//! through the verifier.

use super::personal::{self, ERASE_ACTION, FORMAT_ERASABLE, FORMAT_PLAIN};
use super::{
    Actor, ActorKind, AuditAction, AuditEvent, AuditRecord, BreakKind, ChainLink, ChainVerifier,
    GENESIS_HASH, verify_all,
};
use chrono::{TimeZone, Utc};
use serde_json::json;

fn alice() -> Actor {
    Actor {
        kind: ActorKind::User,
        id: "u-alice".into(),
        name: "Alice Liddell".into(),
    }
}

fn admin() -> Actor {
    Actor {
        kind: ActorKind::User,
        id: "u-admin".into(),
        name: "Ada Admin".into(),
    }
}

fn salts() -> impl FnMut() -> [u8; 16] {
    let mut n = 0u8;
    move || {
        n = n.wrapping_add(1);
        [n; 16]
    }
}

fn event(seq: u64, actor: Actor, action: AuditAction, resource: &str) -> AuditEvent {
    let at =
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(seq as i64);
    let mut e = AuditEvent::new(at, actor, action, resource);
    e.source_ip = Some("10.1.2.3".into());
    e.user_agent = Some("Firefox".into());
    e
}

/// alice approves with a comment; the admin disables her; then erases her.
fn history(erase: bool) -> Vec<AuditRecord> {
    let mut salt = salts();
    let events = [
        event(1, alice(), AuditAction::ApprovalApprove, "approval/1")
            .detail("comment", "looks fine to me"),
        event(2, admin(), AuditAction::UserDisable, "user/u-alice").detail("username", "alice"),
        event(3, admin(), AuditAction::UserErase, "user/u-alice"),
    ];
    let n = if erase { 3 } else { 2 };
    let mut prev = GENESIS_HASH.to_owned();
    events
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, e)| {
            let r = e.sequence(i as u64 + 1, &prev, &mut salt);
            prev = r.hash.clone();
            r
        })
        .collect()
}

/// What the store does: deletes the subject's kept values; the record reads
/// as erased.
fn erase(records: &mut [AuditRecord], subject: &str) {
    for r in records.iter_mut() {
        let fields: Vec<String> = r
            .personal
            .iter()
            .filter(|(_, p)| p.subject == subject)
            .map(|(f, _)| f.clone())
            .collect();
        for f in fields {
            personal::show_erased(r, &f);
            if let Some(p) = r.personal.get_mut(&f) {
                p.salt = None;
            }
        }
    }
}

fn head(records: &[AuditRecord]) -> Option<ChainLink> {
    records.last().map(|r| ChainLink {
        seq: r.seq,
        hash: r.hash.clone(),
    })
}

#[test]
fn a_persons_fields_are_sealed_apart_and_verify() {
    let c = history(false);
    assert_eq!(c[0].format, FORMAT_ERASABLE);
    let fields: Vec<&str> = c[0].personal.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        ["actor.name", "details.comment", "source_ip", "user_agent"]
    );
    assert!(c[0].personal.values().all(|p| p.subject == "u-alice"));
    // The admin's name is theirs; the username in a record about alice is hers.
    assert_eq!(c[1].personal["actor.name"].subject, "u-admin");
    assert_eq!(c[1].personal["details.username"].subject, "u-alice");
    // The hash does not cover the values themselves.
    let hashed = c[0].hashed_fields().to_string();
    for value in ["Alice Liddell", "looks fine", "10.1.2.3", "Firefox"] {
        assert!(!hashed.contains(value), "{value} is hashed directly");
    }
    let h = head(&c);
    assert_eq!(
        verify_all(ChainLink::genesis(), h, c)
            .unwrap()
            .erased_fields,
        0
    );
}

#[test]
fn an_erased_person_leaves_a_chain_that_verifies() {
    let mut c = history(true);
    erase(&mut c, "u-alice");
    assert_eq!(c[0].actor.name, personal::ERASED);
    assert_eq!(c[0].details["comment"], personal::ERASED);
    assert_eq!(c[0].source_ip, None);
    assert_eq!(c[1].details["username"], personal::ERASED);
    // The admin's own fields stay.
    assert_eq!(c[1].actor.name, "Ada Admin");
    let h = head(&c);
    let report = verify_all(ChainLink::genesis(), h, c).unwrap();
    assert_eq!(report.erased_fields, 5);
}

#[test]
fn fields_removed_without_an_erasure_on_record_are_a_break() {
    let mut c = history(false);
    erase(&mut c, "u-alice");
    let h = head(&c);
    let b = verify_all(ChainLink::genesis(), h.clone(), c.clone()).unwrap_err();
    assert_eq!((b.seq, b.kind), (1, BreakKind::Deleted));
    assert!(b.detail.contains("u-alice"), "{}", b.detail);
    // A stretch exported on its own may end before the erasure.
    let mut v = ChainVerifier::new(ChainLink::genesis(), h).erasures_elsewhere();
    for r in c {
        v.push(r).unwrap();
    }
    assert_eq!(v.finish().unwrap().erased_fields, 5);
}

#[test]
fn an_erasure_that_failed_erases_nothing() {
    let mut c = history(true);
    c[2].outcome = super::Outcome::Failed;
    c[2].hash = c[2].computed_hash();
    erase(&mut c, "u-alice");
    let h = head(&c);
    assert!(verify_all(ChainLink::genesis(), h, c).is_err());
}

#[test]
fn a_personal_value_changed_in_place_is_an_edit() {
    for field in ["actor.name", "details.comment", "source_ip", "user_agent"] {
        let mut c = history(false);
        match field {
            "actor.name" => c[0].actor.name = "Mallory".into(),
            "details.comment" => c[0].details["comment"] = json!("rejected"),
            "source_ip" => c[0].source_ip = Some("10.9.9.9".into()),
            _ => c[0].user_agent = None,
        }
        let h = head(&c);
        let b = verify_all(ChainLink::genesis(), h, c).unwrap_err();
        assert_eq!((b.seq, b.kind), (1, BreakKind::Edited), "{field}");
        assert!(b.detail.contains(field), "{field}: {}", b.detail);
    }
}

#[test]
fn digests_subjects_and_public_fields_stay_hashed() {
    let base = history(false);
    let edits: [fn(&mut AuditRecord); 4] = [
        |r| r.personal.get_mut("source_ip").unwrap().digest = "0".repeat(64),
        |r| r.personal.get_mut("source_ip").unwrap().subject = "u-other".into(),
        |r| {
            r.personal.remove("user_agent");
        },
        |r| r.resource = "approval/2".into(),
    ];
    for edit in edits {
        let mut c = base.clone();
        edit(&mut c[0]);
        let h = head(&c);
        let b = verify_all(ChainLink::genesis(), h, c).unwrap_err();
        assert_eq!(b.seq, 1);
    }
}

#[test]
fn a_salt_swapped_between_fields_does_not_verify() {
    let mut c = history(false);
    let ip = c[0].personal["source_ip"].salt.clone();
    let ua = c[0].personal["user_agent"].salt.clone();
    c[0].personal.get_mut("source_ip").unwrap().salt = ua;
    c[0].personal.get_mut("user_agent").unwrap().salt = ip;
    let h = head(&c);
    assert_eq!(
        verify_all(ChainLink::genesis(), h, c).unwrap_err().kind,
        BreakKind::Edited
    );
}

/// Records as an older version wrote them: every field hashed as written.
fn plain_history() -> Vec<AuditRecord> {
    let mut prev = GENESIS_HASH.to_owned();
    history(false)
        .into_iter()
        .map(|mut r| {
            r.format = FORMAT_PLAIN;
            r.personal.clear();
            r.prev_hash = prev.clone();
            r.hash = r.computed_hash();
            prev = r.hash.clone();
            r
        })
        .collect()
}

#[test]
fn converted_records_verify_erase_and_still_match_old_checkpoints() {
    let old = plain_history();
    let signed = (2, old[1].hash.clone());
    let h = head(&old);
    verify_all(ChainLink::genesis(), h, old.clone()).unwrap();
    let mut salt = salts();
    let mut prev = GENESIS_HASH.to_owned();
    let mut converted: Vec<AuditRecord> = old
        .iter()
        .cloned()
        .map(|r| {
            let c = personal::convert(r, &prev, &mut salt);
            prev = c.hash.clone();
            c
        })
        .collect();
    assert!(converted.iter().all(|r| r.format == FORMAT_ERASABLE));
    assert_eq!(
        converted[1].legacy_hash.as_deref(),
        Some(old[1].hash.as_str())
    );
    assert_eq!(converted[0].personal["actor.name"].subject, "u-alice");
    let verifier = |records: Vec<AuditRecord>| {
        let h = head(&records);
        let mut v = ChainVerifier::new(ChainLink::genesis(), h).with_checkpoints([signed.clone()]);
        for r in records {
            v.push(r)?;
        }
        v.finish()
    };
    assert_eq!(verifier(converted.clone()).unwrap().checkpoints, 1);
    // The erasure appended after the conversion covers the old records too.
    let e = event(3, admin(), AuditAction::UserErase, "user/u-alice").sequence(3, &prev, &mut salt);
    assert_eq!(personal::erasure_of(&e), Some("u-alice"));
    assert_eq!(e.action, ERASE_ACTION);
    converted.push(e);
    erase(&mut converted, "u-alice");
    assert_eq!(verifier(converted.clone()).unwrap().erased_fields, 5);
    // Editing a converted record's public field is still caught.
    converted[0].resource = "approval/9".into();
    assert_eq!(verifier(converted).unwrap_err().seq, 1);
}

#[test]
fn a_record_of_an_unknown_format_or_field_does_not_verify() {
    let mut c = history(false);
    c[0].format = 9;
    c[0].hash = c[0].computed_hash();
    let mut prev = c[0].hash.clone();
    for r in c.iter_mut().skip(1) {
        r.prev_hash = prev;
        r.hash = r.computed_hash();
        prev = r.hash.clone();
    }
    let h = head(&c);
    let b = verify_all(ChainLink::genesis(), h, c).unwrap_err();
    assert!(b.detail.contains("format 9"), "{}", b.detail);
}
