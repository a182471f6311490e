//! Server functions for the audit log: a page of records, one record, and
//! the chain's verification status. Admins and auditors only; the port
//! decides.

use crate::error::AppError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use gantry_core::PortError;
use gantry_core::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// The Audit page's filters as text, exactly as a GET form or a hand-edited
/// URL sends them; empty means "any". Parsed into an [`AuditFilter`] on the
/// server, so a bad value comes back as a message naming its field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// The actor's id or name, exactly.
    pub actor: String,
    /// An action (`run.trigger`) or a family ending in `.` (`run.`).
    pub action: String,
    /// A resource (`workflow/deploy`) or a prefix ending in `/` (`run/`).
    pub resource: String,
    pub environment: String,
    /// `succeeded`, `denied` or `failed`.
    pub outcome: String,
    /// Records at or after this time; see [`parse_time`].
    pub since: String,
    /// Records before this time.
    pub until: String,
    /// The cursor: records older than this sequence number.
    pub before: String,
    /// Records per page.
    pub limit: String,
}

impl AuditQuery {
    /// The port's filter. Trims every field; the port itself checks the
    /// outcome, the order of `since` and `until`, and the limit's range.
    pub fn to_filter(&self) -> Result<AuditFilter, PortError> {
        let given = |v: &str| Some(v.trim().to_owned()).filter(|s| !s.is_empty());
        let number = |field: &str, v: &str, what: &str| -> Result<Option<u64>, PortError> {
            given(v)
                .map(|s| {
                    s.parse::<u64>()
                        .map_err(|_| PortError::invalid(field, format!("{s:?} is not {what}")))
                })
                .transpose()
        };
        let limit = number("limit", &self.limit, "a number of records")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        Ok(AuditFilter {
            actor: given(&self.actor),
            action: given(&self.action),
            resource: given(&self.resource),
            environment: given(&self.environment),
            outcome: given(&self.outcome),
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
            before: number("before", &self.before, "a record number")?,
            limit,
        })
    }
}

/// Reads a time filter. The dashboard shows every time in UTC, so the
/// form's `datetime-local` values (`2026-11-23T09:00`, seconds optional)
/// and bare dates (`2026-11-23`, meaning midnight) are taken as UTC too:
/// the same clock as the table beside them, whatever the browser's zone.
/// A full RFC 3339 time with an offset, as the REST API takes, works as
/// well. Empty means no bound.
pub fn parse_time(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, PortError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(&text.replacen(' ', "T", 1), f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    });
    match local {
        Some(t) => Ok(Some(t.and_utc())),
        None => Err(PortError::invalid(
            field,
            format!("{text:?} is not a time: use a UTC date and time such as 2026-11-23T09:00"),
        )),
    }
}

/// How a time filter is written back into a `datetime-local` field: UTC,
/// without a zone, seconds only when there are some. A value that doesn't
/// parse stays as typed (the page says what is wrong with it).
pub fn time_field_value(text: &str) -> String {
    match parse_time("", text) {
        Ok(Some(t)) if t.format("%S%.f").to_string() == "00" => {
            t.format("%Y-%m-%dT%H:%M").to_string()
        }
        Ok(Some(t)) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => text.trim().to_owned(),
    }
}

/// One page of audit records, newest first.
#[server(prefix = "/ui", endpoint = "audit")]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let filter = match query.to_filter() {
        Ok(f) => f,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.audit_log(&ctx, filter).await)
}

/// One record by sequence number. Anything but a number is no record.
#[server(prefix = "/ui", endpoint = "audit_record")]
pub async fn get_audit_record(seq: String) -> Result<AuditRecord, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let Ok(seq) = seq.trim().parse::<u64>() else {
        return ssr::answer(Err(PortError::not_found(format!("audit record {seq:?}"))));
    };
    ssr::answer(plane.audit_record(&ctx, seq).await)
}

/// Verifies the whole chain now.
#[server(prefix = "/ui", endpoint = "audit_status")]
pub async fn get_audit_status() -> Result<ChainStatus, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.audit_status(&ctx).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn form_times_are_utc_and_bad_ones_name_their_field() {
        let nine = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        for text in [
            "2026-11-23T09:00",
            "2026-11-23T09:00:00",
            "2026-11-23T09:00:00.000",
            "2026-11-23 09:00",
            " 2026-11-23T09:00:00Z ",
            "2026-11-23T10:00:00+01:00",
        ] {
            assert_eq!(parse_time("since", text), Ok(Some(nine)), "{text}");
        }
        assert_eq!(
            parse_time("until", "2026-11-23"),
            Ok(Some(Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()))
        );
        assert_eq!(parse_time("since", "  "), Ok(None));
        let err = parse_time("until", "yesterday").unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"until: "yesterday" is not a time"#),
            "{err}"
        );
    }

    #[test]
    fn time_fields_are_written_back_in_utc() {
        assert_eq!(
            time_field_value("2026-11-23T10:00:00+01:00"),
            "2026-11-23T09:00"
        );
        assert_eq!(
            time_field_value("2026-11-23T09:00:30"),
            "2026-11-23T09:00:30"
        );
        assert_eq!(time_field_value("soon"), "soon");
    }

    #[test]
    fn empty_fields_mean_any_and_numbers_are_checked() {
        let q = AuditQuery {
            actor: " admin ".into(),
            action: "run.".into(),
            before: "12".into(),
            limit: "2".into(),
            ..AuditQuery::default()
        };
        let f = q.to_filter().unwrap();
        assert_eq!(f.actor.as_deref(), Some("admin"));
        assert_eq!(f.action.as_deref(), Some("run."));
        assert_eq!(f.resource, None);
        assert_eq!((f.before, f.limit), (Some(12), Some(2)));
        let bad = AuditQuery {
            before: "x".into(),
            ..AuditQuery::default()
        };
        assert!(
            bad.to_filter()
                .unwrap_err()
                .to_string()
                .starts_with("before:")
        );
        assert_eq!(
            AuditQuery::default().to_filter(),
            Ok(AuditFilter::default())
        );
    }
}
