//! Burn rates and the multiwindow, multi-burn-rate alerts of the Google SRE
//! workbook ("Alerting on SLOs", approach 6).
//!
//! A burn rate is how fast a window spends budget relative to spending it
//! evenly: `(bad ÷ runs in the window) ÷ (1 − target)`. At 1 the budget
//! lasts exactly the SLO window; at 14.4 a 30-day budget is gone in 50
//! hours. An alert pair fires when both its long window (enough evidence
//! that a meaningful share of the budget went) and its short window (it is
//! still going now) burn faster than the pair's factor.
//!
//! Comparisons are exact integer arithmetic on the counts, so a window
//! burning exactly at a factor is decided the same way on every machine:
//! like the workbook's `>` rules, it does not fire.

use super::budget::budget_ppm;
use super::{Counts, PPM, Target};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The windows burn rates are computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BurnWindow {
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "30m")]
    M30,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "2h")]
    H2,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "1d")]
    D1,
    #[serde(rename = "3d")]
    D3,
}

impl BurnWindow {
    /// Shortest first.
    pub const ALL: [BurnWindow; 7] = [
        BurnWindow::M5,
        BurnWindow::M30,
        BurnWindow::H1,
        BurnWindow::H2,
        BurnWindow::H6,
        BurnWindow::D1,
        BurnWindow::D3,
    ];

    pub fn duration(self) -> Duration {
        const MIN: u64 = 60;
        Duration::from_secs(match self {
            BurnWindow::M5 => 5 * MIN,
            BurnWindow::M30 => 30 * MIN,
            BurnWindow::H1 => 60 * MIN,
            BurnWindow::H2 => 2 * 60 * MIN,
            BurnWindow::H6 => 6 * 60 * MIN,
            BurnWindow::D1 => 24 * 60 * MIN,
            BurnWindow::D3 => 3 * 24 * 60 * MIN,
        })
    }

    /// As written in the docs, the API and Prometheus range selectors.
    pub fn label(self) -> &'static str {
        match self {
            BurnWindow::M5 => "5m",
            BurnWindow::M30 => "30m",
            BurnWindow::H1 => "1h",
            BurnWindow::H2 => "2h",
            BurnWindow::H6 => "6h",
            BurnWindow::D1 => "1d",
            BurnWindow::D3 => "3d",
        }
    }
}

/// Good and bad runs that finished in each burn window ending now (the
/// server counts them; every window ends at the same `now`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowCounts {
    #[serde(rename = "5m")]
    pub m5: Counts,
    #[serde(rename = "30m")]
    pub m30: Counts,
    #[serde(rename = "1h")]
    pub h1: Counts,
    #[serde(rename = "2h")]
    pub h2: Counts,
    #[serde(rename = "6h")]
    pub h6: Counts,
    #[serde(rename = "1d")]
    pub d1: Counts,
    #[serde(rename = "3d")]
    pub d3: Counts,
}

impl WindowCounts {
    pub fn get(&self, window: BurnWindow) -> Counts {
        match window {
            BurnWindow::M5 => self.m5,
            BurnWindow::M30 => self.m30,
            BurnWindow::H1 => self.h1,
            BurnWindow::H2 => self.h2,
            BurnWindow::H6 => self.h6,
            BurnWindow::D1 => self.d1,
            BurnWindow::D3 => self.d3,
        }
    }

    pub fn set(&mut self, window: BurnWindow, counts: Counts) {
        *match window {
            BurnWindow::M5 => &mut self.m5,
            BurnWindow::M30 => &mut self.m30,
            BurnWindow::H1 => &mut self.h1,
            BurnWindow::H2 => &mut self.h2,
            BurnWindow::H6 => &mut self.h6,
            BurnWindow::D1 => &mut self.d1,
            BurnWindow::D3 => &mut self.d3,
        } = counts;
    }
}

/// The burn rate of `counts` against `target`, for display and charts;
/// `None` when the window holds no run (no run, no burn: an idle window
/// neither spends budget nor proves anything). Alerts use [`burns_faster`].
pub fn burn_rate(target: Target, counts: Counts) -> Option<f64> {
    let total = counts.total();
    (total > 0)
        .then(|| counts.bad as f64 * f64::from(PPM) / (total as f64 * budget_ppm(target) as f64))
}

/// Whether `counts` burn budget faster than `tenths` ÷ 10 times the even
/// rate: `bad ÷ total > factor × (1 − target)`, cross-multiplied into
/// integers (`bad × 10⁶ × 10 > tenths × total × budget_ppm`; u128 holds
/// it). A window without runs never burns.
pub fn burns_faster(target: Target, counts: Counts, tenths: u32) -> bool {
    let total = counts.total();
    total > 0
        && u128::from(counts.bad) * u128::from(PPM) * 10
            > u128::from(tenths) * u128::from(total) * u128::from(budget_ppm(target))
}

/// Who an alert calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Someone looks during working hours.
    Ticket,
    /// Someone is woken up.
    Page,
}

