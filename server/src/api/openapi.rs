//! The OpenAPI document of `/api/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the `ToSchema` derives on the types they
//! exchange (most of them in `gantry-core`, behind its `openapi` feature).
//! Served at `GET /api/v1/openapi.json`, the one API route that needs no
//! token (see `auth::is_public`).

use super::error::{ApiError, ErrorBody, ErrorCode, ErrorDetails, ErrorEnvelope};
use super::openapi_responses::StandardResponses;
use super::{
    alerts, approvals, audit, bundles, canaries, dead_letters, delegations, freezes, passkeys,
    promotions, rate_limits, retention, runs, secrets, slos, tokens, users, webhooks, workflows,
};
use crate::auth::SESSION_COOKIE;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_core::approval::{ApprovalDecided, ApprovalRequest, ApprovalStatus, Person};
use gantry_core::audit::{
    Actor, ActorKind, AuditPage, AuditRecord, Break, BreakKind, ChainStatus, Outcome, PersonalField,
};
use gantry_core::bundle::{ImportOutcome, ImportedVersion};
use gantry_core::environment::{ENVIRONMENT_NAME_PATTERN, MAX_ENVIRONMENT_NAME_LEN};
use gantry_core::privacy::{ErasureReport, PersonExport};
use gantry_core::ratelimit::QUOTA_PATTERN;
use gantry_core::retention::{PerEnvironment, Purged, Retention, RetentionStatus};
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
use gantry_core::{Environment, Environments};
use gantry_core::{Me, MeRole, PrincipalKind, Role};
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
        users::export,
        users::erase,
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
        passkeys::list,
        passkeys::start_registration,
        passkeys::finish_registration,
        passkeys::revoke,
        rate_limits::get,
        rate_limits::set_override,
        rate_limits::delete_override,
        retention::get,
        retention::purge,
        document,
    ),
    components(schemas(
        Environment,
        EnvironmentFilter,
        TimeFilter,
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
        runs::WorkflowTriggerBody,
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
        PersonExport,
        ErasureReport,
        RetentionStatus,
        Retention,
        PerEnvironment,
        Purged,
        AuditRecord,
        PersonalField,
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
        (name = "retention", description = "How long runs, step logs and notification history are kept; the database's size; purging what is due (admin in every environment)."),
        (name = "passkeys", description = "Break-glass passkeys: registering (admin in every environment, step-up), listing, revoking."),
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

/// An optional environment filter of a query string: an environment, or
/// empty for none (what an HTML form sends for "any"). Narrowed to the
/// configured environments like `Environment` (`document_for`).
pub struct EnvironmentFilter;

impl utoipa::PartialSchema for EnvironmentFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(format!("^$|{ENVIRONMENT_NAME_PATTERN}")))
            .max_length(Some(MAX_ENVIRONMENT_NAME_LEN))
            .description(Some(
                "An environment of this server, or empty for every environment.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for EnvironmentFilter {}

/// An optional time filter of a query string: an RFC 3339 time, or empty
/// for none (what an HTML form sends for "any").
pub struct TimeFilter;

impl utoipa::PartialSchema for TimeFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        utoipa::openapi::OneOfBuilder::new()
            .item(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(0)),
            )
            .description(Some("An RFC 3339 time, or empty for none."))
            .into()
    }
}

impl utoipa::ToSchema for TimeFilter {}

/// The document this server serves: `ApiDoc` with its environment schemas
/// narrowed to the configured environments, the only names the operations
/// taking one accept (anything else is a 400 or a 404). Serialized once, at
/// start-up.
pub fn document_for(environments: &Environments) -> ServedDocument {
    ServedDocument(served(environments).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "could not serialize the OpenAPI document");
    }))
}

fn served(environments: &Environments) -> Result<Vec<u8>, serde_json::Error> {
    let mut doc = serde_json::to_value(ApiDoc::openapi())?;
    let names: Vec<serde_json::Value> = environments
        .iter()
        .map(|e| serde_json::Value::from(e.as_str()))
        .collect();
    let schemas = &mut doc["components"]["schemas"];
    schemas["Environment"]["enum"] = serde_json::Value::Array(names.clone());
    let mut or_empty = names;
    or_empty.push(serde_json::Value::from(""));
    schemas["EnvironmentFilter"]["enum"] = serde_json::Value::Array(or_empty);
    request_rules(schemas, environments);
    doc["paths"]["/api/v1/alerts/channels/{name}"]["put"]["requestBody"]["content"]["application/json"]
        ["schema"] = serde_json::json!({"$ref": "#/components/schemas/ChannelReplacement"});
    serde_json::to_vec(&doc)
}

