//! The secret providers' settings from the `--vault-*` and `--secrets-*`
//! flags, so `secrets/` never sees a clap type.

use crate::cli::secret_providers::SecretProviderFlags;
use crate::secrets::SecretSettings;
use crate::secrets::vault::{VaultAuth, VaultSettings};
use gantry_core::{Environment, Environments};
use std::path::PathBuf;

impl SecretSettings {
    pub fn from_flags(
        flags: &SecretProviderFlags,
        // `None` in a remote worker, which doesn't know the server's list.
        environments: Option<&Environments>,
    ) -> Result<Self, String> {
        if flags.secrets_fetch_timeout.is_zero() {
            return Err(
                "--secrets-fetch-timeout (GANTRY_SECRETS_FETCH_TIMEOUT) must be longer than zero"
                    .into(),
            );
        }
        if flags.vault_timeout.is_zero() {
            return Err("--vault-timeout (GANTRY_VAULT_TIMEOUT) must be longer than zero".into());
        }
        let vault = match &flags.vault_addr {
            None => {
                let stray = [
                    flags.vault_token_file.is_some(),
                    flags.vault_role_id.is_some(),
                    flags.vault_secret_id_file.is_some(),
                ];
                if stray.contains(&true) {
                    return Err(
                        "--vault-token-file, --vault-role-id and --vault-secret-id-file need --vault-addr (GANTRY_VAULT_ADDR)"
                            .into(),
                    );
                }
                None
            }
            Some(addr) => Some(VaultSettings {
                addr: check_addr(addr)
                    .map_err(|e| format!("--vault-addr (GANTRY_VAULT_ADDR): {e}"))?,
                auth: auth(
                    flags.vault_token_file.clone(),
                    flags.vault_role_id.clone(),
                    flags.vault_secret_id_file.clone(),
                    &flags.vault_approle_mount,
                )?,
                namespace: flags.vault_namespace.clone().filter(|n| !n.is_empty()),
                ca_cert: flags.vault_ca_cert.clone(),
                timeout: flags.vault_timeout,
                mount: None,
            }),
        };
        let mut vault_overrides = Vec::new();
        for raw in &flags.vault_env_override {
            let (env, settings) =
                override_of(raw, vault.as_ref(), flags, environments).map_err(|e| {
                    format!("--vault-env-override (GANTRY_VAULT_ENV_OVERRIDE) {raw:?}: {e}")
                })?;
            if vault_overrides.iter().any(|(e, _)| *e == env) {
                return Err(format!(
                    "--vault-env-override names {env} twice: give each environment one override"
                ));
            }
            vault_overrides.push((env, settings));
        }
        let env_prefix =
            match &flags.secrets_env_prefix {
                None => None,
                Some(p) => Some(check_prefix(p).map_err(|e| {
                    format!("--secrets-env-prefix (GANTRY_SECRETS_ENV_PREFIX): {e}")
                })?),
            };
        if let Some(root) = &flags.secrets_file_root
            && !root.is_dir()
        {
            return Err(format!(
                "--secrets-file-root (GANTRY_SECRETS_FILE_ROOT): {} is not a directory",
                root.display()
            ));
        }
        let mut cache_ttls = Vec::new();
        for item in flags
            .secrets_cache_ttl
            .iter()
            .map(|i| i.trim())
            .filter(|i| !i.is_empty())
        {
            let bad = |why: &str| {
                format!("--secrets-cache-ttl (GANTRY_SECRETS_CACHE_TTL) {item:?}: {why}")
            };
            let (name, ttl) = item
                .split_once('=')
                .ok_or_else(|| bad("write PROVIDER=DURATION, e.g. vault=30s"))?;
            if !matches!(name, "vault" | "env" | "file") {
                return Err(bad(
                    "only vault, env and file values are cached (vault-db hands each attempt its own credential)",
                ));
            }
            let ttl = humantime::parse_duration(ttl)
                .ok()
                .filter(|t| !t.is_zero() && *t <= std::time::Duration::from_secs(3600))
                .ok_or_else(|| bad("the TTL is a duration from 1s to 1h"))?;
            cache_ttls.push((name.to_owned(), ttl));
        }
        Ok(SecretSettings {
            vault,
            vault_overrides,
            env_prefix,
            file_root: flags.secrets_file_root.clone(),
            fetch_timeout: flags.secrets_fetch_timeout,
            cache_ttls,
        })
    }
}

/// An http(s) URL; plain http only to loopback, where nothing crosses a
/// network.
fn check_addr(addr: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(addr)
        .ok()
        .filter(|u| u.host_str().is_some())
        .ok_or_else(|| format!("{addr:?} is not a URL like https://vault.example.com:8200"))?;
    let loopback = crate::runtime::net::is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "{addr} is plain http to another machine; use https (secrets and tokens would cross the network in the clear)"
            ));
        }
        other => return Err(format!("{other}:// is not http or https")),
    }
    Ok(addr.trim_end_matches('/').to_owned())
}

