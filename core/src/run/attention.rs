//! Dead letters: runs that failed (or timed out) after their steps used up
//! their retries wait on the *Needs attention* list until someone re-runs
//! or dismisses them. Re-running makes a new run linked to the original:
//! with the same version and inputs, with the version active now, or from
//! the failed step, keeping the steps that succeeded and their outputs.

use serde::{Deserialize, Serialize};

/// How a failed run is run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RerunMode {
    /// The original's version and inputs, every step again.
    SameVersion,
    /// The version active in the environment now, with the original's
    /// inputs (checked against that version's inputs).
    ActiveVersion,
    /// The original's version and inputs; steps that succeeded (or were
    /// skipped) keep their result and outputs, the rest run again.
    FromFailedStep,
}

impl RerunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RerunMode::SameVersion => "same_version",
            RerunMode::ActiveVersion => "active_version",
            RerunMode::FromFailedStep => "from_failed_step",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            RerunMode::SameVersion,
            RerunMode::ActiveVersion,
            RerunMode::FromFailedStep,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }

    /// What the dashboard calls it.
    pub fn label(self) -> &'static str {
        match self {
            RerunMode::SameVersion => "Re-run (same version)",
            RerunMode::ActiveVersion => "Re-run (active version)",
            RerunMode::FromFailedStep => "Re-run from the failed step",
        }
    }
}

/// The most runs one bulk action takes.
pub const MAX_BULK_RUNS: usize = 100;
/// A dismissal's note, at most.
pub const MAX_NOTE_CHARS: usize = 500;

/// A bulk action's run list in the OpenAPI document: what `check_bulk`
/// accepts.
#[cfg(feature = "openapi")]
fn bulk_runs_schema() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_BULK_RUNS))
        .unique_items(true)
        .description(Some("Run ids, 1 to 100, each once."))
        .build()
}

/// Re-run these failed runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RerunAsk {
    /// Run ids, 1 to 100, each once.
    #[cfg_attr(feature = "openapi", schema(schema_with = bulk_runs_schema))]
    pub runs: Vec<String>,
    pub mode: RerunMode,
}

/// Take these failed runs off the list, with a note saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DismissAsk {
    /// Run ids, 1 to 100, each once.
    #[cfg_attr(feature = "openapi", schema(schema_with = bulk_runs_schema))]
    pub runs: Vec<String>,
    /// Why, 1 to 500 characters (not blank): it stays with the runs.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::text::note_schema))]
    pub note: String,
}

/// What a bulk action did to one run: each run succeeds or fails alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    pub run: String,
    pub ok: bool,
    /// The new run (a re-run that started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<String>,
    /// The approval request filed instead (the environment needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// Why not, for a run that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a failed run left the list, or why a run exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attention {
    /// Still on the *Needs attention* list.
    pub open: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The dismissal's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The run that re-ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<String>,
}

/// Checks a bulk action's run list: 1 to 100 distinct ids.
pub fn check_bulk(runs: &[String]) -> Result<(), crate::PortError> {
    if runs.is_empty() || runs.len() > MAX_BULK_RUNS {
        return Err(crate::PortError::invalid(
            "runs",
            format!("select 1 to {MAX_BULK_RUNS} runs"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = runs.iter().find(|r| !seen.insert(r.as_str())) {
        return Err(crate::PortError::invalid(
            "runs",
            format!("run {twice} is listed twice"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_and_bulk_lists_are_bounded() {
        for mode in [
            RerunMode::SameVersion,
            RerunMode::ActiveVersion,
            RerunMode::FromFailedStep,
        ] {
            assert_eq!(RerunMode::parse(mode.as_str()), Some(mode));
            let json = serde_json::to_value(mode).unwrap();
            assert_eq!(json, mode.as_str());
        }
        assert!(check_bulk(&[]).is_err());
        assert!(check_bulk(&["a".into(), "a".into()]).is_err());
        assert!(check_bulk(&["x".to_owned(), "y".to_owned()]).is_ok());
        let many: Vec<String> = (0..=MAX_BULK_RUNS).map(|i| i.to_string()).collect();
        assert!(check_bulk(&many).is_err());
    }
}
