use crate::spec::{SecretMount, SpecProblem, SpecRejection, parse};

fn problems_of(source: &str) -> Vec<SpecProblem> {
    match parse(source) {
        Err(SpecRejection::Invalid { problems }) => problems,
        other => panic!("expected problems for:\n{source}\ngot {other:?}"),
    }
}

/// One problem, as "line N: path: message".
fn only_problem(source: &str) -> String {
    let problems = problems_of(source);
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems[0].to_string()
}

fn shell_step(secrets: &str) -> String {
    format!("name: w\nsteps:\n  - id: a\n    run: echo \"$DB_PASSWORD\"\n    secrets:\n{secrets}")
}

fn http_step(headers: &str, body: &str, secrets: &str) -> String {
    format!(
        "name: w\nsteps:\n  - id: call\n    http:\n      method: POST\n      url: https://api.example.com/x\n      headers:\n{headers}      body: '{body}'\n    secrets:\n{secrets}"
    )
}

#[test]
fn a_spec_with_every_form_of_secret_is_accepted() {
    let spec = parse(&format!(
        "{}      CA_CERT: {{ ref: \"file:/run/secrets/ca.pem\", as: file }}\n      TOKEN: {{ ref: \"vault-db:database/creds/{{workflow}}-ro\" }}\n    env:\n      MODE: fast\n",
        shell_step("      DB_PASSWORD: \"vault:kv/data/{env}/db#password\"\n")
    ))
    .unwrap();
    let secrets = &spec.steps[0].secrets;
    assert_eq!(secrets.len(), 3);
    assert_eq!(secrets["CA_CERT"].mount, SecretMount::File);
    assert_eq!(secrets["TOKEN"].mount, SecretMount::Env);
    assert_eq!(
        secrets["DB_PASSWORD"].reference,
        "vault:kv/data/{env}/db#password"
    );

    let http = parse(&http_step(
        "        Authorization: 'Bearer ${{ secrets.TOKEN }}'\n",
        "{\"key\": \"${{ secrets.TOKEN }}\"}",
        "      TOKEN: \"vault:kv/data/shared/api#token\"\n",
    ))
    .unwrap();
    assert_eq!(http.steps[0].secrets.len(), 1);
}

#[test]
fn secrets_leave_the_hash_of_specs_without_them_alone() {
    let source = "name: w\nsteps:\n  - id: a\n    run: 'true'\n";
    let plain = parse(source).unwrap();
    let with_empty = parse(&format!("{source}    secrets: {{}}\n")).unwrap();
    assert_eq!(
        plain.canonical_json(),
        r#"{"name":"w","steps":[{"id":"a","run":"true"}]}"#
    );
    assert_eq!(with_empty.content_hash(), plain.content_hash());
    let short = parse(&format!("{source}    secrets: {{ A: \"env:A\" }}\n")).unwrap();
    let long = parse(&format!(
        "{source}    secrets: {{ A: {{ ref: \"env:A\", as: env }} }}\n"
    ))
    .unwrap();
    assert_eq!(short.content_hash(), long.content_hash());
    assert_ne!(short.content_hash(), plain.content_hash());
}

#[test]
fn bad_names_and_references_are_reported_at_their_line() {
    let cases = [
        (
            "      db_password: \"env:A\"\n",
            "line 6: steps[0].secrets.db_password: secret name \"db_password\" must be 1-64 uppercase letters, digits and _, not starting with a digit",
        ),
        (
            "      GANTRY_DB: \"env:A\"\n",
            "line 6: steps[0].secrets.GANTRY_DB: secret names starting with GANTRY_ are reserved for Gantry; rename GANTRY_DB",
        ),
        (
            "      PATH: \"env:A\"\n",
            "line 6: steps[0].secrets.PATH: PATH is set by the shell or the system and can't be a secret's name; rename it",
        ),
        (
            "      DB_PASSWORD: \"vault:kv/data/{stage}/db#password\"\n",
            "line 6: steps[0].secrets.DB_PASSWORD: unknown placeholder near \"{stage}/db\" in secret path; only {env} and {workflow} are filled in",
        ),
        (
            "      DB_PASSWORD: \"vault:kv/data/db\"\n",
            "line 6: steps[0].secrets.DB_PASSWORD: a vault reference names a key of the KV entry: vault:kv/data/db#KEY",
        ),
        (
            "      DB_PASSWORD:\n        ref: \"vault-db:database/creds/ro#password\"\n",
            "line 6: steps[0].secrets.DB_PASSWORD: vault-db references have no #key; remove \"#password\"",
        ),
    ];
    for (secrets, want) in cases {
        assert_eq!(only_problem(&shell_step(secrets)), want, "{secrets}");
    }
}

#[test]
fn a_secret_may_not_share_its_name_with_an_env_variable() {
    let source = format!(
        "{}    env:\n      DB_PASSWORD: hunter2\n",
        shell_step("      DB_PASSWORD: \"env:DB\"\n")
    );
    assert_eq!(
        only_problem(&source),
        "line 6: steps[0].secrets.DB_PASSWORD: DB_PASSWORD is also set under env; a variable comes from one place, rename one"
    );
}