fn auth(
    token_file: Option<PathBuf>,
    role_id: Option<String>,
    secret_id_file: Option<PathBuf>,
    approle_mount: &str,
) -> Result<VaultAuth, String> {
    match (token_file, role_id, secret_id_file) {
        (Some(file), None, None) => Ok(VaultAuth::TokenFile(file)),
        (None, Some(role_id), Some(secret_id_file)) if !role_id.is_empty() => Ok(VaultAuth::AppRole {
            role_id,
            secret_id_file,
            mount: approle_mount.trim_matches('/').to_owned(),
        }),
        (None, None, None) => Err(
            "--vault-addr needs a login: --vault-token-file, or --vault-role-id with --vault-secret-id-file"
                .into(),
        ),
        (Some(_), _, _) => Err(
            "give either --vault-token-file or --vault-role-id with --vault-secret-id-file, not both"
                .into(),
        ),
        _ => Err("--vault-role-id and --vault-secret-id-file go together".into()),
    }
}

/// `ENV:key=value,…` over the shared settings.
fn override_of(
    raw: &str,
    base: Option<&VaultSettings>,
    flags: &SecretProviderFlags,
    environments: Option<&Environments>,
) -> Result<(String, VaultSettings), String> {
    let (env, pairs) = raw
        .split_once(':')
        .ok_or("write ENV:key=value,… e.g. prod:mount=kv-prod")?;
    let parsed = Environment::parse(env).map_err(|e| format!("{env:?}: {e}"))?;
    if environments.is_some_and(|known| !known.contains(&parsed)) {
        return Err(format!("this server has no environment {env}"));
    }
    let (mut addr, mut token_file, mut role_id, mut secret_id_file) = (None, None, None, None);
    let (mut namespace, mut ca_cert, mut mount, mut approle_mount) = (None, None, None, None);
    for pair in pairs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not key=value"))?;
        let value = value.trim().to_owned();
        match key.trim() {
            "addr" => addr = Some(check_addr(&value)?),
            "token_file" => token_file = Some(PathBuf::from(value)),
            "role_id" => role_id = Some(value),
            "secret_id_file" => secret_id_file = Some(PathBuf::from(value)),
            "approle_mount" => approle_mount = Some(value),
            "namespace" => namespace = Some(value),
            "ca_cert" => ca_cert = Some(PathBuf::from(value)),
            "mount" if is_mount(&value) => mount = Some(value),
            "mount" => {
                return Err(format!(
                    "mount {value:?} must be one path segment, like kv-prod"
                ));
            }
            other => {
                return Err(format!(
                    "unknown key {other}; use addr, token_file, role_id, secret_id_file, approle_mount, namespace, ca_cert or mount"
                ));
            }
        }
    }
    let own_login = token_file.is_some() || role_id.is_some() || secret_id_file.is_some();
    let auth = if own_login {
        auth(
            token_file,
            role_id,
            secret_id_file,
            approle_mount
                .as_deref()
                .unwrap_or(&flags.vault_approle_mount),
        )?
    } else {
        base.map(|b| b.auth.clone())
            .ok_or("without --vault-addr the override needs its own login (token_file, or role_id with secret_id_file)")?
    };
    let addr = addr
        .or_else(|| base.map(|b| b.addr.clone()))
        .ok_or("without --vault-addr the override needs addr=")?;
    Ok((
        env.to_owned(),
        VaultSettings {
            addr,
            auth,
            namespace: namespace.or_else(|| base.and_then(|b| b.namespace.clone())),
            ca_cert: ca_cert.or_else(|| base.and_then(|b| b.ca_cert.clone())),
            timeout: flags.vault_timeout,
            mount,
        },
    ))
}