/// The rules of request bodies that span fields, or that derive
/// attributes can't spell, added to their schemas: which fields go
/// together, and the syntax of texts the server parses.
fn request_rules(schemas: &mut serde_json::Value, environments: &Environments) {
    use serde_json::json;
    // `token::plan_token`: a service token holds roles (`role@environment`,
    // a bare role meaning every environment); a SCIM, worker or metrics
    // token holds none and can't make tokens; a token is at most one kind.
    let roles = Role::ALL.map(Role::as_str).join("|");
    let scopes: Vec<&str> = std::iter::once("\\*")
        .chain(environments.iter().map(|e| e.as_str()))
        .collect();
    let grant = format!("^\\s*({roles})(@({}))?\\s*$", scopes.join("|"));
    let token = &mut schemas["NewToken"];
    token["properties"]["name"]["pattern"] = json!("^[a-z0-9._-]{1,64}$");
    token["properties"]["roles"]["items"]["pattern"] = json!(grant);
    // `expires_in`: more than nothing, at most `MAX_LIFETIME_DAYS` (in
    // days or hours here; the server reads any humantime duration).
    token["properties"]["expires_in"]["pattern"] = json!(
        "^([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d$|^([1-9]|[1-9][0-9]{1,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-5][0-9]|8760)h$"
    );
    let special = |kind: &str| {
        let mut only = json!({
            "scim": {"const": false},
            "worker": {"const": false},
            "metrics": {"const": false},
            "roles": {"maxItems": 0},
            "can_create_tokens": {"const": false},
        });
        only[kind] = json!({"const": true});
        json!({"title": format!("a {kind} token"), "required": [kind], "properties": only})
    };
    token["anyOf"] = json!([
        {
            "title": "a service token",
            "required": ["roles"],
            "properties": {
                "scim": {"const": false},
                "worker": {"const": false},
                "metrics": {"const": false},
                "roles": {"minItems": 1},
            },
        },
        special("scim"),
        special("worker"),
        special("metrics"),
    ]);
    // `SecretsPlane::invalidate_checked`: one reference (placeholders
    // filled in) or one provider.
    let provider = "[a-z][a-z0-9-]{0,31}";
    schemas["SecretInvalidation"]["oneOf"] = json!([
        {
            "title": "one value",
            "required": ["reference"],
            "properties": {
                "reference": {
                    "type": "string",
                    // `check_path`: no white space, control characters or
                    // placeholders left.
                    "pattern": format!(
                        "^{provider}:[^\\s\\u0000-\\u001F\\u007F-\\u009F{{}}#]{{1,512}}(#[A-Za-z0-9_.-]{{1,128}})?$"
                    ),
                },
                "provider": {"type": "null"},
            },
        },
        {
            "title": "everything a provider cached",
            "required": ["provider"],
            "properties": {
                "provider": {"type": "string", "pattern": format!("^{provider}$")},
                "reference": {"type": "null"},
            },
        },
    ]);
    schemas["OverrideAsk"]["properties"]["quota"]["pattern"] = json!(QUOTA_PATTERN);
    // `ChannelSpec::validate`: what each kind of channel needs and takes.
    let url = json!({
        "type": "string",
        "maxLength": 2048,
        // A host name or IPv4 address, then an optional port (the server
        // takes an IPv6 address in brackets too).
        "pattern": "^https?://[^/?#@:\\[\\]\\s\\u0000-\\u001F\\u007F-\\u009F]+(:[0-9]{1,4})?([/?#][^\\s\\u0000-\\u001F\\u007F-\\u009F]*)?$",
    });
    let none = json!({"type": "null"});
    let unsigned = json!({
        "type": "array",
        "maxItems": 0,
        "items": {"$ref": "#/components/schemas/SigningKey"},
    });
    schemas["ChannelSpec"]["oneOf"] = json!([
        {
            "title": "webhook",
            "required": ["kind", "url"],
            "properties": {
                "kind": {"const": "webhook"},
                "url": url,
                "signing_keys": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "required": ["id", "secret"],
                        "properties": {
                            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                            "secret": {"type": "string", "minLength": 16},
                        },
                    },
                },
                "routing_key": none,
                "bearer_token": none,
            },
        },
        {
            "title": "slack",
            "required": ["kind", "url"],
            "properties": {
                "kind": {"const": "slack"},
                "url": url,
                "signing_keys": unsigned,
                "routing_key": none,
                "bearer_token": none,
            },
        },
        {
            "title": "pagerduty",
            "required": ["kind", "routing_key"],
            "properties": {
                "kind": {"const": "pagerduty"},
                "url": {"oneOf": [url, none]},
                "signing_keys": unsigned,
                "routing_key": {"type": "string", "maxLength": 128, "pattern": "\\S"},
                "bearer_token": none,
            },
        },
        {
            "title": "alertmanager",
            "required": ["kind", "url"],
            "properties": {
                "kind": {"const": "alertmanager"},
                "url": url,
                "signing_keys": unsigned,
                "routing_key": none,
            },
        },
    ]);
    // `PUT /alerts/channels/{name}`: the path names the channel, which
    // can't be renamed; a body repeating the name is still accepted.
    let mut replacement = schemas["ChannelSpec"].clone();
    if let Some(properties) = replacement["properties"].as_object_mut() {
        properties.remove("name");
    }
    if let Some(required) = replacement["required"].as_array_mut() {
        required.retain(|field| field != "name");
    }
    replacement["description"] =
        json!("A channel's new settings: `ChannelSpec` without `name` (the path's).");
    schemas["ChannelReplacement"] = replacement;
}

