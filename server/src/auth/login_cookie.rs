//! A single sign-on attempt between `/auth/login` and `/auth/callback` waits
//! in a short-lived cookie, sealed (encrypted and authenticated with
//! AES-256-GCM), instead of a session row: anonymous requests to
//! `/auth/login` cost the database nothing. The key is derived from the
//! OIDC client secret, so every `serve` process behind one address opens
//! the cookies of the others, and no one without the secret can read the
//! PKCE verifier and nonce inside or forge an attempt. The attempt's own
//! lifetime (`started_at`) is checked on return as before; the cookie is
//! cleared by every callback, so an attempt is answered once.

use super::oidc::PendingLogin;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};

/// The cookie's name; also bound into every seal, so a value sealed for
/// another purpose can't be passed off as an attempt.
pub const LOGIN_COOKIE: &str = "gantry_login";
/// Its name over https: `__Host-` makes the browser refuse it unless it is
/// `Secure`, for `Path=/` and this host only (no sibling subdomain can set
/// or shadow it).
const HOST_LOGIN_COOKIE: &str = "__Host-gantry_login";

/// How long the browser keeps an attempt (the provider's round trip).
const MAX_AGE_SECS: u32 = 600;

/// Derivation context: changing it invalidates attempts in flight, nothing else.
const KEY_INFO: &[u8] = b"gantry oidc login attempt v1";

pub struct LoginSealer {
    key: LessSafeKey,
    rng: SystemRandom,
    secure: bool,
}

impl LoginSealer {
    /// `secure`: the cookie only travels over https (the public URL is).
    pub fn new(client_secret: &str, secure: bool) -> anyhow::Result<Self> {
        let prk = Salt::new(HKDF_SHA256, b"gantry").extract(client_secret.as_bytes());
        let okm = prk
            .expand(&[KEY_INFO], &AES_256_GCM)
            .map_err(|_| anyhow::anyhow!("cannot derive the sign-in attempt key"))?;
        Ok(Self {
            key: LessSafeKey::new(UnboundKey::from(okm)),
            rng: SystemRandom::new(),
            secure,
        })
    }

    /// The `Set-Cookie` value carrying `pending`.
    pub fn cookie(&self, pending: &PendingLogin) -> anyhow::Result<HeaderValue> {
        let mut sealed = serde_json::to_vec(pending)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness for the sign-in attempt"))?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(LOGIN_COOKIE.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| anyhow::anyhow!("cannot seal the sign-in attempt"))?;
        let mut value = nonce.to_vec();
        value.extend_from_slice(&sealed);
        let value = URL_SAFE_NO_PAD.encode(value);
        Ok(HeaderValue::from_str(
            &self.attributes(&value, MAX_AGE_SECS),
        )?)
    }

    /// The `Set-Cookie` value that removes the attempt.
    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&self.attributes("", 0))
            .unwrap_or_else(|_| HeaderValue::from_static("gantry_login=; Max-Age=0; Path=/auth"))
    }

    fn name(&self) -> &'static str {
        if self.secure {
            HOST_LOGIN_COOKIE
        } else {
            LOGIN_COOKIE
        }
    }

    /// The attempt this browser carries, if it was sealed here and untouched.
    pub fn open(&self, headers: &HeaderMap) -> Option<PendingLogin> {
        let value = cookie_value(headers, self.name())?;
        let mut bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(LOGIN_COOKIE.as_bytes()), &mut sealed)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }

    fn attributes(&self, value: &str, max_age: u32) -> String {
        // Lax: the provider sends the browser back with a top-level GET.
        // Over https the `__Host-` name needs `Path=/`.
        let name = self.name();
        let (path, secure) = if self.secure {
            ("/", "; Secure")
        } else {
            ("/auth", "")
        };
        format!("{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}")
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt() -> PendingLogin {
        PendingLogin {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "verifier-secret".into(),
            next: "/runs".into(),
            started_at: 1_700_000_000,
            step_up: true,
        }
    }

    fn carrying(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {pair}")).unwrap(),
        );
        headers
    }

    #[test]
    fn an_attempt_round_trips_and_its_secrets_are_not_readable() {
        let sealer = LoginSealer::new("client-secret", true).unwrap();
        let cookie = sealer.cookie(&attempt()).unwrap();
        let text = cookie.to_str().unwrap();
        assert!(!text.contains("verifier-secret") && !text.contains("/runs"));
        assert!(text.contains("HttpOnly") && text.contains("Secure"));
        // Over https: the `__Host-` name, which needs Path=/.
        assert!(
            text.starts_with("__Host-gantry_login=") && text.contains("Path=/;"),
            "{text}"
        );
        let back = sealer.open(&carrying(&cookie)).unwrap();
        assert_eq!(back.pkce_verifier, "verifier-secret");
        assert_eq!(back.next, "/runs");
        assert!(back.step_up);
    }

    #[test]
    fn a_tampered_or_foreign_cookie_opens_to_nothing() {
        let sealer = LoginSealer::new("client-secret", false).unwrap();
        let other = LoginSealer::new("another-secret", false).unwrap();
        let cookie = sealer.cookie(&attempt()).unwrap();
        assert!(other.open(&carrying(&cookie)).is_none(), "another key");
        let text = cookie.to_str().unwrap();
        let value = text.split(';').next().unwrap();
        let mut flipped = value.to_owned();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&flipped).unwrap());
        assert!(sealer.open(&headers).is_none(), "tampered");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("gantry_login=not-base64!"),
        );
        assert!(sealer.open(&headers).is_none(), "garbage");
        assert!(sealer.open(&HeaderMap::new()).is_none(), "absent");
        assert!(sealer.clear().to_str().unwrap().contains("Max-Age=0"));
        // Over http: the plain name, kept to /auth.
        let text = cookie.to_str().unwrap();
        assert!(
            text.starts_with("gantry_login=") && text.contains("Path=/auth;"),
            "{text}"
        );
    }
}