#[test]
fn a_step_has_at_most_thirty_two_secrets() {
    let mut secrets = String::new();
    for i in 0..33 {
        secrets.push_str(&format!("      S{i}: \"env:S{i}\"\n"));
    }
    assert_eq!(
        only_problem(&shell_step(&secrets)),
        "line 5: steps[0].secrets: a step has at most 32 secrets; this one has 33"
    );
}

#[test]
fn malformed_declarations_are_refused_by_the_parser() {
    let problems = problems_of(&shell_step(
        "      DB_PASSWORD: { ref: \"env:A\", as: disk }\n",
    ));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("disk"),
        "{}",
        problems[0].message
    );
    let problems = problems_of(&shell_step(
        "      DB_PASSWORD: { ref: \"env:A\", mode: file }\n",
    ));
    assert!(problems[0].message.contains("mode"), "{problems:?}");
}

#[test]
fn shell_steps_never_get_secrets_as_script_text() {
    let source = "name: w\nsteps:\n  - id: a\n    run: echo ${{ secrets.DB_PASSWORD }}\n    env:\n      X: ${{ secrets.DB_PASSWORD }}\n    secrets:\n      DB_PASSWORD: \"env:DB\"\n";
    let problems: Vec<String> = problems_of(source)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "line 4: steps[0].run: ${{ secrets.DB_PASSWORD }} can't be written into a shell step; declare DB_PASSWORD under secrets and read it as \"$DB_PASSWORD\"",
            "line 6: steps[0].env.X: ${{ secrets.DB_PASSWORD }} can't be written into a shell step; declare DB_PASSWORD under secrets and read it as \"$DB_PASSWORD\"",
        ]
    );
}

#[test]
fn http_steps_use_only_declared_secrets_and_only_in_headers_and_body() {
    let undeclared = http_step(
        "        Authorization: 'Bearer ${{ secrets.TOKEN }}'\n",
        "{}",
        "      OTHER: \"env:OTHER\"\n",
    );
    assert_eq!(
        only_problem(&undeclared),
        "line 8: steps[0].http.headers.Authorization: unknown secret \"TOKEN\" in ${{ secrets.TOKEN }}; declare it under this step's secrets"
    );
    let in_body = http_step(
        "        A: b\n",
        "${{ secrets.NOPE }}",
        "      OTHER: \"env:OTHER\"\n",
    );
    assert_eq!(
        only_problem(&in_body),
        "line 9: steps[0].http.body: unknown secret \"NOPE\" in ${{ secrets.NOPE }}; declare it under this step's secrets"
    );
    let in_url = "name: w\nsteps:\n  - id: call\n    http:\n      method: GET\n      url: https://api.example.com/${{ secrets.TOKEN }}\n    secrets:\n      TOKEN: \"env:TOKEN\"\n";
    assert_eq!(
        only_problem(in_url),
        "line 6: steps[0].http.url: ${{ secrets.TOKEN }} may only appear in an http step's headers or body; the url is stored and shown"
    );
    let as_file = http_step(
        "        A: b\n",
        "{}",
        "      CA: { ref: \"file:/ca.pem\", as: file }\n",
    );
    assert_eq!(
        only_problem(&as_file),
        "line 11: steps[0].secrets.CA: as: file is for shell steps (run); an http step uses ${{ secrets.NAME }} in headers or body"
    );
}

#[test]
fn a_secret_is_only_visible_to_the_step_that_declares_it() {
    let source = "name: w\nsteps:\n  - id: a\n    run: 'true'\n    secrets:\n      TOKEN: \"env:TOKEN\"\n  - id: call\n    needs: [a]\n    http:\n      method: GET\n      url: https://api.example.com/\n      headers:\n        Authorization: ${{ secrets.TOKEN }}\n";
    assert_eq!(
        only_problem(source),
        "line 13: steps[1].http.headers.Authorization: unknown secret \"TOKEN\" in ${{ secrets.TOKEN }}; declare it under this step's secrets"
    );
}

#[test]
fn dynamic_credentials_are_two_variables_of_a_shell_step() {
    // In an HTTP step, or mounted as a file: refused, saying what it is.
    let in_http = only_problem(&http_step(
        "        X: a\n",
        "{}",
        "      DB: \"vault-db:database/creds/ro\"\n",
    ));
    assert!(
        in_http.contains("vault-db credentials are for shell steps"),
        "{in_http}"
    );
    let as_file = only_problem(&shell_step(
        "      DB: { ref: \"vault-db:database/creds/ro\", as: file }\n",
    ));
    assert!(as_file.contains("as: file is not offered"), "{as_file}");
    // `DB_USERNAME` is where the username goes: it can't be declared too.
    let clash = only_problem(&format!(
        "{}    env:\n      DB_USERNAME: me\n",
        shell_step("      DB: \"vault-db:database/creds/ro\"\n")
    ));
    assert!(
        clash.contains("DB_USERNAME is where this credential's username goes"),
        "{clash}"
    );
    assert!(parse(&shell_step("      DB: \"vault-db:database/creds/ro\"\n")).is_ok());
}