/// The served document's bytes (cheap to clone per request); `Err` if it
/// could not be serialized (logged at start-up).
#[derive(Clone)]
pub struct ServedDocument(Result<Bytes, ()>);

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
pub async fn document(Extension(doc): Extension<ServedDocument>) -> Response {
    match doc.0 {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(()) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the OpenAPI document could not be built (the server's log says why)",
        )
        .into_response(),
    }
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

    /// The limits the document declares are the ones the server checks
    /// (attributes take literals only, so this keeps them in step).
    #[test]
    fn documented_limits_are_the_servers() {
        use gantry_core::alert::view::AlertFilter;
        use gantry_core::audit::AuditFilter;
        use gantry_core::run::{LogQuery, RunFilter};
        let doc = doc();
        let limit = |path: &str| {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "limit")
                .unwrap()["schema"]
                .clone()
        };
        for (path, max) in [
            ("/api/v1/runs", RunFilter::MAX_LIMIT),
            ("/api/v1/runs/{id}/logs", LogQuery::MAX_LIMIT),
            ("/api/v1/audit", AuditFilter::MAX_LIMIT),
            ("/api/v1/alerts", AlertFilter::MAX_LIMIT),
            ("/api/v1/alerts/history", AlertFilter::MAX_LIMIT),
            ("/api/v1/alerts/notifications", AlertFilter::MAX_LIMIT),
        ] {
            assert_eq!(limit(path)["minimum"], 1, "{path}");
            assert_eq!(limit(path)["maximum"], max, "{path}");
        }
    }

    /// The patterns the document gives say what the parsers they mirror
    /// accept, on texts either side of each rule.
    #[test]
    fn documented_patterns_match_the_parsers() {
        use gantry_core::ratelimit::Quota;
        let matches =
            |pattern: &str, text: &str| regex::Regex::new(pattern).unwrap().is_match(text);
        let requests = ["0", "1", "600", "999999999", "1000000000", "x", ""];
        let windows = [
            "0s", "1", "1s", "86400", "86400s", "86401s", "1m", "1440m", "1441m", "1h", "24h",
            "25h", "1d", "m", "",
        ];
        for r in requests {
            for w in windows {
                for text in [format!("{r}/{w}"), format!(" {r} / {w} ")] {
                    let parsed = Quota::parse(&text).is_ok();
                    // The pattern stops at 9 digits of requests; the parser
                    // takes any u32.
                    if r == "1000000000" && parsed {
                        continue;
                    }
                    assert_eq!(matches(QUOTA_PATTERN, &text), parsed, "{text:?}");
                }
            }
        }
        for text in ["off", "OFF", " off ", "of", "offf"] {
            assert_eq!(
                matches(QUOTA_PATTERN, text),
                Quota::parse(text).is_ok(),
                "{text:?}"
            );
        }
        for text in ["a", "prod-eu-1", "", "0", "-a", "A", "a_b", &"a".repeat(33)] {
            assert_eq!(
                matches(ENVIRONMENT_NAME_PATTERN, text),
                Environment::parse(text).is_ok(),
                "{text:?}"
            );
        }
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
