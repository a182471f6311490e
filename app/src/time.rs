//! How the dashboard writes times and durations: absolute times in UTC, one
//! format everywhere ("2026-11-23 02:37:15 UTC"), durations for people
//! ("1.2 s", "3 m 04 s").
//!
//! Times are rendered in UTC on the server and in the browser alike, so the
//! hydrated page matches the HTML it was served with.

use chrono::{DateTime, Utc};

/// "2026-11-23 02:37:15 UTC".
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// "02:37:15.042": the time of day of a log line.
pub fn format_clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M:%S%.3f").to_string()
}

/// The machine-readable form for `<time datetime=…>`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// "350 ms", "1.2 s", "3 m 04 s", "2 h 05 m". Negative spans (clock skew
/// between workers) read as zero.
pub fn format_duration(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        // Tenths, truncated: 59.99 s must not read as "60.0 s".
        format!("{}.{} s", ms / 1_000, (ms % 1_000) / 100)
    } else if ms < 3_600_000 {
        let s = ms / 1_000;
        format!("{} m {:02} s", s / 60, s % 60)
    } else {
        let m = ms / 60_000;
        format!("{} h {:02} m", m / 60, m % 60)
    }
}

/// The current time, from the server's clock or the browser's.
pub fn now() -> DateTime<Utc> {
    #[cfg(target_arch = "wasm32")]
    {
        // chrono's clock needs `wasmbind`, which this build leaves out.
        let ms = leptos::web_sys::js_sys::Date::now() as i64;
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn times_are_utc_with_a_suffix() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 2, 37, 15).unwrap();
        assert_eq!(format_time(t), "2026-11-23 02:37:15 UTC");
        assert_eq!(iso(t), "2026-11-23T02:37:15Z");
        assert_eq!(format_clock(t + Duration::milliseconds(42)), "02:37:15.042");
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        let cases = [
            (Duration::milliseconds(-5), "0 ms"),
            (Duration::milliseconds(350), "350 ms"),
            (Duration::milliseconds(1_234), "1.2 s"),
            (Duration::milliseconds(59_990), "59.9 s"),
            (Duration::seconds(184), "3 m 04 s"),
            (Duration::seconds(3_599), "59 m 59 s"),
            (Duration::minutes(125), "2 h 05 m"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(d), want, "{d:?}");
        }
    }
}
