//! The OpenID Connect relying party: discovery, the authorization request
//! (code flow with PKCE, `state` and `nonce`), the code exchange and ID token
//! validation (issuer, audience, expiry, nonce, signature against the
//! provider's JWKS), and the claims Gantry needs (username, groups), from
//! the ID token or else UserInfo. Routes are in `oidc_routes.rs`; who the
//! person becomes in Gantry is the port's business (`oidc_sign_in`).
//!
//! Discovery runs at start-up; when the provider can't be reached then,
//! Gantry starts anyway and retries on the next sign-in attempt. An ID token
//! signed with a key id the cached JWKS lacks triggers one fresh discovery
//! (metadata and keys) and a second verification, so the provider can rotate
//! its signing keys without a Gantry restart.

use crate::plane::SsoStatus;
use gantry_core::VerifiedIdentity;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    UserInfoClaims,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

/// How Gantry talks to the identity provider.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Exactly as configured: it must equal the ID tokens' `iss`.
    pub issuer: String,
    pub client_id: String,
    /// Read at each discovery: a SIGHUP may replace it (then discovery
    /// runs again so the client uses the new one).
    pub client_secret: crate::secrets::own::Rotating,
    /// Where the client secret is read from at start, when a reference.
    pub client_secret_ref: Option<gantry_core::spec::SecretRef>,
    pub scopes: Vec<String>,
    pub groups_claim: String,
    pub username_claim: String,
    /// Metadata and keys older than this are read again when someone starts
    /// signing in (`--oidc-recheck-after`).
    pub recheck_after: Duration,
}

/// Claims beyond the standard ones (groups, or a custom username claim).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims(HashMap<String, Value>);

impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResp = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResp,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery found: a client bound to the provider's endpoints and keys.
struct Discovered {
    client: OidcClient,
    end_session: Option<String>,
    fetched_at: std::time::Instant,
}

/// How long a sign-in waits for the provider when checking it again: a
/// provider that doesn't answer by then is reported unavailable rather than
/// keeping the person waiting.
const RECHECK_LIMIT: Duration = Duration::from_secs(3);

const UNREACHABLE: &str =
    "single sign-on is unavailable: the identity provider could not be reached; try again shortly";

/// A sign-in in progress, kept sealed in a cookie (`login_cookie.rs`) until
/// the provider sends the browser back. Its secrets, the PKCE verifier and
/// the nonce, travel encrypted: the browser carries them but can't read them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    /// Unix seconds.
    pub started_at: i64,
    /// A step-up: the provider was asked to authenticate the person afresh
    /// (`prompt=login`, `max_age=0`), and the ID token's `auth_time` must
    /// show it did.
    #[serde(default)]
    pub step_up: bool,
}

/// Leeway for clock differences between Gantry and the provider.
const AUTH_TIME_SKEW_SECS: i64 = 60;

/// A step-up's ID token must say the person authenticated during this
/// attempt (`auth_time` no earlier than when it began, give or take clock
/// skew); a provider that skipped the fresh sign-in is refused.
fn check_fresh_authentication(
    auth_time: Option<i64>,
    started_at: i64,
) -> Result<(), SignInFailure> {
    match auth_time {
        Some(t) if t >= started_at - AUTH_TIME_SKEW_SECS => Ok(()),
        Some(_) => Err(fail(
            "the identity provider did not ask you to sign in again (auth_time is too old); try again",
        )),
        None => Err(fail(
            "the identity provider did not say when you signed in (no auth_time); a fresh sign-in can't be confirmed",
        )),
    }
}

/// Why a sign-in failed, in words fit for the person and the audit log
/// (never a token, code or secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignInFailure(pub String);

fn fail(message: impl Into<String>) -> SignInFailure {
    SignInFailure(message.into())
}

/// Signature algorithms accepted for ID tokens: asymmetric ones only.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 7] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

pub struct Oidc {
    settings: OidcSettings,
    redirect_url: RedirectUrl,
    /// Where the provider sends people after signing out there.
    post_logout_url: String,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
    /// Held while a sign-in checks the provider again, so a burst of
    /// sign-ins checks it once.
    rechecking: tokio::sync::Mutex<()>,
    /// A background retry is running (`keep_discovering`).
    retrying: std::sync::atomic::AtomicBool,
    status: Arc<SsoStatus>,
    /// Attempts in flight travel sealed in a cookie (`login_cookie.rs`).
    login: super::login_cookie::LoginSealer,
}

