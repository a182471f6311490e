//! Per-user display preferences, like Grafana's: colour theme and how times
//! are shown.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system's light/dark setting.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Same as my system",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeDisplay {
    /// Coordinated Universal Time: what on-call hand-overs usually quote.
    #[default]
    Utc,
    /// The browser's local time zone.
    Local,
}

impl TimeDisplay {
    pub const ALL: [TimeDisplay; 2] = [TimeDisplay::Utc, TimeDisplay::Local];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeDisplay::Utc => "utc",
            TimeDisplay::Local => "local",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeDisplay::Utc => "UTC",
            TimeDisplay::Local => "My browser's time zone",
        }
    }

    pub fn parse(s: &str) -> Option<TimeDisplay> {
        TimeDisplay::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub theme: Theme,
    pub time_display: TimeDisplay,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_round_trip() {
        for t in Theme::ALL {
            assert_eq!(Theme::parse(t.as_str()), Some(t));
        }
        for t in TimeDisplay::ALL {
            assert_eq!(TimeDisplay::parse(t.as_str()), Some(t));
        }
        assert_eq!(Theme::parse("neon"), None);
    }

    #[test]
    fn stored_preferences_missing_fields_fall_back_to_defaults() {
        // Older rows written before a field existed must still load.
        let p: Preferences = serde_json::from_str(r#"{"theme":"dark"}"#).unwrap();
        assert_eq!(p.theme, Theme::Dark);
        assert_eq!(p.time_display, TimeDisplay::Utc);
        assert_eq!(
            serde_json::from_str::<Preferences>("{}").unwrap(),
            Preferences::default()
        );
    }
}
