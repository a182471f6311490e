//! Serving HTTPS ourselves: rustls (TLS 1.2 and 1.3 only, never older)
//! with the certificate and key read from `--tls-cert` / `--tls-key`, and
//! read again when the files change, so a rotated certificate is served
//! without a restart. A new pair that can't be used (unreadable, not PEM, a
//! key that isn't the certificate's) is logged and counted, and the old one
//! stays in service until a good pair appears.
//!
//! With `--tls-client-ca`, a client may present a certificate: rustls checks
//! it against those authorities at the handshake (chain, validity dates,
//! client-auth usage), refusing one from another authority or an expired
//! one. Presenting none stays allowed, so a browser without a certificate
//! still reaches the sign-in page; what a verified certificate may do is
//! `auth`'s to decide, from the [`ClientCertificate`] each of the
//! connection's requests carries.

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `--tls-cert`, `--tls-key`, `--tls-client-ca`, `--tls-reload-interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub reload_every: Duration,
}

/// The verified certificate a client presented on this connection, as the
/// names `[[client_cert_mapping]]` rules match: SAN URIs (`uri:…`), SAN DNS
/// names (`dns:…`), then the subject's common names (`cn:…`). Public
/// information only: nothing private ever reaches a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub names: Vec<String>,
}

/// HTTPS, ready to accept connections.
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    certs: Arc<ReloadingCert>,
    reload_every: Duration,
}

impl Tls {
    /// Reads the files once (a problem fails the start, naming the flag)
    /// and builds the server's TLS configuration.
    pub fn load(settings: &TlsSettings) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (key, digest) = read_pair(&settings.cert, &settings.key, &provider)?;
        let certs = Arc::new(ReloadingCert {
            cert: settings.cert.clone(),
            key: settings.key.clone(),
            provider: provider.clone(),
            current: RwLock::new(Loaded {
                key: Arc::new(key),
                digest,
                failed: None,
            }),
        });
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("internal: TLS versions: {e}"))?;
        let builder = match &settings.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let roots = read_client_cas(path)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| {
                            format!(
                                "--tls-client-ca (GANTRY_TLS_CLIENT_CA): {}: {e}",
                                path.display()
                            )
                        })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(certs.clone());
        // hyper serves HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            certs,
            reload_every: settings.reload_every,
        })
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.acceptor.clone()
    }

    /// Checks the files every `--tls-reload-interval` until `stop`.
    pub async fn watch(self: Arc<Self>, stop: CancellationToken) {
        let mut every = tokio::time::interval(self.reload_every.max(Duration::from_millis(10)));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => self.certs.reload_if_changed(),
                () = stop.cancelled() => return,
            }
        }
    }
}

/// The served certificate, swapped in place when its files change.
#[derive(Debug)]
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    /// Of both files' bytes as served.
    digest: [u8; 32],
    /// The files' state that last failed to load (a digest of their bytes,
    /// or of why they couldn't be read), and whether that was reported.
    /// A certificate manager writes the two files one after the other, so
    /// one check may see a new key beside the old certificate: a failure is
    /// reported only when the next check finds the files unchanged, and
    /// then once.
    failed: Option<([u8; 32], bool)>,
}

impl ReloadingCert {
    fn reload_if_changed(&self) {
        let attempt = match read_files(&self.cert, &self.key) {
            // Mid-rotation (a file briefly missing) or a real problem.
            Err(why) => Err((digest_of(why.as_bytes(), b""), why)),
            Ok((cert_pem, key_pem)) => {
                let digest = digest_of(&cert_pem, &key_pem);
                if self.read().digest == digest {
                    Ok(None)
                } else {
                    certified_key(&cert_pem, &key_pem, &self.cert, &self.key, &self.provider)
                        .map(|key| Some((key, digest)))
                        .map_err(|why| (digest, why))
                }
            }
        };
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        match attempt {
            Ok(None) => current.failed = None,
            Ok(Some((key, digest))) => {
                *current = Loaded {
                    key: Arc::new(key),
                    digest,
                    failed: None,
                };
                tracing::info!(cert = %self.cert.display(), "serving the new TLS certificate");
            }
            Err((state, why)) => match current.failed {
                Some((before, reported)) if before == state => {
                    if !reported {
                        current.failed = Some((state, true));
                        tracing::error!(error = %why, "the TLS certificate files changed but can't be used; still serving the previous certificate");
                        metrics::counter!("gantry_tls_reload_failures_total").increment(1);
                    }
                }
                _ => {
                    current.failed = Some((state, false));
                    tracing::debug!(error = %why, "the TLS certificate files can't be used yet; checking again");
                }
            },
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.current.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.read().key.clone())
    }
}

fn read_files(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read = |path: &Path, flag: &str| {
        std::fs::read(path).map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))
    };
    Ok((
        read(cert, "--tls-cert (GANTRY_TLS_CERT)")?,
        read(key, "--tls-key (GANTRY_TLS_KEY)")?,
    ))
}

fn read_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, [u8; 32]), String> {
    let (cert_pem, key_pem) = read_files(cert, key)?;
    let digest = digest_of(&cert_pem, &key_pem);
    Ok((
        certified_key(&cert_pem, &key_pem, cert, key, provider)?,
        digest,
    ))
}

fn digest_of(cert_pem: &[u8], key_pem: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(cert_pem);
    ctx.update(key_pem);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The chain and its key, checked to belong together. Messages name the
/// file and never show its contents.
fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            format!(
                "--tls-cert (GANTRY_TLS_CERT): {} holds no PEM certificate (-----BEGIN CERTIFICATE-----), leaf first",
                cert.display()
            )
        })?;
    let private = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
        format!(
            "--tls-key (GANTRY_TLS_KEY): {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    CertifiedKey::from_der(chain, private, provider).map_err(|e| {
        format!(
            "--tls-key (GANTRY_TLS_KEY): {} is not usable with the certificate in {} ({e})",
            key.display(),
            cert.display()
        )
    })
}

fn read_client_cas(path: &Path) -> Result<RootCertStore, String> {
    let flag = "--tls-client-ca (GANTRY_TLS_CLIENT_CA)";
    let pem =
        std::fs::read(path).map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("{flag}: {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{flag}: {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{flag}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(roots)
}

/// The client's verified certificate on an established connection, if it
/// presented one.
pub fn client_certificate(conn: &ServerConnection) -> Option<ClientCertificate> {
    let leaf = conn.peer_certificates()?.first()?;
    Some(ClientCertificate {
        names: names_of(leaf.as_ref()),
    })
}

/// A certificate's names as `[[client_cert_mapping]]` matches them; none
/// when it can't be read (rustls already checked its signature, so this is
/// unusual, and it then maps to nobody).
pub fn names_of(der: &[u8]) -> Vec<String> {
    use x509_cert::der::Decode;
    use x509_cert::der::asn1::{PrintableStringRef, Utf8StringRef};
    use x509_cert::der::oid::AssociatedOid;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return Vec::new();
    };
    let tbs = &cert.tbs_certificate;
    let mut uris = Vec::new();
    let mut dns = Vec::new();
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id != SubjectAltName::OID {
            continue;
        }
        let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) else {
            continue;
        };
        for name in san.0 {
            match name {
                GeneralName::UniformResourceIdentifier(u) => uris.push(format!("uri:{u}")),
                GeneralName::DnsName(d) => dns.push(format!("dns:{d}")),
                _ => {}
            }
        }
    }
    let common_names = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == x509_cert::der::oid::db::rfc4519::CN)
        .filter_map(|atv| {
            Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    PrintableStringRef::try_from(&atv.value).map(|s| s.as_str().to_owned())
                })
                .ok()
        })
        .map(|cn| format!("cn:{cn}"));
    uris.into_iter().chain(dns).chain(common_names).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_named_by_its_san_uris_dns_names_then_common_name() {
        let mut params = rcgen::CertificateParams::new(vec!["ci.example.com".to_owned()]).unwrap();
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://example.org/ci".try_into().unwrap(),
        ));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "deploy-bot");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            names_of(cert.der()),
            [
                "uri:spiffe://example.org/ci",
                "dns:ci.example.com",
                "cn:deploy-bot"
            ]
        );
        assert!(names_of(b"not a certificate").is_empty());
    }

    #[test]
    fn unusable_files_are_refused_naming_the_flag_without_their_contents() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let other_key = rcgen::KeyPair::generate().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cert_file = write("cert.pem", &cert.pem());
        let key_file = write("key.pem", &key.serialize_pem());
        let wrong_key = write("other.pem", &other_key.serialize_pem());
        let garbage = write("garbage.pem", "secret-looking-garbage");
        let settings = |cert: &Path, key: &Path| TlsSettings {
            cert: cert.to_owned(),
            key: key.to_owned(),
            client_ca: None,
            reload_every: Duration::from_secs(1),
        };
        assert!(Tls::load(&settings(&cert_file, &key_file)).is_ok());
        let cases = [
            (settings(&garbage, &key_file), "--tls-cert"),
            (settings(&cert_file, &garbage), "--tls-key"),
            (settings(&cert_file, &wrong_key), "not usable"),
            (
                settings(&dir.path().join("missing"), &key_file),
                "cannot read",
            ),
            (
                TlsSettings {
                    client_ca: Some(garbage.clone()),
                    ..settings(&cert_file, &key_file)
                },
                "--tls-client-ca",
            ),
        ];
        for (s, needle) in cases {
            let Err(err) = Tls::load(&s) else {
                panic!("{s:?} loaded")
            };
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains("secret-looking"), "{err}");
            assert!(!err.contains("PRIVATE KEY-----\n"), "{err}");
        }
    }

    #[test]
    fn a_half_written_rotation_waits_a_check_and_a_lasting_bad_pair_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let pair = |name: &str| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            (cert.pem(), key.serialize_pem(), cert.der().to_vec())
        };
        let (cert1, key1, _) = pair("one.test");
        let cert_file = dir.path().join("cert.pem");
        let key_file = dir.path().join("key.pem");
        std::fs::write(&cert_file, &cert1).unwrap();
        std::fs::write(&key_file, &key1).unwrap();
        let tls = Tls::load(&TlsSettings {
            cert: cert_file.clone(),
            key: key_file.clone(),
            client_ca: None,
            reload_every: Duration::from_secs(1),
        })
        .unwrap();
        let certs = &tls.certs;
        let served = || certs.read().key.cert[0].to_vec();
        let first = served();
        // The new key is written, its certificate not yet.
        let (cert2, key2, der2) = pair("two.test");
        std::fs::write(&key_file, &key2).unwrap();
        certs.reload_if_changed();
        assert_eq!(served(), first, "the old pair stays");
        assert_eq!(
            certs.read().failed.map(|f| f.1),
            Some(false),
            "not reported yet"
        );
        certs.reload_if_changed();
        assert_eq!(certs.read().failed.map(|f| f.1), Some(true), "reported");
        // Then the certificate arrives.
        std::fs::write(&cert_file, &cert2).unwrap();
        certs.reload_if_changed();
        assert_eq!(served(), der2);
        assert!(certs.read().failed.is_none());
    }
}
