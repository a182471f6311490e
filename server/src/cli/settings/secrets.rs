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
        Ok(SecretSettings {
            vault,
            vault_overrides,
            env_prefix,
            file_root: flags.secrets_file_root.clone(),
            fetch_timeout: flags.secrets_fetch_timeout,
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
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
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
