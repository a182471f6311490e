//! What happened to a promotion request, in order: asked, ticked and
//! acknowledged, approved, decided, deployed. Built from the request's own
//! fields (and the deployment it made), as an ordered list of times.

use super::runs_table::Time;
use chrono::{DateTime, Utc};
use gantry_core::promotion::evaluation::ItemEvaluation;
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::{PromotionRequest, PromotionState};
use leptos::prelude::*;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// For tests and styles: `requested`, `ticked`, `approved`, …
    pub kind: &'static str,
    pub text: String,
}

/// The request's events, oldest first. `items` names checklist items by
/// their titles; `now` decides whether a pending request has expired.
pub fn events(
    request: &PromotionRequest,
    deployment: Option<&Deployment>,
    items: &[ItemEvaluation],
    now: DateTime<Utc>,
) -> Vec<Event> {
    let title = |id: &str| {
        items
            .iter()
            .find(|i| i.id == id)
            .map_or_else(|| id.to_owned(), |i| i.title.clone())
    };
    let with_note = |mut text: String, note: Option<&str>| {
        if let Some(note) = note.filter(|n| !n.is_empty()) {
            text.push_str(": ");
            text.push_str(note);
        }
        text
    };
    let mut out = vec![Event {
        at: request.created_at,
        kind: "requested",
        text: with_note(
            format!(
                "{} asked to promote version {} from {} to {}",
                request.requested_by.name,
                request.version,
                request.from_environment,
                request.to_environment
            ),
            Some(&request.reason),
        ),
    }];
    for tick in &request.ticks {
        let (kind, text) = if tick.acknowledged.is_empty() {
            let text = format!(
                "{} ticked \u{201c}{}\u{201d}",
                tick.by.name,
                title(&tick.item)
            );
            ("ticked", with_note(text, tick.evidence.as_deref()))
        } else {
            let text = format!(
                "{} acknowledged {}",
                tick.by.name,
                tick.acknowledged.join(", ")
            );
            ("acknowledged", text)
        };
        out.push(Event {
            at: tick.at,
            kind,
            text,
        });
    }
    for approval in &request.approvals {
        let mut text = format!("{} approved", approval.by.name);
        if let Some(of) = &approval.on_behalf_of {
            text.push_str(&format!(" on behalf of {}", of.name));
        }
        out.push(Event {
            at: approval.at,
            kind: "approved",
            text: with_note(text, approval.comment.as_deref()),
        });
    }
    let decider = request
        .decided_by
        .as_ref()
        .map_or("Someone", |p| p.name.as_str());
    let decided_at = request.decided_at.unwrap_or(request.created_at);
    match request.state_at(now) {
        PromotionState::Rejected => out.push(Event {
            at: decided_at,
            kind: "rejected",
            text: with_note(format!("{decider} rejected it"), request.comment.as_deref()),
        }),
        PromotionState::Cancelled => out.push(Event {
            at: decided_at,
            kind: "cancelled",
            text: with_note(
                format!("{decider} cancelled it"),
                request.comment.as_deref(),
            ),
        }),
        PromotionState::Superseded => out.push(Event {
            at: decided_at,
            kind: "superseded",
            text: "A request for a newer version replaced it".to_owned(),
        }),
        PromotionState::Expired => out.push(Event {
            at: request.expires_at,
            kind: "expired",
            text: "It expired before it was promoted".to_owned(),
        }),
        PromotionState::Pending | PromotionState::Promoted => {}
    }
    if let Some(d) = deployment {
        out.push(Event {
            at: d.at,
            kind: "deployed",
            text: format!(
                "Version {} became active in {}",
                d.to_version, d.environment
            ),
        });
    }
    // Stable: events at the same moment keep the order above.
    out.sort_by_key(|e| e.at);
    out
}

