//! The control-plane port: the one async interface that the dashboard's server
//! functions, the REST API and the CLI all call. Its implementation (in
//! `server`) authenticates nothing itself (callers arrive with a
//! [`RequestContext`]) but authorizes and audits every method, so no edge can
//! skip either.

use crate::approval::{ApprovalDecided, ApprovalDecision, ApprovalRequest};
use crate::audit::{AuditFilter, AuditPage, AuditRecord, ChainStatus};
use crate::error::PortError;
use crate::execution::{
    AttemptReport, Beat, ClaimRequest, HeartbeatRequest, Lease, LogBatch, Settlement,
};
use crate::identity::{Me, Principal, VerifiedIdentity};
use crate::overview::{Overview, ShellInfo, SignInOptions};
use crate::preferences::Preferences;
use crate::run::{
    LogPage, LogQuery, RunDetail, RunFilter, RunPage, RunSummary, Trigger, TriggerOutcome,
    TriggerRequest,
};
use crate::scim::{ScimAnswer, ScimError, ScimRequest};
use crate::token::{CreatedToken, NewToken, ServiceToken};
use crate::user::{UserQuery, UserSummary};
use crate::workflow::{ActiveVersion, ApplyOutcome, WorkflowDetail, WorkflowSummary};
use std::sync::Arc;

/// Who is calling and from where, as established by the edge (session
/// cookie, bearer token, CLI) before any port method runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `None` for anonymous callers; methods that need a caller return
    /// [`PortError::Unauthenticated`].
    pub principal: Option<Principal>,
    /// Correlates logs, traces and audit records of one request.
    pub request_id: String,
    /// The W3C trace id the caller sent (`traceparent`), if any.
    pub trace_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The caller, or `Unauthenticated`.
    pub fn require_principal(&self) -> Result<&Principal, PortError> {
        self.principal.as_ref().ok_or(PortError::Unauthenticated)
    }
}

