//! Gantry's login to OpenBao/Vault: the token in use and how to get a new
//! one when it stops working (re-read the token file, or log in with
//! AppRole again).
//!
//! A session is replaced, never changed, so a fetch holds the one it
//! started with. Each has a generation number: when many fetches find the
//! token revoked at once, the first logs in and the others see a newer
//! generation and reuse it instead of logging in again (an AppRole
//! secret-id may be limited to a few uses).

use super::VaultAuth;
use super::client::Server;
use super::failure::{Failure, bounded};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use vaultrs::client::VaultClient;

/// One token and the client that sends it.
pub(super) struct Session {
    pub generation: u64,
    /// The token is kept here, zeroed on drop, for the requests sent without
    /// vaultrs. The vaultrs client holds its own copy as a plain `String`
    /// (its middleware needs one); neither is ever formatted.
    pub token: SecretString,
    pub client: VaultClient,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The current session and the means to replace it.
pub(super) struct Sessions {
    auth: VaultAuth,
    current: Mutex<Option<Arc<Session>>>,
    /// Held while logging in, so one login serves every waiting fetch.
    login: tokio::sync::Mutex<()>,
}

impl Sessions {
    /// Checks the credentials' files now, so a wrong path fails at start
    /// (naming the flag); a token file is read into the first session, an
    /// AppRole login waits for the first fetch (the server may be down).
    pub fn new(auth: VaultAuth, server: &Server) -> Result<Self, String> {
        let first = match &auth {
            VaultAuth::TokenFile(path) => {
                let token = read_secret_file(path, "--vault-token-file")?;
                Some(Arc::new(Session {
                    generation: 1,
                    client: server.client(&token),
                    token,
                }))
            }
            VaultAuth::AppRole {
                role_id,
                secret_id_file,
                mount,
            } => {
                if role_id.trim().is_empty() {
                    return Err("--vault-role-id: empty".into());
                }
                if mount.is_empty() || mount.split('/').any(str::is_empty) {
                    return Err(format!("AppRole auth mount {mount:?} is not a mount path"));
                }
                read_secret_file(secret_id_file, "--vault-secret-id-file")?;
                None
            }
        };
        Ok(Self {
            auth,
            current: Mutex::new(first),
            login: tokio::sync::Mutex::new(()),
        })
    }

    /// The session to use, logging in first if there is none yet.
    pub async fn current(&self, server: &Server) -> Result<Arc<Session>, Failure> {
        match self.peek() {
            Some(session) => Ok(session),
            None => self.replace(0, server).await,
        }
    }

    /// A session newer than generation `stale`: the one another fetch just
    /// made, or a fresh login.
    pub async fn replace(&self, stale: u64, server: &Server) -> Result<Arc<Session>, Failure> {
        let _one_login = self.login.lock().await;
        let previous = self.peek();
        if let Some(session) = previous.as_ref().filter(|s| s.generation > stale) {
            return Ok(Arc::clone(session));
        }
        let token = self.log_in(server).await?;
        let session = Arc::new(Session {
            generation: previous.map_or(0, |s| s.generation) + 1,
            client: server.client(&token),
            token,
        });
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Why a token just obtained is refused, naming where it came from.
    pub fn rejected_token(&self) -> String {
        match &self.auth {
            VaultAuth::TokenFile(path) => format!(
                "the token in {} (--vault-token-file) is expired or revoked",
                path.display()
            ),
            VaultAuth::AppRole { mount, .. } => {
                format!("the token from the AppRole login at auth/{mount} is refused")
            }
        }
    }

    fn peek(&self) -> Option<Arc<Session>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn log_in(&self, server: &Server) -> Result<SecretString, Failure> {
        match &self.auth {
            // An agent (vault agent, a sidecar) may have rewritten the file.
            VaultAuth::TokenFile(path) => {
                read_secret_file(path, "--vault-token-file").map_err(Failure::Login)
            }
            VaultAuth::AppRole {
                role_id,
                secret_id_file,
                mount,
            } => {
                let secret_id = read_secret_file(secret_id_file, "--vault-secret-id-file")
                    .map_err(Failure::Login)?;
                let anonymous = server.client(&SecretString::from(String::new()));
                let timeout = server.timeout();
                let login = async {
                    vaultrs::auth::approle::login(
                        &anonymous,
                        mount,
                        role_id,
                        secret_id.expose_secret(),
                    )
                    .await
                    .map_err(|e| Failure::from_client(e, timeout))
                };
                let auth = bounded(timeout, login)
                    .await
                    .map_err(|failure| match failure {
                        Failure::Unreachable(why) => Failure::Unreachable(why),
                        refused => Failure::Login(format!(
                            "AppRole login at auth/{mount} failed: {}",
                            refused.describe()
                        )),
                    })?;
                Ok(SecretString::from(auth.client_token))
            }
        }
    }
}

/// A token or secret-id file: its first line, trimmed (editors and `echo`
/// add a newline).
fn read_secret_file(path: &Path, flag: &str) -> Result<SecretString, String> {
    // Both copies are `SecretString`s, zeroed when dropped.
    let text = SecretString::from(
        std::fs::read_to_string(path)
            .map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?,
    );
    let first_line = text.expose_secret().lines().next().unwrap_or("").trim();
    let secret = SecretString::from(first_line.to_owned());
    if secret.expose_secret().is_empty() {
        return Err(format!("{flag}: {} is empty", path.display()));
    }
    Ok(secret)
}