#[component]
pub fn PromotionTimeline(events: Vec<Event>) -> impl IntoView {
    let items = events
        .into_iter()
        .map(|e| {
            view! {
                <li data-event=e.kind>
                    <Time at=e.at />
                    <span class="timeline-event">{e.text}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="event-list">{items}</ol> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use gantry_core::approval::Person;
    use gantry_core::promotion::evaluation::{ChecklistTick, ItemStatus};
    use gantry_core::promotion::ledger::DeploymentKind;
    use gantry_core::promotion::request::{PromotionApproval, ReviewBasis};

    fn person(name: &str) -> Person {
        Person {
            id: name.to_lowercase(),
            name: name.into(),
        }
    }

    fn t(mins: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(mins)
    }

    fn request() -> PromotionRequest {
        PromotionRequest {
            id: "p1".into(),
            workflow: "report".into(),
            version: 4,
            content_hash: "h".into(),
            from_environment: "stage".into(),
            to_environment: "prod".into(),
            replaces: Some(3),
            requested_by: person("Oscar"),
            reason: "Faster export".into(),
            created_at: t(0),
            expires_at: t(60 * 24 * 7),
            state: PromotionState::Promoted,
            approvals: vec![PromotionApproval {
                by: person("Dana"),
                on_behalf_of: Some(person("Avery")),
                at: t(30),
                comment: Some("looks fine".into()),
                reviewed: ReviewBasis {
                    content_hash: "h".into(),
                    diff_digest: "d".into(),
                },
            }],
            ticks: vec![
                ChecklistTick {
                    item: "on_call_aware".into(),
                    by: person("Oscar"),
                    at: t(10),
                    evidence: Some("https://chat/msg/1".into()),
                    acknowledged: vec![],
                },
                ChecklistTick {
                    item: "http_hosts".into(),
                    by: person("Dana"),
                    at: t(20),
                    evidence: None,
                    acknowledged: vec!["api.example".into()],
                },
            ],
            decided_by: None,
            decided_at: None,
            comment: None,
        }
    }

    #[test]
    fn a_promoted_request_reads_from_ask_to_deployment() {
        let items = [ItemEvaluation {
            id: "on_call_aware".into(),
            title: "On-call knows".into(),
            automatic: false,
            status: ItemStatus::Unchecked,
            explanation: String::new(),
        }];
        let deployment = Deployment {
            id: "d".into(),
            workflow: "report".into(),
            environment: "prod".into(),
            from_version: Some(3),
            to_version: 4,
            kind: DeploymentKind::Promotion,
            actor: person("Dana"),
            at: t(30),
            reason: None,
            request_id: Some("p1".into()),
            approvers: vec![],
            checklist: None,
            freeze_break: None,
        };
        let events = events(&request(), Some(&deployment), &items, t(40));
        let lines: Vec<(&str, &str)> = events.iter().map(|e| (e.kind, e.text.as_str())).collect();
        assert_eq!(
            lines,
            [
                (
                    "requested",
                    "Oscar asked to promote version 4 from stage to prod: Faster export"
                ),
                (
                    "ticked",
                    "Oscar ticked \u{201c}On-call knows\u{201d}: https://chat/msg/1"
                ),
                ("acknowledged", "Dana acknowledged api.example"),
                ("approved", "Dana approved on behalf of Avery: looks fine"),
                ("deployed", "Version 4 became active in prod"),
            ]
        );
    }

    #[test]
    fn decisions_and_expiry_end_the_story() {
        let mut r = request();
        r.state = PromotionState::Rejected;
        r.approvals.clear();
        r.ticks.clear();
        r.decided_by = Some(person("Avery"));
        r.decided_at = Some(t(5));
        r.comment = Some("not during the freeze".into());
        let e = events(&r, None, &[], t(6));
        assert_eq!(
            e.last().unwrap().text,
            "Avery rejected it: not during the freeze"
        );

        let mut r = request();
        r.state = PromotionState::Pending;
        r.approvals.clear();
        r.ticks.clear();
        let e = events(&r, None, &[], t(60 * 24 * 8));
        assert_eq!(e.last().unwrap().kind, "expired");
        assert_eq!(e.last().unwrap().at, r.expires_at);
    }
}
