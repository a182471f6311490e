//! Serving HTTPS ourselves, and client certificates as credentials (`serve`
//! only; see docs/security.md, "TLS and client certificates"). In a config
//! file: `[tls] cert = …` and `[[client_cert_mapping]] cn = … roles = […]`.

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct TlsFlags {
    /// PEM file with the server's certificate chain (leaf first). With --tls-key, Gantry serves
    /// HTTPS (TLS 1.2 and 1.3 only) instead of HTTP; both files are read again when they change.
    #[arg(long, env = "GANTRY_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "GANTRY_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// PEM file with the certificate authorities whose client certificates are credentials
    /// (mutual TLS). Presenting one stays optional, so browsers still reach the sign-in page; a
    /// certificate from another authority, or expired, is refused at the handshake.
    #[arg(long, env = "GANTRY_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,

    /// How often the certificate and key files are checked for a change (rotation).
    #[arg(long, env = "GANTRY_TLS_RELOAD_INTERVAL", value_name = "DURATION",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub tls_reload_interval: Duration,

    /// Roles a client certificate grants, by its subject's common name, a SAN DNS name or a SAN
    /// URI: cn:deploy-bot=operator@dev,operator@stage or uri:spiffe://example.org/ci=viewer (a
    /// bare role means every environment). Repeatable; GANTRY_CLIENT_CERT_MAPPING separates
    /// entries with `;`. A certificate no rule names is refused with 401.
    #[arg(
        long,
        env = "GANTRY_CLIENT_CERT_MAPPING",
        value_name = "cn:NAME=ROLE@ENV,…",
        value_delimiter = ';',
        action = clap::ArgAction::Append
    )]
    pub client_cert_mapping: Vec<String>,
}