impl Oidc {
    /// `base_url` is where people reach Gantry (`--public-url`, or the
    /// bound address); the redirect URI is `{base_url}/auth/callback`.
    pub fn new(settings: OidcSettings, base_url: &str) -> anyhow::Result<Self> {
        let redirect_url = RedirectUrl::new(format!("{base_url}/auth/callback"))?;
        let http = reqwest::Client::builder()
            // Following redirects would let a provider bounce requests
            // elsewhere (SSRF); none of these endpoints redirects.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        // Keyed once, so attempts in flight survive a secret's rotation.
        let login = super::login_cookie::LoginSealer::new(
            settings.client_secret.current().expose_secret(),
            base_url.starts_with("https://"),
        )?;
        Ok(Self {
            login,
            settings,
            redirect_url,
            post_logout_url: format!("{base_url}/sign-in"),
            http,
            discovered: RwLock::new(None),
            rechecking: tokio::sync::Mutex::new(()),
            retrying: std::sync::atomic::AtomicBool::new(false),
            status: Arc::default(),
        })
    }

    /// Seals and opens the attempts in flight.
    pub fn login_cookie(&self) -> &super::login_cookie::LoginSealer {
        &self.login
    }

    pub fn redirect_url(&self) -> &str {
        self.redirect_url.as_str()
    }

    pub fn status(&self) -> Arc<SsoStatus> {
        self.status.clone()
    }

    /// Fetches the provider's metadata and keys, replacing what was cached.
    pub async fn discover(&self) -> Result<(), SignInFailure> {
        let found = self.fetch().await;
        self.status.set_reachable(found.is_ok());
        *self.discovered.write().await = Some(Arc::new(found?));
        Ok(())
    }