fn is_mount(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Variable names only, and never Gantry's own.
fn check_prefix(prefix: &str) -> Result<String, String> {
    if prefix.is_empty()
        || !prefix
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_')
    {
        return Err(format!(
            "{prefix:?} must be letters, digits and _, like APP_SECRET_"
        ));
    }
    if "GANTRY_".starts_with(prefix) || prefix.starts_with("GANTRY_") {
        return Err(format!(
            "{prefix} would expose Gantry's own settings (GANTRY_*); choose another prefix"
        ));
    }
    Ok(prefix.to_owned())
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
        args.into_config().map_err(|e| e.0)
    }

    #[test]
    fn each_bad_secret_setting_names_its_flag() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "--vault-addr",
                    "http://10.0.0.5:8200",
                    "--vault-token-file",
                    "/t",
                ],
                "--vault-addr (GANTRY_VAULT_ADDR): http://10.0.0.5:8200 is plain http",
            ),
            (
                &["--vault-addr", "vault:8200", "--vault-token-file", "/t"],
                "--vault-addr",
            ),
            (
                &["--vault-addr", "https://v:8200"],
                "--vault-addr needs a login",
            ),
            (&["--vault-token-file", "/t"], "need --vault-addr"),
            (
                &["--vault-addr", "https://v", "--vault-role-id", "r"],
                "--vault-role-id and --vault-secret-id-file go together",
            ),
            (
                &[
                    "--vault-addr",
                    "https://v",
                    "--vault-token-file",
                    "/t",
                    "--vault-role-id",
                    "r",
                    "--vault-secret-id-file",
                    "/s",
                ],
                "not both",
            ),
            (&["--secrets-env-prefix", "GANTRY_"], "--secrets-env-prefix"),
            (&["--secrets-env-prefix", "GAN"], "GANTRY_*"),
            (&["--secrets-env-prefix", "A-B"], "letters, digits and _"),
            (
                &["--secrets-file-root", "/nonexistent/dir"],
                "--secrets-file-root",
            ),
            (
                &["--secrets-fetch-timeout", "0s"],
                "--secrets-fetch-timeout",
            ),
            (
                &["--vault-env-override", "prd:mount=kv-prod"],
                "this server has no environment prd",
            ),
            (
                &["--vault-env-override", "prod:mount=kv-prod"],
                "without --vault-addr the override needs its own login",
            ),
            (
                &[
                    "--vault-addr",
                    "https://v",
                    "--vault-token-file",
                    "/t",
                    "--vault-env-override",
                    "prod:colour=blue",
                ],
                "unknown key colour",
            ),
            (
                &[
                    "--vault-addr",
                    "https://v",
                    "--vault-token-file",
                    "/t",
                    "--vault-env-override",
                    "prod:mount=a/b",
                ],
                "one path segment",
            ),
            (
                &[
                    "--oidc-issuer",
                    "https://idp.example",
                    "--oidc-client-id",
                    "g",
                    "--oidc-client-secret",
                    "s3cret",
                    "--oidc-client-secret-ref",
                    "vault:kv/data/g#s",
                ],
                "both set",
            ),
            (
                &[
                    "--oidc-issuer",
                    "https://idp.example",
                    "--oidc-client-id",
                    "g",
                    "--oidc-client-secret-ref",
                    "vault:kv/data/{env}/g#s",
                ],
                "--oidc-client-secret-ref (GANTRY_OIDC_CLIENT_SECRET_REF): vault:kv/data/{env}/g#s has a placeholder",
            ),
            (
                &[
                    "--audit-sink-url",
                    "https://siem.example",
                    "--audit-sink-token-ref",
                    "vault:kv/data/siem",
                ],
                "--audit-sink-token-ref",
            ),
        ];
        for (argv, expected) in cases {
            let err = parse(argv).unwrap_err();
            assert!(err.contains(expected), "{argv:?} -> {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn overrides_inherit_what_they_dont_say() {
        let c = parse(&[
            "--vault-addr",
            "https://vault.example.com:8200/",
            "--vault-token-file",
            "/etc/gantry/vault-token",
            "--vault-namespace",
            "team-a",
            "--vault-env-override",
            "prod:mount=kv-prod",
            "--vault-env-override",
            "stage:addr=https://vault-stage:8200,role_id=r1,secret_id_file=/etc/s",
        ])
        .unwrap();
        let vault = c.secrets.vault.as_ref().unwrap();
        assert_eq!(vault.addr, "https://vault.example.com:8200");
        let (env, prod) = &c.secrets.vault_overrides[0];
        assert_eq!(env, "prod");
        assert_eq!(prod.mount.as_deref(), Some("kv-prod"));
        assert_eq!(prod.addr, vault.addr);
        assert_eq!(prod.auth, vault.auth);
        assert_eq!(prod.namespace.as_deref(), Some("team-a"));
        let (_, stage) = &c.secrets.vault_overrides[1];
        assert_eq!(stage.addr, "https://vault-stage:8200");
        assert!(matches!(
            &stage.auth,
            crate::secrets::vault::VaultAuth::AppRole { role_id, mount, .. }
                if role_id == "r1" && mount == "approle"
        ));
        // Loopback may be plain http (a dev server, an agent on the host).
        assert!(
            parse(&[
                "--vault-addr",
                "http://127.0.0.1:8200",
                "--vault-token-file",
                "/t"
            ])
            .is_ok()
        );
        // The token and secret-id files are out of steps' reach.
        let protected = c.secrets.protected_paths();
        assert!(protected.contains(&"/etc/gantry/vault-token".into()));
        assert!(protected.contains(&"/etc/s".into()));
    }
}