#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + 'static {
    /// The frame around every page. Works for anonymous callers.
    async fn shell(&self, ctx: &RequestContext) -> Result<ShellInfo, PortError>;

    /// How one can sign in here. Works for anonymous callers.
    async fn sign_in_options(&self, ctx: &RequestContext) -> Result<SignInOptions, PortError>;

    /// Signs in as a seeded demo user. Only in dev mode; `NotFound` otherwise,
    /// so production servers don't even admit the feature exists.
    async fn dev_sign_in(
        &self,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<Principal, PortError>;

    /// Signs in a person their identity provider vouched for: creates or
    /// refreshes their account (keyed by issuer and subject), replaces their
    /// group-derived grants from the role mapping, and records the sign-in,
    /// all in one transaction. `Forbidden` for a disabled account.
    async fn oidc_sign_in(
        &self,
        ctx: &RequestContext,
        identity: VerifiedIdentity,
    ) -> Result<Principal, PortError>;

    /// Records a single sign-on attempt the edge refused (bad state, a
    /// provider error, an invalid token), described by `reason`; never a
    /// token or code.
    async fn record_failed_sign_in(&self, ctx: &RequestContext, reason: &str);

    /// Records that the caller signs out (the edge then destroys the
    /// session). Works for anonymous callers, recording nothing.
    async fn sign_out(&self, ctx: &RequestContext) -> Result<(), PortError>;

    /// Records a credential the edge refused (an unknown, revoked or expired
    /// bearer token), described by `reason`; never the credential itself.
    async fn record_rejected_credential(&self, ctx: &RequestContext, reason: &str);

    async fn overview(&self, ctx: &RequestContext) -> Result<Overview, PortError>;

    async fn preferences(&self, ctx: &RequestContext) -> Result<Preferences, PortError>;

    async fn update_preferences(
        &self,
        ctx: &RequestContext,
        preferences: Preferences,
    ) -> Result<Preferences, PortError>;

    /// Registers a workflow spec (YAML or JSON text). A new distinct spec
    /// becomes the next numbered version, active in the first environment;
    /// an identical one is a no-op that says so.
    async fn apply_workflow(
        &self,
        ctx: &RequestContext,
        source: &str,
    ) -> Result<ApplyOutcome, PortError>;

    async fn list_workflows(&self, ctx: &RequestContext)
    -> Result<Vec<WorkflowSummary>, PortError>;

    /// A workflow with its versions; `version` picks the spec shown (latest
    /// when `None`).
    async fn workflow(
        &self,
        ctx: &RequestContext,
        name: &str,
        version: Option<u32>,
    ) -> Result<WorkflowDetail, PortError>;

    /// Starts a run of the environment's active version. `trigger` says which
    /// edge asked (manual from the dashboard/CLI, or API). Where the
    /// workflow requires approval in that environment, files a request for
    /// someone else to approve instead.
    async fn trigger_run(
        &self,
        ctx: &RequestContext,
        request: TriggerRequest,
        trigger: Trigger,
    ) -> Result<TriggerOutcome, PortError>;

    /// Approval requests, newest first; `pending` narrows to the inbox
    /// (`Some(true)`) or the history (`Some(false)`).
    async fn list_approvals(
        &self,
        ctx: &RequestContext,
        pending: Option<bool>,
    ) -> Result<Vec<ApprovalRequest>, PortError>;

    async fn approval(&self, ctx: &RequestContext, id: &str) -> Result<ApprovalRequest, PortError>;

    /// Approves (starting the run, as the requester) or rejects a pending
    /// request. The requester can't decide their own (four eyes).
    async fn decide_approval(
        &self,
        ctx: &RequestContext,
        id: &str,
        decision: ApprovalDecision,
    ) -> Result<ApprovalDecided, PortError>;

    async fn list_runs(
        &self,
        ctx: &RequestContext,
        filter: RunFilter,
    ) -> Result<RunPage, PortError>;

    async fn run(&self, ctx: &RequestContext, id: &str) -> Result<RunDetail, PortError>;

    async fn run_logs(
        &self,
        ctx: &RequestContext,
        id: &str,
        query: LogQuery,
    ) -> Result<LogPage, PortError>;

    /// Turns the workflow's cron schedule on or off in one environment.
    /// Turning it on starts from the next slot after now (no catch-up).
    async fn set_schedule(
        &self,
        ctx: &RequestContext,
        workflow: &str,
        environment: &str,
        enabled: bool,
    ) -> Result<ActiveVersion, PortError>;

    /// The caller and every role they hold, with what granted it.
    async fn me(&self, ctx: &RequestContext) -> Result<Me, PortError>;

    /// Every service token (never a secret). Admins only.
    async fn list_tokens(&self, ctx: &RequestContext) -> Result<Vec<ServiceToken>, PortError>;

    /// Makes a service token; the answer is the only place its secret
    /// appears. Each role granted must be within the caller's own admin
    /// reach.
    async fn create_token(
        &self,
        ctx: &RequestContext,
        request: NewToken,
    ) -> Result<CreatedToken, PortError>;

    /// Revokes a token (by id or name), effective on its next request.
    async fn revoke_token(
        &self,
        ctx: &RequestContext,
        id_or_name: &str,
    ) -> Result<ServiceToken, PortError>;

    /// The accounts `query` asks for (all by default), each with the roles
    /// it holds and what granted each (access reviews). Admins and auditors.
    async fn list_users(
        &self,
        ctx: &RequestContext,
        query: UserQuery,
    ) -> Result<Vec<UserSummary>, PortError>;

    /// One account, by id or username. Admins and auditors.
    async fn user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<UserSummary, PortError>;

    /// Disables an account (it can't sign in, and every session it has ends
    /// at once) or enables it again (its old sessions stay ended; the person
    /// signs in afresh). Needs admin in every environment; nobody disables
    /// their own account.
    async fn set_user_disabled(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
        disabled: bool,
    ) -> Result<UserSummary, PortError>;

    /// One SCIM 2.0 operation (`/scim/v2`), for an identity provider holding
    /// a SCIM token; every other caller is refused. Changes are audited with
    /// the SCIM client as actor; deactivating or deleting a person ends their
    /// sessions within the same request.
    async fn scim(
        &self,
        ctx: &RequestContext,
        request: ScimRequest,
    ) -> Result<ScimAnswer, ScimError>;

    /// Audit records, newest first. Admins and auditors only.
    async fn audit_log(
        &self,
        ctx: &RequestContext,
        filter: AuditFilter,
    ) -> Result<AuditPage, PortError>;

    async fn audit_record(&self, ctx: &RequestContext, seq: u64) -> Result<AuditRecord, PortError>;

    /// Verifies the whole chain now (and the signed checkpoints when a key
    /// is configured).
    async fn audit_status(&self, ctx: &RequestContext) -> Result<ChainStatus, PortError>;

    /// Stops a queued or running run: nothing new starts, running steps are
    /// killed. `Conflict` when it already finished.
    async fn cancel_run(&self, ctx: &RequestContext, id: &str) -> Result<RunSummary, PortError>;
}

/// How the port travels through axum state and Leptos context.
pub type SharedControlPlane = Arc<dyn ControlPlane>;

/// The execution API's port: what workers call to lease, stream and report
/// step attempts (`/exec/v1`). Only a worker token's principal may call it,
/// and only about the attempts its own instances hold; every refusal is
/// audited. The in-process worker of `gantry serve` keeps its direct path
/// to the store; every other worker goes through here.
#[async_trait::async_trait]
pub trait ExecutionPort: Send + Sync + 'static {
    /// Leases up to `limit` ready steps to the caller's instance, waiting up
    /// to `wait_ms` for one to become ready.
    async fn claim_steps(
        &self,
        ctx: &RequestContext,
        request: ClaimRequest,
    ) -> Result<Vec<Lease>, PortError>;

    /// Extends a lease the caller holds; says whether to carry on, stop or
    /// abandon the attempt.
    async fn heartbeat(
        &self,
        ctx: &RequestContext,
        request: HeartbeatRequest,
    ) -> Result<Beat, PortError>;

    /// Appends log lines of an attempt the caller still holds.
    async fn append_logs(&self, ctx: &RequestContext, batch: LogBatch) -> Result<(), PortError>;

    /// Records how an attempt ended and advances its run; a stale report
    /// (the lease moved on) changes nothing and says so.
    async fn report_attempt(
        &self,
        ctx: &RequestContext,
        report: AttemptReport,
    ) -> Result<Settlement, PortError>;
}

pub type SharedExecutionPort = Arc<dyn ExecutionPort>;
