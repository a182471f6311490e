//! The promotion commands' output, as lines: pure, so tests read exactly
//! what an operator sees. Plain ASCII, like the other client commands, so
//! it survives any terminal and `grep`.

use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::promotion::diff::{Change, FieldChange, SpecDiff};
use gantry_core::promotion::evaluation::{ItemEvaluation, ItemStatus};
use gantry_core::promotion::gate::counted_approvals;
use gantry_core::promotion::view::{PromotionDetail, RollbackOutcome};
use gantry_core::promotion::{
    Deployment, GateDecision, PromotionApproval, PromotionRequest, PromotionState, ReviewBasis,
};

/// Longest value a diff line shows; the API's diff has the whole text.
const MAX_VALUE_CHARS: usize = 72;
/// Longest reason in a table row.
const MAX_REASON_CHARS: usize = 40;

pub(super) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn version(v: Option<u32>) -> String {
    v.map_or_else(|| "(none)".to_owned(), |v| format!("v{v}"))
}

/// `text`, cut to `max` characters with `...` when longer.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max.saturating_sub(3)).collect();
        format!("{head}...")
    }
}

/// One ledger row as a sentence: `deploy v3 -> v4 in prod (promotion by …)`.
pub(super) fn deployment_line(d: &Deployment) -> String {
    format!(
        "{} {} -> v{} in {} ({} by {}, {})",
        d.workflow,
        version(d.from_version),
        d.to_version,
        d.environment,
        d.kind.as_str(),
        d.actor.name,
        when(d.at)
    )
}

/// The word a checklist item's status shows as.
fn status_word(status: &ItemStatus) -> &'static str {
    match status {
        ItemStatus::Pass | ItemStatus::Acknowledged { .. } | ItemStatus::Manual { .. } => "ok",
        ItemStatus::Fail => "failing",
        ItemStatus::Unchecked => "to tick",
        ItemStatus::NeedsAcknowledgement { .. } => "to ack",
    }
}

fn item_lines(item: &ItemEvaluation) -> [String; 2] {
    [
        format!(
            "  {:<8} {} - {}",
            status_word(&item.status),
            item.id,
            item.title
        ),
        format!("  {:<8}   {}", "", item.explanation),
    ]
}

/// What approvals of a pending request are bound to now.
fn basis(detail: &PromotionDetail) -> ReviewBasis {
    ReviewBasis {
        content_hash: detail.request.content_hash.clone(),
        diff_digest: detail.diff.digest(),
    }
}

/// (approvals that count, approvals required) of a pending request.
fn approval_count(detail: &PromotionDetail) -> (usize, u32) {
    let counted = counted_approvals(&detail.request.approvals, &basis(detail)).len();
    (counted, detail.policy.required_approvals)
}

fn approver(a: &PromotionApproval) -> String {
    match &a.on_behalf_of {
        Some(holder) => format!("{} (for {})", a.by.name, holder.name),
        None => a.by.name.clone(),
    }
}

fn decided_line(request: &PromotionRequest, state: PromotionState) -> String {
    let by = request
        .decided_by
        .as_ref()
        .map(|p: &Person| format!(" by {}", p.name))
        .unwrap_or_default();
    let at = request
        .decided_at
        .map(|t| format!(" {}", when(t)))
        .unwrap_or_default();
    let comment = request
        .comment
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    match state {
        PromotionState::Expired => format!("expired {}, nobody decided", when(request.expires_at)),
        PromotionState::Superseded => {
            format!("superseded{at}: a newer version was asked for, same target")
        }
        _ => format!("{}{by}{at}{comment}", state.as_str()),
    }
}

fn waiting_lines(gate: &GateDecision) -> Vec<String> {
    match gate {
        GateDecision::Ready => vec!["  ready to promote".to_owned()],
        GateDecision::Waiting { reasons } => std::iter::once("  waiting for:".to_owned())
            .chain(reasons.iter().map(|r| format!("    {r}")))
            .collect(),
    }
}

/// A request in a few lines: where it stands and what it waits for. The
/// answer to `promote`, `approve`, `reject`, `cancel` and `check`.
pub(super) fn summary(detail: &PromotionDetail, now: DateTime<Utc>) -> Vec<String> {
    let r = &detail.request;
    let state = r.state_at(now);
    let mut out = vec![format!(
        "promotion {}: {} v{}, {} -> {}: {}",
        r.id,
        r.workflow,
        r.version,
        r.from_environment,
        r.to_environment,
        state.as_str()
    )];
    match state {
        PromotionState::Pending => {
            let (green, total) = detail.checklist.progress();
            let (have, need) = approval_count(detail);
            out.push(format!(
                "  checklist {green}/{total}, approvals {have}/{need}"
            ));
            out.extend(waiting_lines(&detail.gate));
        }
        PromotionState::Promoted => {
            if let Some(d) = &detail.deployment {
                out.push(format!("  {}", deployment_line(d)));
            }
        }
        _ => out.push(format!("  {}", decided_line(r, state))),
    }
    out
}

