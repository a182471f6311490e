//! Freeze windows in the store: the windows declared per environment and
//! the breaks admins recorded for single promotion requests, with their
//! follow-up review. A break is recorded only while its request is
//! pending; the ledger row the request later writes copies it
//! (`portable/promotions.rs`, in the pointer move's transaction).

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::freeze::{FreezeBreak, FreezeWindow};

/// Deleting a window.
pub struct FreezeDelete<'a> {
    pub id: &'a str,
    pub environment: &'a str,
    pub by: &'a Person,
    pub at: DateTime<Utc>,
}

/// Reviewing a break.
pub struct BreakReview<'a> {
    pub id: &'a str,
    pub by: &'a Person,
    pub at: DateTime<Utc>,
    pub comment: Option<&'a str>,
}

/// What recording a break did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakRecorded {
    Done,
    /// The request was decided meanwhile.
    NotPending,
    /// The request's freeze was broken already.
    AlreadyBroken,
}

#[async_trait]
pub trait FreezeStore: Send + Sync + 'static {
    /// Live windows (not deleted), of one environment or all, oldest first.
    async fn freeze_windows(&self, environment: Option<&str>) -> StoreResult<Vec<FreezeWindow>>;

    /// Declares a window.
    async fn create_freeze(&self, window: &FreezeWindow, audit: AuditEvent) -> StoreResult<()>;

    /// Deletes a live window of `environment`. `false`: there is none.
    async fn delete_freeze(&self, delete: FreezeDelete<'_>, audit: AuditEvent)
    -> StoreResult<bool>;

    /// Records a break for a pending request.
    async fn record_freeze_break(
        &self,
        record: &FreezeBreak,
        audit: AuditEvent,
    ) -> StoreResult<BreakRecorded>;

    async fn freeze_break(&self, id: &str) -> StoreResult<Option<FreezeBreak>>;

    /// The break recorded for a request, if any.
    async fn freeze_break_for_request(&self, request_id: &str) -> StoreResult<Option<FreezeBreak>>;

    /// Breaks not reviewed yet, in `visible` environments (`None`: all),
    /// newest first.
    async fn unreviewed_freeze_breaks(
        &self,
        visible: Option<&[String]>,
    ) -> StoreResult<Vec<FreezeBreak>>;

    /// Marks a break reviewed. `false`: it was reviewed already.
    async fn review_freeze_break(
        &self,
        review: BreakReview<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool>;
}
