//! The OpenAPI document of `/api/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the `ToSchema` derives on the types they
//! exchange (most of them in `gantry-core`, behind its `openapi` feature).
//! Served at `GET /api/v1/openapi.json`, the one API route that needs no
//! token (see `auth::is_public`).

use super::error::{ErrorBody, ErrorCode, ErrorDetails, ErrorEnvelope};
use super::openapi_responses::StandardResponses;
use super::{
    alerts, approvals, audit, bundles, canaries, dead_letters, delegations, freezes, promotions,
    rate_limits, runs, secrets, slos, tokens, users, webhooks, workflows,
};
use crate::auth::SESSION_COOKIE;
use axum::Json;
use gantry_core::approval::{ApprovalDecided, ApprovalRequest, ApprovalStatus, Person};
use gantry_core::audit::{
    Actor, ActorKind, AuditPage, AuditRecord, Break, BreakKind, ChainStatus, Outcome,
};
use gantry_core::bundle::{ImportOutcome, ImportedVersion};
use gantry_core::run::{
    AttemptStatus, AttemptView, LogLine, LogPage, LogStream, RunDetail, RunPage, RunStatus,
    RunSummary, StepRun, StepStatus, Trigger,
};
use gantry_core::secret::{
    AttemptSecretAccess, LastFetch, ReferenceVersion, SecretAccess, SecretInvalidated,
    SecretInvalidation, SecretProviderStatus,
};
use gantry_core::spec::{
    Backoff, HttpStep, InputSpec, InputType, RetryPolicy, SpecDuration, SpecProblem, StepSpec,
    WorkflowSpec,
};
use gantry_core::token::{CreatedToken, NewToken, ServiceToken};
use gantry_core::user::{UserSource, UserSummary};
use gantry_core::workflow::{
    ActiveVersion, ApplyOutcome, VersionInfo, WorkflowDetail, WorkflowSummary,
};
use gantry_core::{Me, MeRole, PrincipalKind, Role};
use std::sync::LazyLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The name of the bearer-token security scheme in the document.
pub const BEARER_SCHEME: &str = "bearer";
/// The name of the session-cookie security scheme in the document.
pub const SESSION_SCHEME: &str = "session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gantry REST API",
        description = "Workflows, their runs and the audit log. Every operation except this \
            document needs a bearer token (`Authorization: Bearer gantry_…`: a \
            service token, or the bootstrap token printed at start-up) or a \
            dashboard session cookie. Every error answer has the shape \
            `{\"error\": {\"code\", \"message\", \"details\"}}` (`ErrorEnvelope`)."
    ),
    paths(
        workflows::list,
        workflows::apply,
        workflows::get,
        workflows::versions,
        workflows::set_schedule,
        bundles::import,
        runs::trigger_named,
        runs::list,
        runs::trigger,
        runs::get,
        runs::logs,
        runs::cancel,
        secrets::run_accesses,
        secrets::providers,
        secrets::invalidate,
        approvals::list,
        approvals::get,
        approvals::approve,
        approvals::reject,
        delegations::create,
        delegations::list,
        delegations::revoke,
        promotions::request,
        promotions::list,
        promotions::get,
        promotions::approve,
        promotions::reject,
        promotions::cancel,
        promotions::mark,
        promotions::roll_back,
        promotions::deployments,
        promotions::verifications,
        canaries::list,
        canaries::get,
        canaries::control,
        promotions::diff,
        promotions::policies,
        promotions::policy,
        promotions::set_policy,
        freezes::overview,
        freezes::list,
        freezes::create,
        freezes::delete,
        freezes::break_freeze,
        freezes::review,
        tokens::me,
        tokens::list,
        tokens::create,
        tokens::revoke,
        users::list,
        users::get,
        users::disable,
        users::enable,
        audit::list,
        audit::get,
        audit::verify,
        alerts::list_rules,
        alerts::create_rule,
        alerts::get_rule,
        alerts::replace_rule,
        alerts::delete_rule,
        alerts::backtest_rule,
        alerts::list_channels,
        alerts::create_channel,
        alerts::replace_channel,
        alerts::delete_channel,
        alerts::test_channel,
        alerts::list_instances,
        alerts::list_history,
        alerts::list_notifications,
        alerts::list_silences,
        alerts::create_silence,
        alerts::expire_silence,
        slos::list,
        slos::get,
        webhooks::list,
        webhooks::create,
        webhooks::get,
        webhooks::delete,
        webhooks::rotate,
        webhooks::retire_previous,
        super::hooks::deliver,
        dead_letters::rerun,
        dead_letters::dismiss,
        rate_limits::get,
        rate_limits::set_override,
        rate_limits::delete_override,
        document,
    ),
    components(schemas(
        ErrorEnvelope,
        ErrorBody,
        ErrorCode,
        ErrorDetails,
        WorkflowSummary,
        WorkflowDetail,
        VersionInfo,
        ActiveVersion,
        ApplyOutcome,
        workflows::ApplyResponse,
        workflows::ScheduleBody,
        bundles::ImportResponse,
        ImportOutcome,
        ImportedVersion,
        runs::TriggerBody,
        RunSummary,
        RunDetail,
        RunPage,
        StepRun,
        AttemptView,
        LogLine,
        LogPage,
        LogStream,
        RunStatus,
        StepStatus,
        AttemptStatus,
        Trigger,
        WorkflowSpec,
        StepSpec,
        HttpStep,
        RetryPolicy,
        Backoff,
        InputSpec,
        InputType,
        SpecDuration,
        SpecProblem,
        ApprovalRequest,
        ApprovalStatus,
        ApprovalDecided,
        Person,
        approvals::DecisionBody,
        promotions::CommentBody,
        Me,
        MeRole,
        Role,
        PrincipalKind,
        ServiceToken,
        NewToken,
        CreatedToken,
        UserSummary,
        UserSource,
        AuditRecord,
        AuditPage,
        Actor,
        ActorKind,
        Outcome,
        ChainStatus,
        Break,
        BreakKind,
        SecretAccess,
        AttemptSecretAccess,
        SecretProviderStatus,
        SecretInvalidation,
        SecretInvalidated,
        LastFetch,
        ReferenceVersion,
    )),
    modifiers(&SecuritySchemes, &StandardResponses),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "workflows", description = "Workflow specs and their immutable versions."),
        (name = "runs", description = "Starting, watching and cancelling runs."),
        (name = "approvals", description = "Four-eyes approval requests and decisions, and approvers' delegations."),
        (name = "promotions", description = "Promoting versions dev → stage → prod, rollback, the deployment ledger and environment policies."),
        (name = "identity", description = "Who is calling, service tokens (admins) and accounts (access reviews, disabling)."),
        (name = "secrets", description = "Secret providers' health (admins and auditors); never a value."),
        (name = "alerts", description = "Alert rules with backtests, notification channels (credentials write-only), silences and mute windows, what fired and what was sent."),
        (name = "slos", description = "Service level objectives per workflow and environment: SLI, error budget, burn rates and the runs that spent budget, from exact run counts."),
        (name = "rate-limits", description = "Quotas per request class and admins' overrides per token or group (admin in every environment)."),
        (name = "webhooks", description = "Inbound webhooks (admins of their environment): hooks starting a workflow on signed deliveries to POST /hooks/{hook}, secret rotation, recent deliveries."),
        (name = "audit", description = "The tamper-evident audit log (admins and auditors)."),
        (name = "meta", description = "The API itself."),
    )
)]
pub struct ApiDoc;

