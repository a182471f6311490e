use super::*;
use crate::audit::{Actor, ActorKind, AuditAction, AuditEvent, GENESIS_HASH};
use chrono::{TimeZone, Utc};
use serde_json::json;

fn record(seq: u64, action: &str, environment: Option<&str>, details: Value) -> AuditRecord {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let mut event = AuditEvent::new(
        at,
        Actor {
            kind: ActorKind::User,
            id: "u1".into(),
            name: "alice".into(),
        },
        AuditAction::WorkflowApply,
        "token/ci",
    );
    event.action = action.into();
    event.environment = environment.map(Into::into);
    event.details = details;
    event.sequence(seq, GENESIS_HASH, &mut || [7; 16])
}

fn admins() -> BTreeSet<String> {
    ["gantry-admins".to_owned()].into()
}

fn kind_of(r: &AuditRecord) -> Option<EscalationKind> {
    escalation(r, &admins()).map(|e| e.kind)
}

#[test]
fn tokens_holding_admin_or_provisioning_groups_are_escalations() {
    let admin_prod = record(
        1,
        "token.create",
        None,
        json!({"kind": "service", "grants": ["operator@dev", "admin@prod"]}),
    );
    let found = escalation(&admin_prod, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::AdminToken);
    assert_eq!(found.environments, ["prod"]);
    assert_eq!(
        found.summary,
        "alice created token \"ci\" holding admin@prod"
    );
    assert!(found.concerns("prod") && !found.concerns("dev"));

    // The bootstrap token: grants only, admin everywhere.
    let bootstrap = record(
        2,
        "token.create",
        None,
        json!({"source": "generated", "grants": ["admin@*"]}),
    );
    let found = escalation(&bootstrap, &admins()).unwrap();
    assert!(found.environments.is_empty());
    assert!(found.concerns("dev") && found.concerns("prod"));

    let scim = record(
        3,
        "token.create",
        None,
        json!({"kind": "scim", "grants": []}),
    );
    assert_eq!(kind_of(&scim), Some(EscalationKind::ProvisioningToken));

    for harmless in [
        json!({"kind": "service", "grants": ["operator@*", "approver@prod"]}),
        json!({"kind": "worker", "grants": []}),
        json!({"kind": "metrics"}),
        json!({}),
    ] {
        assert_eq!(
            kind_of(&record(4, "token.create", None, harmless.clone())),
            None,
            "{harmless}"
        );
    }
}

#[test]
fn only_groups_the_role_mapping_makes_admin_count() {
    let admins_changed = record(
        5,
        "scim.group.update",
        None,
        json!({"displayName": "gantry-admins", "members": 4}),
    );
    let found = escalation(&admins_changed, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::AdminGroupChanged);
    assert!(
        found.summary.contains("\"gantry-admins\""),
        "{}",
        found.summary
    );
    let created = record(
        6,
        "scim.group.create",
        None,
        json!({"displayName": "gantry-admins"}),
    );
    assert_eq!(kind_of(&created), Some(EscalationKind::AdminGroupChanged));
    let other = record(
        7,
        "scim.group.update",
        None,
        json!({"displayName": "readers"}),
    );
    assert_eq!(kind_of(&other), None);
    let deleted = record(8, "scim.group.delete", None, json!({}));
    assert_eq!(kind_of(&deleted), None, "removing a group widens nothing");
}

#[test]
fn policy_changes_and_freeze_breaks_are_escalations_in_their_environment() {
    let policy = record(
        9,
        "environment.policy_update",
        Some("prod"),
        json!({"required_approvals": 0}),
    );
    let found = escalation(&policy, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::EnvironmentPolicy);
    assert_eq!(found.environments, ["prod"]);
    assert_eq!(found.summary, "alice changed the promotion policy of prod");
    let freeze = record(
        10,
        FREEZE_BREAK_ACTION,
        Some("prod"),
        json!({"reason": "hotfix"}),
    );
    let found = escalation(&freeze, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::FreezeBreak);
    assert_eq!(found.summary, "alice broke the freeze of prod: \"hotfix\"");
}

