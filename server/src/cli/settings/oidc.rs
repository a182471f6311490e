//! Validating the single sign-on flags (`--oidc-…`, `--role-mapping`):
//! every problem is one line naming the flag, and never shows a secret.

use crate::auth::oidc::OidcSettings;
use crate::cli::OidcFlags;
use gantry_core::Environments;
use gantry_core::role_mapping::{MappingRule, RoleMapping};
use secrecy::SecretString;

pub fn from_flags(
    flags: &OidcFlags,
    environments: &Environments,
) -> Result<(Option<OidcSettings>, RoleMapping), String> {
    let rules = flags
        .role_mapping
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            MappingRule::parse(r, environments)
                .map_err(|e| format!("--role-mapping (GANTRY_ROLE_MAPPING): {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mapping = RoleMapping::new(rules);
    let Some(issuer) = flags.oidc_issuer.as_deref().map(str::trim) else {
        let stray = [
            (flags.oidc_client_id.is_some(), "--oidc-client-id"),
            (flags.oidc_client_secret.is_some(), "--oidc-client-secret"),
            (
                flags.oidc_client_secret_file.is_some(),
                "--oidc-client-secret-file",
            ),
            (
                flags.oidc_client_secret_ref.is_some(),
                "--oidc-client-secret-ref",
            ),
            // --role-mapping alone is fine: SCIM-provisioned groups use it too.
        ];
        if let Some((_, flag)) = stray.iter().find(|(set, _)| *set) {
            return Err(format!(
                "{flag} is set but --oidc-issuer (GANTRY_OIDC_ISSUER) is not: set the issuer to enable single sign-on"
            ));
        }
        return Ok((None, mapping));
    };
    check_issuer(issuer)?;
    let client_id = match flags.oidc_client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => {
            return Err(
                "--oidc-issuer needs --oidc-client-id (GANTRY_OIDC_CLIENT_ID): the client id registered at the provider"
                    .into(),
            );
        }
    };
    let given = [
        flags.oidc_client_secret.is_some(),
        flags.oidc_client_secret_file.is_some(),
        flags.oidc_client_secret_ref.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(
            "the OIDC client secret is set more than once (both set): give one of --oidc-client-secret, --oidc-client-secret-file, --oidc-client-secret-ref"
                .into(),
        );
    }
    let client_secret_ref = match &flags.oidc_client_secret_ref {
        Some(r) => Some(crate::secrets::own::check(r).map_err(|e| {
            format!("--oidc-client-secret-ref (GANTRY_OIDC_CLIENT_SECRET_REF): {e}")
        })?),
        None => None,
    };
    let client_secret = match (&flags.oidc_client_secret, &flags.oidc_client_secret_file) {
        // Read from its provider at start (startup fills it in).
        _ if client_secret_ref.is_some() => "(from the reference)".to_owned(),
        (None, None) => {
            return Err(
                "--oidc-issuer needs --oidc-client-secret-file (GANTRY_OIDC_CLIENT_SECRET_FILE) or --oidc-client-secret (GANTRY_OIDC_CLIENT_SECRET)"
                    .into(),
            );
        }
        (Some(secret), _) => secret.trim().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| {
                format!(
                    "--oidc-client-secret-file (GANTRY_OIDC_CLIENT_SECRET_FILE): cannot read {}: {e}",
                    path.display()
                )
            })?
            .trim()
            .to_owned(),
    };
    if client_secret.is_empty() {
        return Err("the OIDC client secret is empty: check --oidc-client-secret(-file)".into());
    }
    let scopes: Vec<String> = flags
        .oidc_scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(format!(
            "--oidc-scopes (GANTRY_OIDC_SCOPES) {:?} must include openid",
            flags.oidc_scopes
        ));
    }
    for (value, flag) in [
        (&flags.oidc_groups_claim, "--oidc-groups-claim"),
        (&flags.oidc_username_claim, "--oidc-username-claim"),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{flag} must name a claim"));
        }
    }
    Ok((
        Some(OidcSettings {
            issuer: issuer.to_owned(),
            client_id,
            client_secret: crate::secrets::own::Rotating::new(SecretString::from(client_secret)),
            client_secret_ref,
            scopes,
            groups_claim: flags.oidc_groups_claim.trim().to_owned(),
            username_claim: flags.oidc_username_claim.trim().to_owned(),
            recheck_after: flags.oidc_recheck_after,
        }),
        mapping,
    ))
}

