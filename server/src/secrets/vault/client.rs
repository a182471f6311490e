//! The connection to one OpenBao/Vault server: address, TLS trust, timeout
//! and namespace, checked once at start so a typo fails there, in one line
//! naming the flag. Nothing here talks to the server: Gantry starts while
//! Vault is down, and fetches then fail with a clear reason.
//!
//! The vaultrs client is assembled by hand rather than through
//! `VaultClientSettingsBuilder`, whose defaults read `VAULT_ADDR`,
//! `VAULT_TOKEN`, `VAULT_CACERT` and `VAULT_SKIP_VERIFY` from the process
//! environment (a stray `VAULT_SKIP_VERIFY` would turn off certificate
//! checks) and whose address setter panics on a bad URL.

use super::VaultSettings;
use super::failure::{Failure, bounded};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use vaultrs::api::EndpointMiddleware;
use vaultrs::client::{VaultClient, VaultClientSettings};

/// Where and how requests go; shared by every session (one connection pool).
pub(super) struct Server {
    base: Url,
    namespace: Option<String>,
    timeout: Duration,
    http: reqwest::Client,
}

impl Server {
    pub fn new(settings: &VaultSettings) -> Result<Self, String> {
        let base = parse_addr(&settings.addr)?;
        if settings.timeout.is_zero() {
            return Err("--vault-timeout: must be longer than zero".into());
        }
        if let Some(namespace) = &settings.namespace {
            // Sent as a header: anything a header can't carry fails here, not
            // inside the HTTP stack at the first fetch.
            if namespace.is_empty() || reqwest::header::HeaderValue::from_str(namespace).is_err() {
                return Err(format!(
                    "--vault-namespace: {namespace:?} is not a namespace path"
                ));
            }
        }
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // The token travels in `X-Vault-Token`, which reqwest does not
            // strip on a redirect to another host: follow none.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &settings.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("--vault-ca-cert: cannot read {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| {
                    format!(
                        "--vault-ca-cert: {} holds no PEM certificate",
                        path.display()
                    )
                })?;
            for cert in certs {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| format!("--vault-addr: cannot set up the HTTP client: {e}"))?;
        Ok(Self {
            base,
            namespace: settings.namespace.clone(),
            timeout: settings.timeout,
            http,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The address as error texts show it (without the trailing slash).
    pub fn addr(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// A vaultrs client sending `token` (empty: none, for a login).
    pub fn client(&self, token: &SecretString) -> VaultClient {
        let token = token.expose_secret().to_owned();
        VaultClient {
            http: rustify::clients::reqwest::Client::new(self.base.as_str(), self.http.clone()),
            middle: EndpointMiddleware {
                token: token.clone(),
                version: "v1".into(),
                wrap: None,
                namespace: self.namespace.clone(),
            },
            // Read by nothing we call; filled so no default consults the
            // environment.
            settings: VaultClientSettings {
                address: self.base.clone(),
                ca_certs: Vec::new(),
                identity: None,
                timeout: Some(self.timeout),
                token,
                verify: true,
                version: 1,
                wrapping: false,
                namespace: self.namespace.clone(),
            },
        }
    }

    /// A GET vaultrs can't make for us (its `sys/health` and token lookup
    /// types expect fields OpenBao does not send). `namespaced` is false for
    /// `sys/health`, which OpenBao answers only in the root namespace.
    /// Returns the status and the parsed body (`Null` when not JSON).
    pub async fn get(
        &self,
        path: &str,
        token: Option<&SecretString>,
        namespaced: bool,
    ) -> Result<(u16, serde_json::Value), Failure> {
        self.call(reqwest::Method::GET, path, token, namespaced, None)
            .await
    }

    /// Any request with a JSON body (lease renewals and revocations).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&SecretString>,
        namespaced: bool,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), Failure> {
        let url = self
            .base
            .join(&format!("v1/{path}"))
            .map_err(|e| Failure::Other(format!("cannot build the URL for {path}: {e}")))?;
        let mut request = self
            .http
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose_secret());
        }
        if let (true, Some(namespace)) = (namespaced, &self.namespace) {
            request = request.header("X-Vault-Namespace", namespace);
        }
        let timeout = self.timeout;
        bounded(timeout, async move {
            let response = request
                .send()
                .await
                .map_err(|e| Failure::from_reqwest(&e, timeout))?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .map_err(|e| Failure::from_reqwest(&e, timeout))?;
            Ok((status, serde_json::from_slice(&body).unwrap_or_default()))
        })
        .await
    }
}

/// `https://…` anywhere, `http://…` only on loopback: a token sent in clear
/// over a network is a token given away. No path: vaultrs puts `/v1` first
/// in every request's path, so a prefix (`https://proxy/vault`) would be
/// silently misplaced rather than honoured.
fn parse_addr(addr: &str) -> Result<Url, String> {
    let url = Url::parse(addr).map_err(|e| format!("--vault-addr: {addr:?} is not a URL: {e}"))?;
    if url.host_str().is_none() {
        return Err(format!("--vault-addr: {addr:?} names no host"));
    }
    let loopback = crate::runtime::net::is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "--vault-addr: {addr} would send the token in clear; use https:// (http is accepted only on loopback)"
            ));
        }
        other => return Err(format!("--vault-addr: scheme {other}:// is not http(s)")),
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(format!(
            "--vault-addr: {addr:?} must be scheme://host[:port] only, without a path"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::parse_addr;

    #[test]
    fn plain_http_is_accepted_only_on_loopback() {
        assert!(parse_addr("http://127.0.0.1:8200").is_ok());
        assert!(parse_addr("http://[::1]:8200").is_ok());
        assert!(parse_addr("http://localhost:8200").is_ok());
        assert!(parse_addr("https://vault.example:8200").is_ok());
        let err = parse_addr("http://vault.example:8200").unwrap_err();
        assert!(
            err.starts_with("--vault-addr:") && err.contains("https://"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_address_names_the_flag() {
        for bad in [
            "vault:8200",
            "vault.example",
            "ftp://vault",
            "https://u:p@vault",
            "https://vault?x=1",
            "",
        ] {
            let err = parse_addr(bad).unwrap_err();
            assert!(err.starts_with("--vault-addr:"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_path_is_refused_rather_than_misplaced() {
        assert!(parse_addr("https://vault.example:8200/").is_ok());
        assert!(parse_addr("https://proxy.example/vault").is_err());
    }
}