#[test]
fn break_glass_passkeys_and_their_sign_ins_are_escalations_everywhere() {
    let registered = record(
        13,
        PASSKEY_REGISTER_ACTION,
        None,
        json!({"name": "YubiKey in the safe"}),
    );
    let found = escalation(&registered, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::BreakGlassPasskey);
    assert!(found.environments.is_empty());
    assert_eq!(
        found.summary,
        "alice registered break-glass passkey \"YubiKey in the safe\""
    );
    let used = record(14, BREAK_GLASS_ACTION, None, json!({"break_glass": true}));
    let found = escalation(&used, &admins()).unwrap();
    assert_eq!(found.kind, EscalationKind::BreakGlass);
    assert!(found.concerns("prod") && found.concerns("dev"));
    let mut refused = record(15, BREAK_GLASS_ACTION, None, json!({}));
    refused.outcome = Outcome::Failed;
    assert_eq!(kind_of(&refused), None, "a refused sign-in opened nothing");
    assert_eq!(
        kind_of(&record(16, "passkey.revoke", None, json!({}))),
        None
    );
}

#[test]
fn refused_and_unrelated_records_are_not_escalations() {
    let mut denied = record(11, "token.create", None, json!({"grants": ["admin@*"]}));
    denied.outcome = Outcome::Denied;
    assert_eq!(kind_of(&denied), None);
    for action in [
        "workflow.apply",
        "run.trigger",
        "session.sign_in",
        "user.enable",
    ] {
        assert_eq!(
            kind_of(&record(
                12,
                action,
                Some("prod"),
                json!({"grants": ["admin@*"]})
            )),
            None,
            "{action}"
        );
    }
}

#[test]
fn the_recorded_actions_are_the_ones_gantry_writes() {
    for action in ESCALATION_ACTIONS {
        assert!(
            action == FREEZE_BREAK_ACTION || crate::audit::AuditAction::parse(action).is_some(),
            "{action}"
        );
    }
}

#[test]
fn each_record_fires_on_its_own_and_resolves_when_passed() {
    let facts = PrivilegeFacts {
        records: vec![
            record(20, "token.create", None, json!({"grants": ["admin@*"]})),
            record(21, "run.trigger", None, json!({})),
            record(22, "environment.policy_update", Some("prod"), json!({})),
        ],
        admin_groups: admins(),
    };
    let found = judge(None, &facts, &[]);
    let keys: Vec<(&str, &str, Observation)> = found
        .iter()
        .map(|f| (f.key.environment.as_str(), f.key.subject.as_str(), f.seen))
        .collect();
    assert_eq!(
        keys,
        [
            ("", "audit:20", Observation::Breach),
            ("prod", "audit:22", Observation::Breach),
        ]
    );
    // The next pass sees no new record: both are clear, and resolve.
    let open: Vec<InstanceKey> = found.iter().map(|f| f.key.clone()).collect();
    let next = judge(None, &PrivilegeFacts::default(), &open);
    assert!(
        next.iter().all(|f| f.seen == Observation::Clear),
        "{next:?}"
    );
    assert_eq!(next.len(), 2);
}

#[test]
fn a_rule_scoped_to_an_environment_sees_what_reaches_it() {
    let facts = PrivilegeFacts {
        records: vec![
            record(30, "environment.policy_update", Some("dev"), json!({})),
            record(31, "environment.policy_update", Some("prod"), json!({})),
            record(32, "token.create", None, json!({"grants": ["admin@*"]})),
            record(33, "token.create", None, json!({"grants": ["admin@dev"]})),
        ],
        admin_groups: admins(),
    };
    let mut subjects: Vec<String> = judge(Some("prod"), &facts, &[])
        .into_iter()
        .map(|f| f.key.subject)
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["audit:31", "audit:32"]);
}