/// Adds the security schemes the operations refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("gantry_…")
                    .description(Some(
                        "A service token or the bootstrap token; Gantry tokens start with \
                         `gantry_`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The dashboard's session (after signing in); programs should use a bearer token.",
            ))),
        );
    }
}

/// Built once: the document is fixed at compile time.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// This OpenAPI document. Needs no credentials.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "get_openapi",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object, content_type = "application/json"),
    )
)]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&*DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    /// Every `$ref` in the document points at a schema it defines.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, doc: &Value, seen: &mut usize) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        let name = r
                            .strip_prefix("#/components/schemas/")
                            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
                        assert!(
                            doc["components"]["schemas"].get(name).is_some(),
                            "dangling $ref {r}"
                        );
                        *seen += 1;
                    }
                    map.values().for_each(|v| walk(v, doc, seen));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, doc, seen)),
                _ => {}
            }
        }
        let doc = doc();
        let mut seen = 0;
        walk(&doc, &doc, &mut seen);
        assert!(seen > 20, "only {seen} references");
    }

    #[test]
    fn operation_ids_are_unique_and_every_operation_is_secured_but_the_document() {
        let doc = doc();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
                let security = op.get("security");
                // The document is public; webhook deliveries carry a
                // signature instead of a credential.
                if path == "/api/v1/openapi.json" || path == "/hooks/{hook}" {
                    assert_eq!(security, Some(&serde_json::json!([{}])), "{method} {path}");
                } else {
                    assert!(
                        security.is_none(),
                        "{method} {path} overrides the global security"
                    );
                }
            }
        }
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        assert_eq!(schemes[BEARER_SCHEME]["scheme"], "bearer");
        assert_eq!(schemes[SESSION_SCHEME]["name"], SESSION_COOKIE);
    }

    /// Spot checks that the schemas follow the serde attributes.
    #[test]
    fn schemas_follow_serde() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        // rename = "type"
        assert!(schemas["InputSpec"]["properties"].get("type").is_some());
        assert!(schemas["InputSpec"]["properties"].get("kind").is_none());
        // deny_unknown_fields
        assert_eq!(schemas["WorkflowSpec"]["additionalProperties"], false);
        // a humantime string, not a struct
        assert_eq!(schemas["SpecDuration"]["type"], "string");
        // rename_all = "snake_case"
        let statuses: Vec<&str> = schemas["RunStatus"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, expected);
        // flatten: RunDetail has RunSummary's fields
        let detail = serde_json::to_string(&schemas["RunDetail"]).unwrap();
        assert!(
            detail.contains("#/components/schemas/RunSummary"),
            "{detail}"
        );
    }
}
