//! Server functions for freeze windows (docs/ops/freezes.md): the overview
//! the Promotions and Policies pages show, declaring and deleting a window
//! from the Policies page, breaking a freeze from a request's page, and
//! reviewing a break. Plain form posts (no JavaScript) are redirected back
//! to the page's section.

use crate::error::AppError;
#[cfg(any(feature = "ssr", test))]
use gantry_core::PortError;
use gantry_core::freeze::{FreezeBreak, FreezeOverview, FreezeView};
use gantry_core::promotion::view::PromotionDetail;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

#[server(prefix = "/ui", endpoint = "freezes")]
pub async fn get_freezes() -> Result<FreezeOverview, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.freezes(&ctx).await)
}

/// The create form as typed (`window[reason]`, …): `kind` is `one_off`
/// (`start`, `end` as `datetime-local` values in UTC) or `recurring`
/// (`cron`, `duration`, `timezone`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FreezeFields {
    pub reason: String,
    pub kind: String,
    pub start: String,
    pub end: String,
    pub cron: String,
    pub duration: String,
    pub timezone: String,
}

/// Declares a window in `environment`.
#[server(prefix = "/ui", endpoint = "create_freeze")]
pub async fn create_freeze(
    environment: String,
    #[server(default)] window: FreezeFields,
) -> Result<FreezeView, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let ask = match parse_freeze_form(&window) {
        Ok(ask) => ask,
        Err(e) => return ssr::answer(Err(e)),
    };
    let view = ssr::answer(plane.create_freeze(&ctx, &environment, ask).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&format!("/promotions/policies#freezes-{environment}"));
    }
    Ok(view)
}

#[server(prefix = "/ui", endpoint = "delete_freeze")]
pub async fn delete_freeze(environment: String, id: String) -> Result<(), AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.delete_freeze(&ctx, &environment, &id).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&format!("/promotions/policies#freezes-{environment}"));
    }
    Ok(())
}

/// Break-glass for one pending request.
#[server(prefix = "/ui", endpoint = "break_freeze")]
pub async fn break_freeze(
    id: String,
    #[server(default)] reason: String,
) -> Result<PromotionDetail, AppError> {
    use gantry_core::freeze::BreakAsk;
    let (plane, ctx) = ssr::port().await?;
    let detail = ssr::answer(plane.break_freeze(&ctx, &id, BreakAsk { reason }).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(&format!("/promotions/{id}"));
    }
    Ok(detail)
}

#[server(prefix = "/ui", endpoint = "review_freeze_break")]
pub async fn review_freeze_break(
    id: String,
    #[server(default)] comment: String,
) -> Result<FreezeBreak, AppError> {
    use gantry_core::freeze::ReviewAsk;
    let (plane, ctx) = ssr::port().await?;
    let ask = ReviewAsk {
        comment: Some(comment).filter(|c| !c.trim().is_empty()),
    };
    let reviewed = ssr::answer(plane.review_freeze_break(&ctx, &id, ask).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to("/promotions/policies#freeze-reviews");
    }
    Ok(reviewed)
}

/// Reads the create form, naming the field that can't be read. Bounds and
/// the rest are the port's to check.
#[cfg(any(feature = "ssr", test))]
pub fn parse_freeze_form(f: &FreezeFields) -> Result<gantry_core::freeze::FreezeAsk, PortError> {
    use gantry_core::freeze::{FreezeAsk, FreezeSchedule};
    let schedule = match f.kind.trim() {
        "one_off" => FreezeSchedule::OneOff {
            start: instant("start", &f.start)?,
            end: instant("end", &f.end)?,
        },
        "recurring" => FreezeSchedule::Recurring {
            cron: f.cron.trim().to_owned(),
            duration: serde_json::from_value(serde_json::Value::String(
                f.duration.trim().to_owned(),
            ))
            .map_err(|_| {
                PortError::invalid(
                    "duration",
                    format!(
                        "{:?} is not a duration; write it like \"90m\", \"60h\" or \"2d\"",
                        f.duration.trim()
                    ),
                )
            })?,
            timezone: f.timezone.trim().to_owned(),
        },
        other => {
            return Err(PortError::invalid(
                "kind",
                format!("{other:?} is not a kind of window; choose one_off or recurring"),
            ));
        }
    };
    Ok(FreezeAsk {
        reason: f.reason.clone(),
        schedule,
    })
}

/// A `datetime-local` value (taken as UTC) or an RFC 3339 instant.
#[cfg(any(feature = "ssr", test))]
fn instant(field: &str, text: &str) -> Result<chrono::DateTime<chrono::Utc>, PortError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            PortError::invalid(
                field,
                format!("{text:?} is not a time; write it like 2027-03-01T18:00 (UTC)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::freeze::FreezeSchedule;

    #[test]
    fn the_form_reads_as_a_one_off_or_recurring_window() {
        let one_off = FreezeFields {
            reason: "release".into(),
            kind: "one_off".into(),
            start: "2027-03-01T18:00".into(),
            end: "2027-03-02T06:00:00Z".into(),
            ..FreezeFields::default()
        };
        let ask = parse_freeze_form(&one_off).unwrap();
        assert!(matches!(ask.schedule, FreezeSchedule::OneOff { .. }));
        let recurring = FreezeFields {
            reason: "weekend".into(),
            kind: "recurring".into(),
            cron: " 0 18 * * 5 ".into(),
            duration: "60h".into(),
            timezone: "Europe/Berlin".into(),
            ..FreezeFields::default()
        };
        let ask = parse_freeze_form(&recurring).unwrap();
        assert!(
            matches!(ask.schedule, FreezeSchedule::Recurring { ref cron, .. } if cron == "0 18 * * 5")
        );
    }

    #[test]
    fn unreadable_fields_are_named() {
        let bad = |f: FreezeFields| match parse_freeze_form(&f) {
            Err(PortError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let base = FreezeFields {
            reason: "r".into(),
            kind: "one_off".into(),
            start: "tomorrow".into(),
            end: "2027-03-02T06:00".into(),
            ..FreezeFields::default()
        };
        assert_eq!(bad(base.clone()), "start");
        assert_eq!(
            bad(FreezeFields {
                kind: "recurring".into(),
                duration: "long".into(),
                ..base.clone()
            }),
            "duration"
        );
        assert_eq!(
            bad(FreezeFields {
                kind: "weekly".into(),
                ..base
            }),
            "kind"
        );
    }
}