    /// Retries discovery in the background until the provider answers
    /// (5 s, doubling to a minute), so the sign-in page stops saying
    /// "unavailable" without anyone having to click.
    /// One retry at a time: a call while one runs does nothing.
    pub fn keep_discovering(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let oidc = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_secs(5);
            loop {
                tokio::time::sleep(wait).await;
                let Some(oidc) = oidc.upgrade() else { return };
                if oidc.status.reachable() || oidc.discover().await.is_ok() {
                    tracing::info!("single sign-on: the identity provider answers again");
                    oidc.retrying.store(false, Ordering::Release);
                    return;
                }
                wait = (wait * 2).min(Duration::from_secs(60));
            }
        });
    }

    async fn fetch(&self) -> Result<Discovered, SignInFailure> {
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(issuer = %self.settings.issuer, error = %e, "OIDC discovery failed");
            fail(UNREACHABLE)
        };
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| unavailable(&e))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| unavailable(&error_chain(&e)))?;
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.url().to_string());
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings
                    .client_secret
                    .current()
                    .expose_secret()
                    .to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect_url.clone());
        Ok(Discovered {
            client,
            end_session,
            fetched_at: std::time::Instant::now(),
        })
    }

    /// The cached discovery while it is younger than `recheck_after`, else
    /// a fresh one: a provider that has gone away since is reported here
    /// (the sign-in page says so) instead of sending the browser to a dead
    /// address, and rotated keys arrive before they are needed.
    async fn current(&self) -> Result<Arc<Discovered>, SignInFailure> {
        let cached = self.discovered.read().await.clone();
        if let Some(d) = &cached
            && d.fetched_at.elapsed() < self.settings.recheck_after
        {
            return Ok(d.clone());
        }
        let Ok(_checking) = self.rechecking.try_lock() else {
            // Another sign-in is checking right now; until it knows, the
            // last answer stands.
            return match cached {
                Some(d) if self.status.reachable() => Ok(d),
                _ => Err(fail(UNREACHABLE)),
            };
        };
        match tokio::time::timeout(RECHECK_LIMIT, self.discover()).await {
            Ok(found) => found?,
            Err(_) => {
                tracing::warn!(issuer = %self.settings.issuer, limit = ?RECHECK_LIMIT,
                    "OIDC discovery did not answer in time");
                self.status.set_reachable(false);
                return Err(fail(UNREACHABLE));
            }
        }
        self.discovered
            .read()
            .await
            .clone()
            .ok_or_else(|| fail("single sign-on is unavailable; try again shortly"))
    }

    /// The provider URL to send the browser to, and what to remember.
    pub async fn begin(
        &self,
        next: &str,
        now: i64,
        step_up: bool,
    ) -> Result<(String, PendingLogin), SignInFailure> {
        let d = self.current().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if step_up {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(Duration::ZERO);
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next: next.to_owned(),
                started_at: now,
                step_up,
            },
        ))
    }

    /// Exchanges the code and verifies what comes back; the person as the
    /// provider vouches for them.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: String,
    ) -> Result<VerifiedIdentity, SignInFailure> {
        let d = self.current().await?;
        let request = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| fail("the identity provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier));
        let tokens = request.request_async(&self.http).await.map_err(|e| {
            let why = match &e {
                RequestTokenError::ServerResponse(r) => format!(
                    "the identity provider refused the sign-in code ({}); it may have been used already; start again",
                    r.error()
                ),
                other => {
                    tracing::warn!(error = %error_chain(other), "OIDC code exchange failed");
                    "the identity provider could not be asked for tokens; try again".to_owned()
                }
            };
            fail(why)
        })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| fail("the identity provider sent no ID token"))?;
        let nonce = Nonce::new(pending.nonce);
        let (step_up, started_at) = (pending.step_up, pending.started_at);
        let (d, claims) = match verify(&d.client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key id we don't know: the provider may have rotated its
                // keys. Fetch them again, once.
                tracing::info!(
                    "ID token signed with an unknown key: refreshing the provider's keys"
                );
                self.discover().await?;
                let d = self.current().await?;
                let claims = verify(&d.client, id_token, &nonce).map_err(rejected)?;
                (d, claims)
            }
            other => (d, other.map_err(rejected)?),
        };
        if step_up {
            check_fresh_authentication(claims.auth_time().map(|t| t.timestamp()), started_at)?;
        }
        let mut identity = self.identity_from(&claims);
        let groups_claim = &self.settings.groups_claim;
        if identity.groups.is_none() && groups_left_out(claims.additional_claims(), groups_claim) {
            // Signing in without them would quietly drop every role the
            // person's groups give; say what happened instead.
            tracing::warn!(claim = %groups_claim, "ID token says its groups claim was left out (group overage)");
            return Err(fail(
                "your identity provider left your groups out because you are in too many of them \
                 (Microsoft Entra ID \"group overage\"); an administrator can have it send only the \
                 groups assigned to Gantry (see docs/sso.md)",
            ));
        }
        if identity.username.is_none() || identity.groups.is_none() {
            self.complete_from_userinfo(&d, tokens.access_token(), &claims, &mut identity)
                .await?;
        }
        let subject = claims.subject().as_str().to_owned();
        Ok(VerifiedIdentity {
            issuer: claims.issuer().as_str().to_owned(),
            username: identity.username.unwrap_or_else(|| subject.clone()),
            display_name: identity
                .display_name
                .or(identity.email.clone())
                .unwrap_or_else(|| subject.clone()),
            subject,
            email: identity.email,
            groups: identity.groups.unwrap_or_default(),
        })
    }

    async fn complete_from_userinfo(
        &self,
        d: &Discovered,
        access_token: &AccessToken,
        claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>,
        identity: &mut PartialIdentity,
    ) -> Result<(), SignInFailure> {
        let Ok(request) = d
            .client
            .user_info(access_token.clone(), Some(claims.subject().clone()))
        else {
            return Ok(()); // no UserInfo endpoint: what the ID token says is all there is
        };
        let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> =
            request.request_async(&self.http).await.map_err(|e| {
                tracing::warn!(error = %error_chain(&e), "OIDC UserInfo request failed");
                fail("the identity provider's UserInfo endpoint did not answer properly; try again")
            })?;
        let from_info = PartialIdentity {
            username: self.username_of(
                info.preferred_username().map(|u| u.as_str()),
                info.email().map(|e| e.as_str()),
                info.additional_claims(),
                claims.subject().as_str(),
            ),
            display_name: info
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            email: info.email().map(|e| e.as_str().to_owned()),
            groups: groups_in(info.additional_claims(), &self.settings.groups_claim),
        };
        identity.username = identity.username.take().or(from_info.username);
        identity.display_name = identity.display_name.take().or(from_info.display_name);
        identity.email = identity.email.take().or(from_info.email);
        identity.groups = identity.groups.take().or(from_info.groups);
        Ok(())
    }

    fn identity_from(
        &self,
        claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>,
    ) -> PartialIdentity {
        PartialIdentity {
            username: self.username_of(
                claims.preferred_username().map(|u| u.as_str()),
                claims.email().map(|e| e.as_str()),
                claims.additional_claims(),
                claims.subject().as_str(),
            ),
            display_name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            email: claims.email().map(|e| e.as_str().to_owned()),
            groups: groups_in(claims.additional_claims(), &self.settings.groups_claim),
        }
    }

    /// The configured username claim's value, when present. Standard claims
    /// are parsed by the library, so they're looked up by name here.
    fn username_of(
        &self,
        preferred_username: Option<&str>,
        email: Option<&str>,
        extra: &ExtraClaims,
        subject: &str,
    ) -> Option<String> {
        let value = match self.settings.username_claim.as_str() {
            "preferred_username" => preferred_username.map(str::to_owned),
            "email" => email.map(str::to_owned),
            "sub" => Some(subject.to_owned()),
            other => extra
                .0
                .get(other)
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        };
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Where to send the browser after Gantry's session ended, when the
    /// provider offers RP-initiated logout. Without an `id_token_hint` (Gantry
    /// keeps no tokens) the provider may ask the person to confirm.
    pub async fn end_session_url(&self) -> Option<String> {
        let d = self.discovered.read().await.clone()?;
        let mut url = reqwest::Url::parse(d.end_session.as_deref()?).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("post_logout_redirect_uri", &self.post_logout_url);
        Some(url.to_string())
    }
}

