//! Freeze windows: declaring and deleting them (admins of the
//! environment), listing them, breaking one for a single promotion request
//! (break-glass) and reviewing breaks afterwards. See docs/ops/freezes.md.

use super::RequestContext;
use crate::error::PortError;
use crate::freeze::{
    BreakAsk, EnvironmentFreezes, FreezeAsk, FreezeBreak, FreezeOverview, FreezeView, ReviewAsk,
};
use crate::promotion::view::PromotionDetail;

#[async_trait::async_trait]
pub trait FreezePort: Send + Sync {
    /// Every visible environment's windows, the freeze in force in each,
    /// and the breaks awaiting review.
    async fn freezes(&self, ctx: &RequestContext) -> Result<FreezeOverview, PortError>;

    /// One environment's windows and the freeze in force there.
    async fn environment_freezes(
        &self,
        ctx: &RequestContext,
        environment: &str,
    ) -> Result<EnvironmentFreezes, PortError>;

    /// Declares a window (admins of the environment; `freeze.create`).
    async fn create_freeze(
        &self,
        ctx: &RequestContext,
        environment: &str,
        ask: FreezeAsk,
    ) -> Result<FreezeView, PortError>;

    /// Deletes a window (admins of the environment; `freeze.delete`).
    async fn delete_freeze(
        &self,
        ctx: &RequestContext,
        environment: &str,
        id: &str,
    ) -> Result<(), PortError>;

    /// Lets one pending request through the freeze in force in its target
    /// (an admin there, with a recent sign-in and a reason; `freeze.break`).
    /// It is promoted at once if its gate is otherwise green.
    async fn break_freeze(
        &self,
        ctx: &RequestContext,
        request_id: &str,
        ask: BreakAsk,
    ) -> Result<PromotionDetail, PortError>;

    /// Marks a break reviewed (an admin of its environment other than the
    /// one who broke it; `freeze.review`).
    async fn review_freeze_break(
        &self,
        ctx: &RequestContext,
        id: &str,
        ask: ReviewAsk,
    ) -> Result<FreezeBreak, PortError>;
}
