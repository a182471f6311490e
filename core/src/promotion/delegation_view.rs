//! What the delegation port takes and answers: an approver lending their
//! approvals in one environment to a named person for a while
//! ([`super::delegation`] has the rules).

use super::delegation::Delegation;
use crate::approval::Person;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/delegations`: the caller lends their own approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    /// The delegate's username: an existing, enabled account other than
    /// the caller's.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = "\\S"))]
    pub to: String,
    /// Where the caller holds `approver` or `admin`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::Environment))]
    pub environment: String,
    /// When it starts; defaults to now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_time: Option<DateTime<Utc>>,
    /// When it ends (exclusive), at most 90 days after the start.
    pub until: DateTime<Utc>,
}

/// Where a delegation stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DelegationState {
    /// Starts later.
    Scheduled,
    /// In force: the delegate may approve with the delegator's right.
    Active,
    /// Past its end.
    Ended,
    /// Withdrawn before its end.
    Revoked,
}

impl DelegationState {
    pub fn as_str(self) -> &'static str {
        match self {
            DelegationState::Scheduled => "scheduled",
            DelegationState::Active => "active",
            DelegationState::Ended => "ended",
            DelegationState::Revoked => "revoked",
        }
    }
}

/// One delegation as stored, with its state when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelegationView {
    pub id: String,
    /// Who lent their approvals.
    pub from: Person,
    /// Who may approve with them.
    pub to: Person,
    pub environment: String,
    pub from_time: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    pub state: DelegationState,
}

impl DelegationView {
    /// The view of `delegation` (stored under `id`) as it stands at `now`.
    pub fn at(
        id: String,
        delegation: Delegation,
        created_at: DateTime<Utc>,
        revoked_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let state = if revoked_at.is_some() {
            DelegationState::Revoked
        } else if now < delegation.from_time {
            DelegationState::Scheduled
        } else if now < delegation.until {
            DelegationState::Active
        } else {
            DelegationState::Ended
        };
        DelegationView {
            id,
            from: delegation.from,
            to: delegation.to,
            environment: delegation.environment,
            from_time: delegation.from_time,
            until: delegation.until,
            created_at,
            revoked_at,
            state,
        }
    }
}

/// `GET /api/v1/delegations` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct DelegationFilter {
    /// Only delegations in this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::Environment>))]
    pub environment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn person(id: &str) -> Person {
        Person {
            id: id.into(),
            name: id.into(),
        }
    }

    #[test]
    fn a_delegation_is_scheduled_active_ended_or_revoked() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let d = Delegation {
            from: person("avery"),
            to: person("oscar"),
            environment: "prod".into(),
            from_time: start,
            until: start + Duration::days(1),
        };
        let cases = [
            (
                start - Duration::seconds(1),
                None,
                DelegationState::Scheduled,
            ),
            (start, None, DelegationState::Active),
            (
                d.until - Duration::seconds(1),
                None,
                DelegationState::Active,
            ),
            (d.until, None, DelegationState::Ended),
            (start, Some(start), DelegationState::Revoked),
            (
                d.until + Duration::days(1),
                Some(start),
                DelegationState::Revoked,
            ),
        ];
        for (now, revoked_at, state) in cases {
            let view = DelegationView::at("id".into(), d.clone(), start, revoked_at, now);
            assert_eq!(view.state, state, "{now} {revoked_at:?}");
        }
    }

    #[test]
    fn a_new_delegation_refuses_unknown_fields_and_defaults_its_start() {
        let ok: NewDelegation = serde_json::from_value(serde_json::json!({
            "to": "oscar", "environment": "prod", "until": "2030-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(ok.from_time, None);
        let err = serde_json::from_value::<NewDelegation>(serde_json::json!({
            "to": "oscar", "environment": "prod", "until": "2030-01-01T00:00:00Z", "from": "me"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