/// What changed between two polls of a pending request, for `--wait`:
/// checklist items whose status changed, new approvals, and the count when
/// approvals stopped counting (the diff moved). Live values that only
/// tick along (a soak time's minutes) print nothing.
pub(super) fn progress(before: &PromotionDetail, after: &PromotionDetail) -> Vec<String> {
    let mut out = Vec::new();
    for item in &after.checklist.items {
        let was = before.checklist.items.iter().find(|i| i.id == item.id);
        if was.is_none_or(|w| status_word(&w.status) != status_word(&item.status)) {
            out.push(format!(
                "  {}: {} - {}",
                item.id,
                status_word(&item.status),
                item.explanation
            ));
        }
    }
    let (had, _) = approval_count(before);
    let (have, need) = approval_count(after);
    let mut new_approvals = false;
    for a in &after.request.approvals {
        let seen = before
            .request
            .approvals
            .iter()
            .any(|b| b.by.id == a.by.id && b.at == a.at);
        if !seen {
            new_approvals = true;
            let comment = a
                .comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            out.push(format!(
                "  approved by {}{comment} (approvals {have}/{need})",
                approver(a)
            ));
        }
    }
    if have != had && !new_approvals {
        out.push(format!(
            "  approvals {have}/{need}: approvals given before the diff changed no longer count"
        ));
    }
    out
}

/// `gantry promotion show`: everything the request page shows.
pub(super) fn detail(detail: &PromotionDetail, now: DateTime<Utc>) -> Vec<String> {
    let r = &detail.request;
    let state = r.state_at(now);
    let mut out = vec![
        format!("promotion {}: {}", r.id, state.as_str()),
        format!(
            "  {} v{}: {} -> {} (replaces {})",
            r.workflow,
            r.version,
            r.from_environment,
            r.to_environment,
            version(r.replaces)
        ),
        format!(
            "  asked by {} {}: {}",
            r.requested_by.name,
            when(r.created_at),
            r.reason
        ),
    ];
    match state {
        PromotionState::Pending => out.push(format!("  expires {}", when(r.expires_at))),
        PromotionState::Promoted => {}
        _ => out.push(format!("  {}", decided_line(r, state))),
    }
    if let Some(d) = &detail.deployment {
        out.push(format!("  deployed: {}", deployment_line(d)));
    }

    let (green, total) = detail.checklist.progress();
    out.push(format!(
        "checklist {green}/{total} (evaluated {})",
        when(detail.checklist.evaluated_at)
    ));
    if detail.checklist.items.is_empty() {
        out.push(format!(
            "  (the policy of {} has no checklist)",
            r.to_environment
        ));
    }
    for item in &detail.checklist.items {
        out.extend(item_lines(item));
    }

    out.extend(approval_lines(detail, state));
    if state == PromotionState::Pending {
        out.extend(waiting_lines(&detail.gate));
    }
    out.extend(diff_lines(&detail.diff, r.replaces, &r.to_environment));
    if !detail.delegations.is_empty() {
        out.push(format!("delegations in {}:", r.to_environment));
        for d in &detail.delegations {
            out.push(format!(
                "  {} -> {} until {}",
                d.from.name,
                d.to.name,
                when(d.until)
            ));
        }
    }
    out
}

fn approval_lines(detail: &PromotionDetail, state: PromotionState) -> Vec<String> {
    let approvals = &detail.request.approvals;
    let mut out = Vec::new();
    if state == PromotionState::Pending {
        let (have, need) = approval_count(detail);
        out.push(format!("approvals {have}/{need}"));
    } else {
        out.push("approvals".to_owned());
    }
    if approvals.is_empty() {
        out.push("  (none)".to_owned());
    }
    let current = basis(detail);
    for a in approvals {
        let comment = a
            .comment
            .as_deref()
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        // Only a pending request's diff is the one approvals are bound to.
        let stale = state == PromotionState::Pending && a.reviewed != current;
        out.push(format!(
            "  {} {}{comment}{}",
            approver(a),
            when(a.at),
            if stale {
                " (approved an earlier diff; doesn't count)"
            } else {
                ""
            }
        ));
    }
    out
}

fn value(v: Option<&String>) -> String {
    v.map_or_else(
        || "(not set)".to_owned(),
        |v| cut(&format!("{v:?}"), MAX_VALUE_CHARS),
    )
}

fn field_line(f: &FieldChange, change: Change) -> String {
    match change {
        Change::Added => format!("      {}: {}", f.field, value(f.after.as_ref())),
        Change::Removed => format!("      {}: {}", f.field, value(f.before.as_ref())),
        Change::Changed => format!(
            "      {}: {} -> {}",
            f.field,
            value(f.before.as_ref()),
            value(f.after.as_ref())
        ),
    }
}

fn sign(change: Change) -> char {
    match change {
        Change::Added => '+',
        Change::Removed => '-',
        Change::Changed => '~',
    }
}