/// https, or http on a loopback host (a provider on this machine, e.g. in
/// tests): tokens must not cross a network in the clear.
fn check_issuer(issuer: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "--oidc-issuer (GANTRY_OIDC_ISSUER) {issuer:?} {why}"
        ))
    };
    let Ok(url) = reqwest::Url::parse(issuer) else {
        return fail("is not a URL");
    };
    let loopback = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => fail("must use https:// (http:// only for a provider on this machine)"),
        _ => fail("must start with https://"),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use crate::config::Config;
    use clap::Parser;

    fn parse(extra: &[&str]) -> Result<Config, String> {
        let mut argv = vec!["gantry", "serve"];
        argv.extend_from_slice(extra);
        let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!("parsed a serve command")
        };
        args.into_config().map_err(|e| e.to_string())
    }

    const OK: &[&str] = &[
        "--oidc-issuer",
        "https://idp.example.com/realms/main",
        "--oidc-client-id",
        "gantry",
        "--oidc-client-secret",
        "hunter2-secret",
    ];

    #[test]
    fn a_complete_configuration_enables_single_sign_on() {
        let mut argv = OK.to_vec();
        argv.extend([
            "--role-mapping",
            "sre=operator@dev,approver@prod",
            "--role-mapping",
            "platform-admins=admin@*",
        ]);
        let c = parse(&argv).unwrap();
        let oidc = c.oidc.unwrap();
        assert_eq!(oidc.issuer, "https://idp.example.com/realms/main");
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        assert_eq!(oidc.groups_claim, "groups");
        assert_eq!(oidc.username_claim, "preferred_username");
        assert_eq!(c.role_mapping.grants_for(&["sre".into()]).len(), 2);
        assert_eq!(
            c.role_mapping.grants_for(&["platform-admins".into()]).len(),
            1
        );
        assert!(parse(&[]).unwrap().oidc.is_none());
        // GANTRY_ROLE_MAPPING's entries are separated by `;` (as typed values are).
        let mut argv = OK.to_vec();
        argv.extend(["--role-mapping", "sre=viewer;security=auditor"]);
        let c = parse(&argv).unwrap();
        assert_eq!(
            c.role_mapping.grants_for(&["security".into()])[0].source,
            "group:security"
        );
    }

    #[test]
    fn each_bad_oidc_setting_names_its_flag_without_echoing_secrets() {
        let with = |extra: &[&'static str]| {
            let mut argv = OK.to_vec();
            argv.extend_from_slice(extra);
            argv
        };
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (
                vec!["--oidc-client-id", "gantry"],
                "--oidc-client-id is set but --oidc-issuer",
            ),
            (
                vec!["--oidc-issuer", "https://idp.example.com"],
                "--oidc-client-id",
            ),
            (
                vec![
                    "--oidc-issuer",
                    "http://idp.example.com",
                    "--oidc-client-id",
                    "g",
                    "--oidc-client-secret",
                    "hunter2-secret",
                ],
                "must use https://",
            ),
            (
                vec![
                    "--oidc-issuer",
                    "https://idp.example.com",
                    "--oidc-client-id",
                    "g",
                ],
                "--oidc-client-secret-file",
            ),
            (
                with(&["--oidc-client-secret-file", "/nonexistent/secret"]),
                "both set",
            ),
            (
                with(&["--oidc-scopes", "profile,email"]),
                "must include openid",
            ),
            (
                with(&["--role-mapping", "sre=operator@qa"]),
                "--role-mapping",
            ),
            (with(&["--role-mapping", "sre"]), "--role-mapping"),
        ];
        for (argv, needle) in cases {
            let err = parse(&argv).unwrap_err();
            assert!(err.contains(needle), "{argv:?} -> {err}");
            assert!(!err.contains('\n'), "one line: {err}");
            assert!(!err.contains("hunter2"), "never echo secrets: {err}");
        }
    }

    #[test]
    fn the_secret_can_come_from_a_file_and_http_only_for_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        let c = parse(&[
            "--oidc-issuer",
            "http://127.0.0.1:9999",
            "--oidc-client-id",
            "gantry",
            "--oidc-client-secret-file",
            file.to_str().unwrap(),
        ])
        .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.oidc.unwrap().client_secret.current().expose_secret(),
            "from-file"
        );
    }

    #[test]
    fn the_config_file_sections_become_these_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gantry.toml");
        std::fs::write(
            &path,
            r#"
[oidc]
issuer = "https://idp.example.com"
client_id = "gantry"
client_secret = "hunter2-secret"
scopes = ["openid", "profile", "groups"]
groups_claim = "roles"

[[role_mapping]]
group = "sre"
roles = ["operator@dev", "approver@prod"]

[[role_mapping]]
group = "security"
roles = ["auditor"]
"#,
        )
        .unwrap();
        let argv = ["gantry", "serve", "--config", path.to_str().unwrap()]
            .map(std::ffi::OsString::from)
            .to_vec();
        let expanded = crate::cli::settings::file::expand_with(argv, |_| None).unwrap();
        let Command::Serve(args) = Cli::try_parse_from(expanded).unwrap().command else {
            unreachable!("a serve command")
        };
        let c = args.into_config().unwrap();
        let oidc = c.oidc.unwrap();
        assert_eq!(oidc.scopes, ["openid", "profile", "groups"]);
        assert_eq!(oidc.groups_claim, "roles");
        assert_eq!(c.role_mapping.grants_for(&["sre".into()]).len(), 2);
        assert_eq!(c.role_mapping.grants_for(&["security".into()]).len(), 1);
    }
}
