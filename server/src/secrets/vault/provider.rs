//! The `SecretProvider` for OpenBao/Vault KV version 2.
//!
//! A fetch reads the entry once. If the server refuses (403), Gantry's token
//! may have expired or been revoked rather than lack the policy: a token
//! lookup tells which, and only then Gantry logs in again and retries once,
//! so a real denial costs one extra request, not a login.

use super::client::Server;
use super::failure::Failure;
use super::kv::{self, Entry};
use super::path::KvPath;
use super::session::{Session, Sessions};
use super::{VaultAuth, VaultSettings};
use gantry_core::secret::{
    FetchError, FetchRequest, Fetched, ProviderHealth, SecretLease, SecretProvider,
};
use std::fmt;

/// `sys/health` answers 200 whatever the node's state when asked to, so a
/// sealed or standby server reads as reachable and the body says the rest.
const HEALTH: &str = "sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200";
const LOOKUP_SELF: &str = "auth/token/lookup-self";

pub struct VaultProvider {
    settings: VaultSettings,
    server: Server,
    sessions: Sessions,
    engine: Engine,
}

/// Which secrets engine the references this provider answers name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// `vault:` — a key of a KV v2 entry.
    Kv,
    /// `vault-db:` — a fresh database credential under a lease.
    Database,
}

impl VaultProvider {
    /// Checks the settings and reads the credentials' files; sends nothing,
    /// so Gantry starts while the server is down. An error is one line
    /// naming the flag to fix.
    pub async fn connect(settings: VaultSettings) -> Result<Self, String> {
        let server = Server::new(&settings)?;
        let sessions = Sessions::new(settings.auth.clone(), &server)?;
        Ok(Self {
            settings,
            server,
            sessions,
            engine: Engine::Kv,
        })
    }

    /// The same server and login, answering `vault-db:` references.
    pub fn dynamic(mut self) -> Self {
        self.engine = Engine::Database;
        self
    }