/// The diff approvers review, values cut to one short line each.
pub(super) fn diff_lines(diff: &SpecDiff, replaces: Option<u32>, target: &str) -> Vec<String> {
    let mut out = vec![match replaces {
        _ if diff.first_deployment => {
            format!("diff: nothing is active in {target} yet; everything is new")
        }
        Some(v) => format!("diff against v{v}, active in {target}:"),
        None => format!("diff against what is active in {target}:"),
    }];
    if diff.is_empty() {
        out.push("  no changes".to_owned());
        return out;
    }
    for f in &diff.workflow {
        out.push(format!(
            "  ~ {}: {} -> {}",
            f.field,
            value(f.before.as_ref()),
            value(f.after.as_ref())
        ));
    }
    for input in &diff.inputs {
        out.push(format!("  {} input {}", sign(input.change), input.name));
        out.extend(input.fields.iter().map(|f| field_line(f, input.change)));
    }
    for step in &diff.steps {
        out.push(format!("  {} step {}", sign(step.change), step.id));
        out.extend(step.fields.iter().map(|f| field_line(f, step.change)));
    }
    if !diff.new_http_hosts.is_empty() {
        let hosts: Vec<String> = diff.new_http_hosts.iter().map(|h| h.label()).collect();
        out.push(format!("  new HTTP hosts: {}", hosts.join(", ")));
    }
    if !diff.new_secret_references.is_empty() {
        out.push(format!(
            "  new secret references: {}",
            diff.new_secret_references.join(", ")
        ));
    }
    out
}

/// `gantry promotions`.
pub(super) fn request_table(requests: &[PromotionRequest], now: DateTime<Utc>) -> Vec<String> {
    if requests.is_empty() {
        return vec!["no promotion requests match".to_owned()];
    }
    let mut out = vec![format!(
        "{:<36}  {:<10} {:<24} {:<16} {:<20} {:<20} {}",
        "PROMOTION", "STATE", "WORKFLOW", "MOVE", "ASKED BY", "CREATED", "REASON"
    )];
    for r in requests {
        out.push(format!(
            "{:<36}  {:<10} {:<24} {:<16} {:<20} {:<20} {}",
            r.id,
            r.state_at(now).as_str(),
            format!("{} v{}", r.workflow, r.version),
            format!("{} -> {}", r.from_environment, r.to_environment),
            cut(&r.requested_by.name, 20),
            when(r.created_at),
            cut(&r.reason, MAX_REASON_CHARS)
        ));
    }
    out
}

/// `gantry deployments`: the ledger, or with `at` the rows in force then.
pub(super) fn deployment_table(rows: &[Deployment], at: Option<DateTime<Utc>>) -> Vec<String> {
    if rows.is_empty() {
        return vec![match at {
            Some(t) => format!("nothing was active at {} for this filter", when(t)),
            None => "no deployments match".to_owned(),
        }];
    }
    let mut out = Vec::new();
    if let Some(t) = at {
        out.push(format!("active at {}:", when(t)));
        out.push(format!(
            "{:<24} {:<10} {:<8} {:<20} {:<10} {}",
            "WORKFLOW", "ENV", "VERSION", "SINCE", "KIND", "BY"
        ));
        for d in rows {
            out.push(format!(
                "{:<24} {:<10} {:<8} {:<20} {:<10} {}",
                d.workflow,
                d.environment,
                format!("v{}", d.to_version),
                when(d.at),
                d.kind.as_str(),
                d.actor.name
            ));
        }
        return out;
    }
    out.push(format!(
        "{:<20} {:<24} {:<10} {:<14} {:<10} {:<20} {}",
        "AT", "WORKFLOW", "ENV", "MOVE", "KIND", "BY", "REASON"
    ));
    for d in rows {
        out.push(format!(
            "{:<20} {:<24} {:<10} {:<14} {:<10} {:<20} {}",
            when(d.at),
            d.workflow,
            d.environment,
            format!("{} -> v{}", version(d.from_version), d.to_version),
            d.kind.as_str(),
            cut(&d.actor.name, 20),
            cut(d.reason.as_deref().unwrap_or(""), MAX_REASON_CHARS)
        ));
    }
    out
}

/// `gantry rollback`'s answer; `cancel_running` is whether it was asked to
/// cancel the rolled-back version's runs.
pub(super) fn rollback(outcome: &RollbackOutcome, cancel_running: bool) -> Vec<String> {
    let d = &outcome.deployment;
    let from = version(d.from_version);
    let mut out = vec![format!(
        "rolled back {} in {}: {from} -> v{} (deployment {})",
        d.workflow, d.environment, d.to_version, d.id
    )];
    if !outcome.cancelled_runs.is_empty() {
        out.push(format!(
            "  cancelled {} {} of {from}: {}",
            outcome.cancelled_runs.len(),
            if outcome.cancelled_runs.len() == 1 {
                "run"
            } else {
                "runs"
            },
            outcome.cancelled_runs.join(", ")
        ));
    } else if cancel_running {
        out.push(format!("  no run of {from} was still going"));
    } else {
        out.push(format!(
            "  runs of {from} already started or queued keep {from}; new runs use v{}",
            d.to_version
        ));
    }
    out.push(format!(
        "  {from} is marked rolled back in {}; promoting it there again needs \
         --confirm-rolled-back",
        d.environment
    ));
    out
}

#[cfg(test)]
#[path = "promotion_render_tests.rs"]
mod tests;
