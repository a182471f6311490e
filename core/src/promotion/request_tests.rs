use super::*;
use crate::promotion::duration::PolicyDuration;
use chrono::Duration;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id.into(),
    }
}

fn request(version: u32) -> PromotionRequest {
    PromotionRequest {
        id: "p-1".into(),
        workflow: "deploy".into(),
        version,
        content_hash: "c".repeat(64),
        from_environment: "stage".into(),
        to_environment: "prod".into(),
        replaces: Some(version - 1),
        requested_by: person("olga"),
        reason: "ship the fix".into(),
        created_at: now(),
        expires_at: expiry_from(now(), PolicyDuration::from_days(7)),
        state: PromotionState::Pending,
        approvals: vec![],
        ticks: vec![],
        decided_by: None,
        decided_at: None,
        comment: None,
    }
}

#[test]
fn transitions_exhaustively() {
    for from in PromotionState::ALL {
        for event in PromotionEvent::ALL {
            let got = transition(from, event);
            if from == PromotionState::Pending {
                let to = got.unwrap();
                assert!(to.is_final(), "{event:?} -> {to:?}");
                assert_eq!(to.as_str(), event.verb());
            } else {
                let err = got.unwrap_err();
                assert_eq!(err, TransitionError { from, event });
                assert_eq!(PortError::from(err).http_status(), 409);
            }
        }
    }
    let err = transition(PromotionState::Promoted, PromotionEvent::Cancel).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this request is promoted; only a pending request can be cancelled"
    );
}

#[test]
fn states_round_trip_through_their_names() {
    for s in PromotionState::ALL {
        assert_eq!(PromotionState::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(PromotionState::parse("approved"), None);
    assert!(!PromotionState::Pending.is_final());
}

#[test]
fn pending_requests_expire_after_the_policys_ttl() {
    let r = request(7);
    assert_eq!(r.expires_at, now() + Duration::days(7));
    assert_eq!(r.state_at(now()), PromotionState::Pending);
    assert_eq!(
        r.state_at(r.expires_at - Duration::seconds(1)),
        PromotionState::Pending
    );
    assert_eq!(r.state_at(r.expires_at), PromotionState::Expired);
    // A decided request keeps its state forever.
    let done = PromotionRequest {
        state: PromotionState::Promoted,
        ..request(7)
    };
    assert_eq!(
        done.state_at(done.expires_at + Duration::days(1)),
        PromotionState::Promoted
    );
    // An absurd ttl saturates instead of panicking.
    assert_eq!(
        expiry_from(now(), PolicyDuration::from_secs(u64::MAX)),
        DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn a_newer_version_supersedes_the_pending_request() {
    let pending = request(7);
    assert_eq!(on_new_request(None, 3), Ok(NewRequest::File));
    assert_eq!(
        on_new_request(Some(&pending), 8),
        Ok(NewRequest::Supersede { id: "p-1".into() })
    );
    let same = on_new_request(Some(&pending), 7).unwrap_err();
    assert_eq!(same.http_status(), 409);
    assert!(
        same.to_string()
            .contains("already waiting to be promoted to prod (request p-1)"),
        "{same}"
    );
    let older = on_new_request(Some(&pending), 6).unwrap_err();
    assert_eq!(older.http_status(), 409);
    assert!(
        older
            .to_string()
            .contains("cancel it first to promote the older version 6"),
        "{older}"
    );
}

#[test]
fn a_delegates_approval_is_held_by_the_delegator() {
    let basis = ReviewBasis {
        content_hash: "c".into(),
        diff_digest: "d".into(),
    };
    let own = PromotionApproval {
        by: person("avery"),
        on_behalf_of: None,
        at: now(),
        comment: None,
        reviewed: basis.clone(),
    };
    assert_eq!(own.right_holder().id, "avery");
    let delegated = PromotionApproval {
        by: person("dana"),
        on_behalf_of: Some(person("avery")),
        ..own
    };
    assert_eq!(delegated.right_holder().id, "avery");
    let json = serde_json::to_value(&delegated).unwrap();
    assert_eq!(json["on_behalf_of"]["id"], "avery");
    assert_eq!(json["reviewed"]["diff_digest"], "d");
}

#[test]
fn reasons_are_required_and_clean() {
    assert_eq!(clean_reason("  hotfix for #12 ").unwrap(), "hotfix for #12");
    for bad in ["", "   "] {
        let err = clean_reason(bad).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(err.to_string().contains("say why"), "{err}");
    }
    assert!(clean_reason(&"x".repeat(1001)).is_err());
    assert!(
        clean_reason("evil\u{202E}")
            .unwrap_err()
            .to_string()
            .contains("U+202E")
    );
}
