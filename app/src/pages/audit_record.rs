//! One audit record: every field, its details as JSON, the two hashes that
//! chain it, and links to the records on either side.

use super::audit::audit_href;
use crate::api::{AuditQuery, get_audit_record, list_audit};
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::components::status_badge::OutcomeBadge;
use crate::components::status_badge::label;
use crate::error::AppError;
use crate::route_param::route_param;
use gantry_core::audit::AuditRecord;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RecordData {
    record: AuditRecord,
    /// The neighbours that exist (an older one may have been archived, the
    /// newest record has no newer one).
    older: Option<u64>,
    newer: Option<u64>,
}

async fn load(seq: String) -> Result<RecordData, AppError> {
    let record = get_audit_record(seq).await?;
    // The log is newest first and `before` is exclusive: this asks for the
    // next record, this one and the previous one.
    let around = list_audit(AuditQuery {
        before: (record.seq + 2).to_string(),
        limit: "3".into(),
        ..AuditQuery::default()
    })
    .await?;
    let has = |seq: u64| around.records.iter().any(|r| r.seq == seq);
    let older = record.seq.checked_sub(1).filter(|s| has(*s));
    let newer = Some(record.seq + 1).filter(|s| has(*s));
    Ok(RecordData {
        record,
        older,
        newer,
    })
}

#[component]
pub fn AuditRecordPage() -> impl IntoView {
    let seq = route_param("seq");
    let data = Resource::new(seq.clone(), load);
    let heading = move || format!("Audit record #{}", seq());
    view! {
        <Title text=heading.clone() />
        <h1>{heading}</h1>
        <Loaded resource=data let:data>
            <RecordView data />
        </Loaded>
    }
}

#[component]
fn RecordView(data: RecordData) -> impl IntoView {
    let RecordData {
        record: r,
        older,
        newer,
    } = data;
    let none = || view! { <span class="muted">"none"</span> }.into_any();
    let text = |v: Option<String>| match v {
        Some(v) => view! { <code>{v}</code> }.into_any(),
        None => none(),
    };
    let details =
        serde_json::to_string_pretty(&r.details).unwrap_or_else(|_| r.details.to_string());
    let exact = r.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let by_actor = audit_href(
        &AuditQuery {
            actor: r.actor.id.clone(),
            ..AuditQuery::default()
        },
        None,
    );
    let on_resource = audit_href(
        &AuditQuery {
            resource: r.resource.clone(),
            ..AuditQuery::default()
        },
        None,
    );
    let older = older.map(|s| {
        view! { <a href=format!("/audit/{s}") rel="prev">"← Previous record #" {s}</a> }
    });
    let newer = newer.map(|s| {
        view! { <a href=format!("/audit/{s}") rel="next">"Next record #" {s} " →"</a> }
    });
    view! {
        <dl class="facts audit-record">
            <dt>"Record"</dt>
            <dd>{format!("#{}", r.seq)}</dd>
            <dt>"Time"</dt>
            <dd><Time at=r.at /> " " <code class="muted">{exact}</code></dd>
            <dt>"Actor"</dt>
            <dd>{r.actor.name.clone()} " " <a href=by_actor>"(their records)"</a></dd>
            <dt>"Actor kind"</dt>
            <dd>{label(r.actor.kind.as_str())}</dd>
            <dt>"Actor id"</dt>
            <dd><code>{r.actor.id.clone()}</code></dd>
            <dt>"Action"</dt>
            <dd><code>{r.action.clone()}</code></dd>
            <dt>"Resource"</dt>
            <dd><code>{r.resource.clone()}</code> " " <a href=on_resource>"(its records)"</a></dd>
            <dt>"Environment"</dt>
            <dd>{match r.environment.clone() {
                Some(e) => e.into_any(),
                None => none(),
            }}</dd>
            <dt>"Outcome"</dt>
            <dd><OutcomeBadge outcome=r.outcome /></dd>
            <dt>"Source IP"</dt>
            <dd>{text(r.source_ip.clone())}</dd>
            <dt>"User agent"</dt>
            <dd>{text(r.user_agent.clone())}</dd>
            <dt>"Request id"</dt>
            <dd>{text(r.request_id.clone())}</dd>
            <dt>"Trace id"</dt>
            <dd>{text(r.trace_id.clone())}</dd>
            <dt>"Previous hash"</dt>
            <dd><code class="hash">{r.prev_hash.clone()}</code></dd>
            <dt>"Hash"</dt>
            <dd><code class="hash">{r.hash.clone()}</code></dd>
        </dl>
        <section aria-labelledby="details-heading">
            <h2 id="details-heading">"Details"</h2>
            <pre class="source audit-details" tabindex="0" aria-labelledby="details-heading"><code>{details}</code></pre>
        </section>
        <nav class="pager" aria-label="Neighbouring records">
            {older} " " <a href="/audit">"Back to the audit log"</a> " " {newer}
        </nav>
    }
}