/// What the claims said, before defaults.
struct PartialIdentity {
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    /// `None` when the claim is absent (then UserInfo is asked), `Some(vec![])`
    /// when present and empty.
    groups: Option<Vec<String>>,
}

fn verify(
    client: &OidcClient,
    id_token: &openidconnect::IdToken<
        ExtraClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    nonce: &Nonce,
) -> Result<IdTokenClaims<ExtraClaims, CoreGenderClaim>, ClaimsVerificationError> {
    let verifier = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
    id_token.claims(&verifier, nonce).cloned()
}

fn rejected(e: ClaimsVerificationError) -> SignInFailure {
    let why = match &e {
        ClaimsVerificationError::Expired(_) => "the ID token has expired",
        ClaimsVerificationError::InvalidAudience(_) => "the ID token is meant for another client",
        ClaimsVerificationError::InvalidIssuer(_) => "the ID token comes from another issuer",
        ClaimsVerificationError::InvalidNonce(_) => {
            "the ID token does not belong to this sign-in (nonce)"
        }
        ClaimsVerificationError::SignatureVerification(_) => {
            "the ID token's signature does not verify"
        }
        _ => "the ID token is not valid",
    };
    tracing::warn!(error = %error_chain(&e), "ID token rejected");
    fail(format!("{why}; start again"))
}

/// Whether the token says `claim` was left out and must be fetched from
/// elsewhere (OpenID Connect distributed claims: `_claim_names` naming it),
/// as Microsoft Entra ID does for people in more groups than a token holds.
fn groups_left_out(extra: &ExtraClaims, claim: &str) -> bool {
    extra
        .0
        .get("_claim_names")
        .and_then(Value::as_object)
        .is_some_and(|names| names.contains_key(claim))
}

/// A list of strings (or one string) under `claim`.
fn groups_in(extra: &ExtraClaims, claim: &str) -> Option<Vec<String>> {
    match extra.0.get(claim)? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        Value::String(one) => Some(vec![one.clone()]),
        _ => None,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(json: Value) -> ExtraClaims {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_step_up_needs_an_auth_time_from_this_attempt() {
        let started = 1_700_000_000;
        assert!(check_fresh_authentication(Some(started + 5), started).is_ok());
        assert!(check_fresh_authentication(Some(started - 30), started).is_ok());
        assert!(check_fresh_authentication(Some(started - 3600), started).is_err());
        assert!(check_fresh_authentication(None, started).is_err());
    }

    #[test]
    fn an_entra_group_overage_is_recognized() {
        let overage = extra(serde_json::json!({
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.example/v1.0/users/x/getMemberObjects"}}
        }));
        assert!(groups_left_out(&overage, "groups"));
        assert!(!groups_left_out(&overage, "roles"));
        assert!(!groups_left_out(
            &extra(serde_json::json!({"groups": ["sre"]})),
            "groups"
        ));
        assert!(!groups_left_out(
            &extra(serde_json::json!({"_claim_names": "groups"})),
            "groups"
        ));
    }

    #[test]
    fn groups_come_as_a_list_or_a_single_string() {
        let e = extra(serde_json::json!({"groups": ["sre", 7, "ops"], "role": "x", "n": 1}));
        assert_eq!(
            groups_in(&e, "groups"),
            Some(vec!["sre".into(), "ops".into()])
        );
        assert_eq!(groups_in(&e, "role"), Some(vec!["x".into()]));
        assert_eq!(groups_in(&e, "n"), None);
        assert_eq!(groups_in(&e, "missing"), None);
        assert_eq!(
            groups_in(&extra(serde_json::json!({"groups": []})), "groups"),
            Some(vec![])
        );
    }
}
