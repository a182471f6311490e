use super::*;
use crate::spec::StepSpec;

fn parsed(text: &str) -> SecretRef {
    SecretRef::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn references_read_provider_path_and_key() {
    let r = parsed("vault:kv/data/{env}/db#password");
    assert_eq!(r.provider(), "vault");
    assert_eq!(r.path(), "kv/data/{env}/db");
    assert_eq!(r.key(), Some("password"));
    assert_eq!(r.placeholders(), &[Placeholder::Env]);
    assert_eq!(r.to_string(), "vault:kv/data/{env}/db#password");

    let dynamic = parsed("vault-db:database/creds/readonly");
    assert_eq!(dynamic.provider(), "vault-db");
    assert_eq!(dynamic.key(), None);
    assert!(dynamic.placeholders().is_empty());

    assert_eq!(parsed("env:DB_PASSWORD").path(), "DB_PASSWORD");
    assert_eq!(parsed("file:/run/secrets/x").path(), "/run/secrets/x");
    // A provider the server may know (it checks configuration at apply).
    assert_eq!(parsed("aws-sm2:prod/api#token.v1").key(), Some("token.v1"));
}

#[test]
fn resolve_fills_in_environment_and_workflow() {
    let r = parsed("vault:kv/{workflow}/{env}/db-{env}#password");
    assert_eq!(r.placeholders(), &[Placeholder::Workflow, Placeholder::Env]);
    assert_eq!(r.resolve_path("prod", "deploy"), "kv/deploy/prod/db-prod");
    assert_eq!(
        r.resolve("prod", "deploy"),
        "vault:kv/deploy/prod/db-prod#password"
    );
    assert_eq!(
        parsed("vault-db:database/creds/{env}-ro").resolve("dev", "w"),
        "vault-db:database/creds/dev-ro"
    );
}

#[test]
fn bad_references_say_what_to_fix() {
    let long_path = format!("vault:{}#k", "a".repeat(MAX_SECRET_PATH_CHARS + 1));
    let long_key = format!("vault:kv/x#{}", "k".repeat(MAX_SECRET_KEY_CHARS + 1));
    let cases = [
        (
            "kv/data/db",
            "secret reference \"kv/data/db\" has no provider; write provider:path#key, e.g. vault:kv/data/{env}/db#password",
        ),
        (
            "Vault:kv/x#k",
            "secret provider \"Vault\" must be 1-32 lowercase letters, digits and -, starting with a letter",
        ),
        (
            ":kv/x#k",
            "secret provider \"\" must be 1-32 lowercase letters, digits and -, starting with a letter",
        ),
        (
            "vault:#k",
            "secret reference has an empty path after the provider",
        ),
        (
            "vault:kv/my db#k",
            "secret path \"kv/my db\" contains whitespace or control characters",
        ),
        (
            "vault:kv/{environment}/db#k",
            "unknown placeholder near \"{environment}/db\" in secret path; only {env} and {workflow} are filled in",
        ),
        (
            "vault:kv/{{env}}#k",
            "unknown placeholder near \"{{env}}\" in secret path; only {env} and {workflow} are filled in",
        ),
        (
            "vault:kv/x}#k",
            "unknown placeholder near \"}\" in secret path; only {env} and {workflow} are filled in",
        ),
        (
            "vault:kv/x#",
            "secret key \"\" must be 1-128 letters, digits, _, . or -",
        ),
        (
            "vault:kv/x#a#b",
            "secret key \"a#b\" must be 1-128 letters, digits, _, . or -",
        ),
        (
            "vault:kv/data/db",
            "a vault reference names a key of the KV entry: vault:kv/data/db#KEY",
        ),
        (
            "vault-db:database/creds/ro#user",
            "vault-db references have no #key; remove \"#user\"",
        ),
        ("env:A#b", "env references have no #key; remove \"#b\""),
        (
            "env:db-password",
            "env:db-password must name an environment variable (letters, digits and _)",
        ),
        (
            "file:run/secrets/x",
            "file:run/secrets/x must be an absolute path, e.g. file:/run/secrets/db",
        ),
        (
            long_path.as_str(),
            "secret path is longer than 512 characters",
        ),
        (
            long_key.as_str(),
            "must be 1-128 letters, digits, _, . or -",
        ),
    ];
    for (text, want) in cases {
        let err = SecretRef::parse(text).unwrap_err();
        assert!(err.ends_with(want), "{text}: {err}");
    }
}

#[test]
fn secret_names_follow_env_rules_and_avoid_reserved_ones() {
    let longest = "A".repeat(MAX_SECRET_NAME_CHARS);
    for ok in ["DB_PASSWORD", "_X", "TOKEN2", longest.as_str()] {
        assert_eq!(secret_name_problem(ok), None, "{ok}");
    }
    let too_long = "A".repeat(MAX_SECRET_NAME_CHARS + 1);
    for bad in ["", "db_password", "2FA", "A-B", "A.B", too_long.as_str()] {
        assert_eq!(
            secret_name_problem(bad),
            Some(format!(
                "secret name \"{bad}\" must be 1-64 uppercase letters, digits and _, not starting with a digit"
            )),
            "{bad}"
        );
    }
    assert_eq!(
        secret_name_problem("GANTRY_TOKEN").as_deref(),
        Some("secret names starting with GANTRY_ are reserved for Gantry; rename GANTRY_TOKEN")
    );
    for reserved in RESERVED_SECRET_NAMES {
        assert_eq!(
            secret_name_problem(reserved),
            Some(format!(
                "{reserved} is set by the shell or the system and can't be a secret's name; rename it"
            ))
        );
    }
}

#[test]
fn both_spellings_read_and_serialize_to_one_canonical_form() {
    let short: StepSecret = serde_json::from_str(r#""env:A""#).unwrap();
    let long: StepSecret = serde_json::from_str(r#"{"ref":"env:A"}"#).unwrap();
    let long_env: StepSecret = serde_json::from_str(r#"{"ref":"env:A","as":"env"}"#).unwrap();
    assert_eq!(short, long);
    assert_eq!(short, long_env);
    assert_eq!(serde_json::to_string(&long).unwrap(), r#""env:A""#);

    let file: StepSecret = serde_json::from_str(r#"{"as":"file","ref":"file:/x"}"#).unwrap();
    assert_eq!(file.mount, SecretMount::File);
    assert_eq!(
        serde_json::to_string(&file).unwrap(),
        r#"{"ref":"file:/x","as":"file"}"#
    );
    assert_eq!(
        serde_json::from_str::<StepSecret>(&serde_json::to_string(&file).unwrap()).unwrap(),
        file
    );
    for bad in [
        r#"{"ref":"env:A","as":"disk"}"#,
        r#"{"ref":"env:A","mode":"file"}"#,
        r#"{"as":"file"}"#,
        "3",
    ] {
        assert!(serde_json::from_str::<StepSecret>(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_step_without_secrets_keeps_its_canonical_form() {
    let step: StepSpec = serde_json::from_str(r#"{"id":"a","run":"true","secrets":{}}"#).unwrap();
    assert!(step.secrets.is_empty());
    assert_eq!(
        serde_json::to_string(&step).unwrap(),
        r#"{"id":"a","run":"true"}"#
    );
}

#[test]
fn referenced_providers_lists_each_parseable_provider_once() {
    let spec: WorkflowSpec = serde_json::from_value(serde_json::json!({
        "name": "w",
        "steps": [
            {"id": "a", "run": "true", "secrets": {
                "A": "vault:kv/a#k", "B": "vault-db:database/creds/ro", "C": "not a reference"
            }},
            {"id": "b", "run": "true", "secrets": {
                "D": {"ref": "file:/run/secrets/d", "as": "file"}, "E": "vault:kv/e#k"
            }},
            {"id": "c", "run": "true"}
        ]
    }))
    .unwrap();
    assert_eq!(
        referenced_providers(&spec).into_iter().collect::<Vec<_>>(),
        vec!["file", "vault", "vault-db"]
    );
}
