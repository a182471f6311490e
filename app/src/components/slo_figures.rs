//! How SLO figures read on the dashboard: percentages, decisions, the
//! low-volume sentence, and the error budget as a bar. Shared by the SLO
//! page and the SLOs list on a workflow's page.

use gantry_core::slo::view::ObjectiveSummary;
use gantry_core::slo::{AlertPair, Decision, ObjectiveKind, Volume};
use leptos::prelude::*;

/// "99.63%", "100%", "-257.14%": at most two decimals, no trailing zeros.
pub fn percent(fraction: f64) -> String {
    let text = format!("{:.2}", fraction * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    // "-0" from a tiny negative reads as zero.
    if text == "-0" {
        "0%".to_owned()
    } else {
        format!("{text}%")
    }
}

pub fn objective_name(o: ObjectiveKind) -> &'static str {
    match o {
        ObjectiveKind::Success => "success",
        ObjectiveKind::Duration => "duration",
    }
}

/// "Success: 99% of runs succeed", "Duration: 95% of runs succeed within 10m".
pub fn objective_title(o: &ObjectiveSummary) -> String {
    match (o.objective, &o.within) {
        (ObjectiveKind::Duration, Some(within)) => {
            format!("Duration: {} of runs succeed within {within}", o.target)
        }
        _ => format!("Success: {} of runs succeed", o.target),
    }
}

/// "1h/5m at 14.4×".
pub fn pair_label(pair: AlertPair) -> String {
    format!(
        "{}/{} at {}×",
        pair.long().label(),
        pair.short().label(),
        pair.factor()
    )
}

/// What the burn rates call for, in words.
pub fn decision_text(d: Decision) -> String {
    match d {
        Decision::Quiet => "Quiet: no burn-rate alert pair holds.".to_owned(),
        Decision::Page(p) => format!(
            "Page: the {} pair holds (both windows burn faster than that).",
            pair_label(p)
        ),
        Decision::Ticket(p) => format!(
            "Ticket: the {} pair holds (both windows burn faster than that).",
            pair_label(p)
        ),
    }
}

/// A short word for tables: "quiet", "page", "ticket".
pub fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Quiet => "quiet",
        Decision::Page(_) => "page",
        Decision::Ticket(_) => "ticket",
    }
}

/// How much one failure moves the budget, and whether the window can say
/// anything about the target at all (docs/slo.md, "Low volume").
pub fn volume_sentence(target: &str, window: &str, v: &Volume) -> String {
    let runs = |n: u64| format!("{n} run{}", if n == 1 { "" } else { "s" });
    let one = v.one_failure_spends.map(percent);
    match (v.too_few, one) {
        (true, None) => format!(
            "No run counted in the last {window}: nothing is measured yet. A {target} target needs at least {} in the window before it means anything.",
            runs(v.runs_needed)
        ),
        (true, Some(one)) => format!(
            "Too few runs to judge: the last {window} hold {}, and a {target} target needs at least {} before one failure fits in its budget. One failure now spends {one} of the budget.",
            runs(v.runs),
            runs(v.runs_needed)
        ),
        (false, Some(one)) => format!(
            "{} in the last {window}: one failure spends {one} of the budget.",
            runs(v.runs)
        ),
        (false, None) => String::new(),
    }
}

/// The share of the error budget left as a bar: full when nothing is
/// spent, empty (and marked) when spent or overspent. `label` names it for
/// screen readers (the figure is beside it in words too).
#[component]
pub fn BudgetBar(remaining: Option<f64>, #[prop(into)] label: String) -> impl IntoView {
    const W: f64 = 240.0;
    let (fill, tone) = match remaining {
        None => (0.0, "wait"),
        Some(r) if r <= 0.0 => (0.0, "err"),
        Some(r) if r < 0.25 => (r, "stop"),
        Some(r) => (r.min(1.0), "ok"),
    };
    let width = (fill * W).round();
    let overspent = remaining.is_some_and(|r| r < 0.0);
    let title = label.clone();
    view! {
        <svg class="budget-bar" role="img" aria-label=label viewBox="0 0 242 14" width="242" height="14">
            <title>{title}</title>
            <rect class="budget-track" x="1" y="1" width=W height="12" rx="2" />
            <rect class=format!("tone-{tone}") x="1" y="1" width=width height="12" rx="2" />
            {overspent.then(|| view! {
                <line class="budget-overspent" x1="1" y1="13" x2=W + 1.0 y2="1" />
            })}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::slo::{Target, volume};

    #[test]
    fn percentages_drop_trailing_zeros() {
        assert_eq!(percent(0.9963), "99.63%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.6), "60%");
        assert_eq!(percent(-2.5714285), "-257.14%");
        assert_eq!(percent(-0.000_000_1), "0%");
    }

    #[test]
    fn a_daily_cron_is_told_it_has_too_few_runs() {
        let t = Target::from_ppm(990_000).unwrap();
        let text = volume_sentence("99%", "28days", &volume(t, 28));
        assert_eq!(
            text,
            "Too few runs to judge: the last 28days hold 28 runs, and a 99% target needs at least 100 runs before one failure fits in its budget. One failure now spends 357.14% of the budget."
        );
        let text = volume_sentence("99%", "28days", &volume(t, 400));
        assert_eq!(
            text,
            "400 runs in the last 28days: one failure spends 25% of the budget."
        );
        let text = volume_sentence("99%", "7days", &volume(t, 0));
        assert!(text.starts_with("No run counted"), "{text}");
    }

    #[test]
    fn decisions_read_as_sentences() {
        assert_eq!(
            decision_text(Decision::Page(AlertPair::Page1h)),
            "Page: the 1h/5m at 14.4× pair holds (both windows burn faster than that)."
        );
        assert_eq!(
            decision_word(Decision::Ticket(AlertPair::Ticket3d)),
            "ticket"
        );
        assert_eq!(pair_label(AlertPair::Ticket1d), "1d/2h at 3×");
    }
}