/// The workbook's four window pairs, named by severity and long window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertPair {
    /// 14.4× over 1h and 5m: 2% of a 30-day budget in an hour.
    Page1h,
    /// 6× over 6h and 30m: 5% of a 30-day budget in six hours.
    Page6h,
    /// 3× over 1d and 2h: 10% of a 30-day budget in a day.
    Ticket1d,
    /// 1× over 3d and 6h: 10% of a 30-day budget in three days.
    Ticket3d,
}

impl AlertPair {
    /// Most urgent first: the order [`decide`] reports them in.
    pub const ALL: [AlertPair; 4] = [
        AlertPair::Page1h,
        AlertPair::Page6h,
        AlertPair::Ticket1d,
        AlertPair::Ticket3d,
    ];

    pub fn severity(self) -> Severity {
        match self {
            AlertPair::Page1h | AlertPair::Page6h => Severity::Page,
            AlertPair::Ticket1d | AlertPair::Ticket3d => Severity::Ticket,
        }
    }

    pub fn long(self) -> BurnWindow {
        match self {
            AlertPair::Page1h => BurnWindow::H1,
            AlertPair::Page6h => BurnWindow::H6,
            AlertPair::Ticket1d => BurnWindow::D1,
            AlertPair::Ticket3d => BurnWindow::D3,
        }
    }

    /// A twelfth of the long window, as the workbook advises.
    pub fn short(self) -> BurnWindow {
        match self {
            AlertPair::Page1h => BurnWindow::M5,
            AlertPair::Page6h => BurnWindow::M30,
            AlertPair::Ticket1d => BurnWindow::H2,
            AlertPair::Ticket3d => BurnWindow::H6,
        }
    }

    /// The burn-rate factor in tenths (14.4× is 144), so it compares exactly.
    pub fn factor_tenths(self) -> u32 {
        match self {
            AlertPair::Page1h => 144,
            AlertPair::Page6h => 60,
            AlertPair::Ticket1d => 30,
            AlertPair::Ticket3d => 10,
        }
    }

    /// The factor for display: 14.4, 6, 3, 1.
    pub fn factor(self) -> f64 {
        f64::from(self.factor_tenths()) / 10.0
    }

    /// Share of the budget of an SLO `window` that the long window spends
    /// at exactly the factor: `factor × long ÷ window`. The factors are the
    /// workbook's for a 30-day window (2%, 5%, 10%, 10%); Gantry keeps them
    /// for every window, so a 7-day SLO pages after 8.6% of its budget.
    pub fn budget_share(self, window: Duration) -> f64 {
        if window.is_zero() {
            return f64::INFINITY;
        }
        self.factor() * self.long().duration().as_secs_f64() / window.as_secs_f64()
    }

    /// Whether this pair's condition holds: both windows burn faster than
    /// the factor.
    pub fn holds(self, target: Target, counts: &WindowCounts) -> bool {
        let fast = |w| burns_faster(target, counts.get(w), self.factor_tenths());
        fast(self.long()) && fast(self.short())
    }

    /// Whether an alert of this pair that is firing may resolve: its long
    /// window burns at or under the factor again.
    ///
    /// The workbook resolves as soon as the pair stops holding, which is in
    /// practice when the short window quietens (a 5 minute reset). Runs are
    /// sparse next to requests: a 5 minute window often holds no run at
    /// all, and resolving on it would fire and resolve once per failed run.
    /// Waiting for the long window is the hysteresis that makes an incident
    /// one notification and one resolve, at the price of a longer reset
    /// (at most the long window after the last bad run).
    pub fn resolved(self, target: Target, counts: &WindowCounts) -> bool {
        !burns_faster(target, counts.get(self.long()), self.factor_tenths())
    }
}

/// What the burn rates call for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "decision", content = "pair", rename_all = "snake_case")]
pub enum Decision {
    Quiet,
    Ticket(AlertPair),
    Page(AlertPair),
}

impl Decision {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Decision::Quiet => None,
            Decision::Ticket(_) => Some(Severity::Ticket),
            Decision::Page(_) => Some(Severity::Page),
        }
    }
}

/// The most urgent pair whose condition holds: a page before a ticket, and
/// within a severity the faster pair (1h before 6h, 1d before 3d), which
/// tells a responder how sudden the burn is.
pub fn decide(target: Target, counts: &WindowCounts) -> Decision {
    match holding(target, counts).first() {
        None => Decision::Quiet,
        Some(&pair) => match pair.severity() {
            Severity::Page => Decision::Page(pair),
            Severity::Ticket => Decision::Ticket(pair),
        },
    }
}

/// Every pair whose condition holds, most urgent first (for the SLO page,
/// which shows them all).
pub fn holding(target: Target, counts: &WindowCounts) -> Vec<AlertPair> {
    AlertPair::ALL
        .into_iter()
        .filter(|pair| pair.holds(target, counts))
        .collect()
}

#[cfg(test)]
#[path = "burn_tests.rs"]
mod tests;