    /// A request through the current session; when refused because the
    /// token itself died, once more after a new login (as [`Self::read`]).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), Failure> {
        let session = self.sessions.current(&self.server).await?;
        let first = self
            .server
            .call(
                method.clone(),
                path,
                Some(&session.token),
                true,
                body.clone(),
            )
            .await?;
        if first.0 != 403 || !self.token_rejected(&session).await {
            return Ok(first);
        }
        let fresh = self
            .sessions
            .replace(session.generation, &self.server)
            .await?;
        self.server
            .call(method, path, Some(&fresh.token), true, body)
            .await
    }

    /// An error status as a failure carrying the server's reasons only.
    fn status(answer: (u16, serde_json::Value)) -> Result<serde_json::Value, Failure> {
        match answer {
            (200..=299, body) => Ok(body),
            (code, body) => Err(Failure::Status {
                code,
                errors: body["errors"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .filter_map(|x| x.as_str())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
        }
    }

    async fn issue(&self, path: &str) -> Result<Fetched, FetchError> {
        let reference = format!("vault-db:{path}");
        let api_path = super::dynamic::api_path(path, self.settings.mount.as_deref())
            .map_err(FetchError::Other)?;
        let body = self
            .call(reqwest::Method::GET, &api_path, None)
            .await
            .and_then(Self::status)
            .map_err(|failure| self.lease_error(failure, &reference, &api_path))?;
        super::dynamic::credential(&body, &reference)
    }

    fn lease_error(&self, failure: Failure, reference: &str, api_path: &str) -> FetchError {
        let why = failure.describe();
        match failure {
            Failure::Status { code: 404, .. } | Failure::Status { code: 400, .. } => {
                FetchError::NotFound(format!("{reference}: {api_path} ({why})"))
            }
            Failure::Status { code: 403, .. } => FetchError::Denied(format!(
                "{reference}: Gantry's token may not use {api_path} ({why})"
            )),
            Failure::Unreachable(_) => {
                FetchError::Unreachable(format!("{reference}: {}: {why}", self.server.addr()))
            }
            Failure::Login(_) => FetchError::Denied(format!("{reference}: {why}")),
            _ => FetchError::Other(format!("{reference}: {why}")),
        }
    }

    pub fn settings(&self) -> &VaultSettings {
        &self.settings
    }

    async fn read(&self, path: &KvPath) -> Result<Entry, Failure> {
        let timeout = self.server.timeout();
        let session = self.sessions.current(&self.server).await?;
        match kv::read(&session.client, path, timeout).await {
            Err(refused) if refused.code() == Some(403) => {
                if !self.token_rejected(&session).await {
                    return Err(refused);
                }
                let fresh = self
                    .sessions
                    .replace(session.generation, &self.server)
                    .await?;
                match kv::read(&fresh.client, path, timeout).await {
                    // Still refused with the new token: say so when the
                    // token itself is the problem (a token file not yet
                    // rewritten), not the path's policy.
                    Err(again)
                        if again.code() == Some(403) && self.token_rejected(&fresh).await =>
                    {
                        Err(Failure::Login(self.sessions.rejected_token()))
                    }
                    answer => answer,
                }
            }
            answer => answer,
        }
    }

    /// Whether the server no longer accepts the session's token at all (as
    /// opposed to refusing one path).
    async fn token_rejected(&self, session: &Session) -> bool {
        matches!(
            self.server
                .get(LOOKUP_SELF, Some(&session.token), true)
                .await,
            Ok((403, _))
        )
    }

    /// Names the reference and what was read; carries the server's `errors`
    /// list or the transport's reason, which hold neither value nor token.
    fn fetch_error(&self, failure: Failure, reference: &str, path: &KvPath) -> FetchError {
        let api_path = path.api_path();
        let why = failure.describe();
        match failure {
            Failure::Status { code: 404, .. } => {
                FetchError::NotFound(format!("{reference}: nothing at {api_path} ({why})"))
            }
            Failure::Status { code: 403, .. } => FetchError::Denied(format!(
                "{reference}: Gantry's token may not read {api_path} ({why})"
            )),
            Failure::Status { code: 503, .. } => FetchError::Unreachable(format!(
                "{reference}: {} is sealed or unavailable ({why})",
                self.server.addr()
            )),
            Failure::Status {
                code: 300..=399, ..
            } => FetchError::Other(format!(
                "{reference}: {} answered with a redirect ({why}); point --vault-addr at the active node",
                self.server.addr()
            )),
            Failure::Status { .. } => {
                FetchError::Other(format!("{reference}: reading {api_path} failed: {why}"))
            }
            Failure::Unreachable(_) => {
                FetchError::Unreachable(format!("{reference}: {}: {why}", self.server.addr()))
            }
            Failure::Login(_) => FetchError::Denied(format!("{reference}: {why}")),
            Failure::Other(_) => FetchError::Other(format!("{reference}: {why}")),
        }
    }

    /// Whether the token (or a fresh login) is accepted.
    async fn authenticated(&self) -> Result<(), String> {
        let session = self
            .sessions
            .current(&self.server)
            .await
            .map_err(|f| f.describe())?;
        let session = if self.token_rejected(&session).await {
            self.sessions
                .replace(session.generation, &self.server)
                .await
                .map_err(|f| f.describe())?
        } else {
            session
        };
        match self
            .server
            .get(LOOKUP_SELF, Some(&session.token), true)
            .await
        {
            Ok((200, _)) => Ok(()),
            Ok((code, _)) => Err(format!("the token lookup answered status {code}")),
            Err(failure) => Err(failure.describe()),
        }
    }
}

#[async_trait::async_trait]
impl SecretProvider for VaultProvider {
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
        if self.engine == Engine::Database {
            return self.issue(request.path).await;
        }
        let reference = match request.key {
            Some(key) => format!("{}#{key}", request.path),
            None => request.path.to_owned(),
        };
        let key = request.key.ok_or_else(|| {
            FetchError::Unusable(format!(
                "{reference}: a vault reference names a key after `#`, like kv/data/prod/db#password"
            ))
        })?;
        let path = KvPath::parse(request.path, self.settings.mount.as_deref())
            .map_err(FetchError::Other)?;
        let entry = self
            .read(&path)
            .await
            .map_err(|failure| self.fetch_error(failure, &reference, &path))?;
        kv::pick(entry, key, &reference)
    }

    async fn renew(
        &self,
        lease: &SecretLease,
        increment: std::time::Duration,
    ) -> Result<std::time::Duration, FetchError> {
        let body = serde_json::json!({ "lease_id": lease.id, "increment": increment.as_secs() });
        let answer = self
            .call(reqwest::Method::PUT, "sys/leases/renew", Some(body))
            .await
            .and_then(Self::status)
            .map_err(|f| self.lease_error(f, &format!("lease {}", lease.id), "sys/leases/renew"))?;
        Ok(std::time::Duration::from_secs(
            answer["lease_duration"].as_u64().unwrap_or(0),
        ))
    }

    async fn revoke(&self, lease: &SecretLease) -> Result<(), FetchError> {
        // Idempotent at the server: revoking a lease already gone is a 204.
        let body = serde_json::json!({ "lease_id": lease.id });
        self.call(reqwest::Method::PUT, "sys/leases/revoke", Some(body))
            .await
            .and_then(Self::status)
            .map(|_| ())
            .map_err(|f| self.lease_error(f, &format!("lease {}", lease.id), "sys/leases/revoke"))
    }

    async fn health(&self) -> ProviderHealth {
        let addr = self.server.addr();
        match self.server.get(HEALTH, None, false).await {
            Err(failure) => ProviderHealth {
                reachable: false,
                authenticated: false,
                error: Some(format!("{addr}: {}", failure.describe())),
            },
            Ok((_, body)) if body["sealed"] == true => ProviderHealth {
                reachable: true,
                authenticated: false,
                error: Some(format!("{addr} is sealed")),
            },
            Ok(_) => match self.authenticated().await {
                Ok(()) => ProviderHealth {
                    reachable: true,
                    authenticated: true,
                    error: None,
                },
                Err(why) => ProviderHealth {
                    reachable: true,
                    authenticated: false,
                    error: Some(format!("{addr}: {why}")),
                },
            },
        }
    }
}

/// The settings hold no secret (only the files' paths); the sessions, which
/// hold tokens, are left out.
impl fmt::Debug for VaultProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.settings.auth {
            VaultAuth::TokenFile(_) => "token file",
            VaultAuth::AppRole { .. } => "approle",
        };
        f.debug_struct("VaultProvider")
            .field("addr", &self.settings.addr)
            .field("auth", &auth)
            .field("namespace", &self.settings.namespace)
            .field("mount", &self.settings.mount)
            .finish_non_exhaustive()
    }
}
