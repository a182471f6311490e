//! The edge section's HTTPS server certificate: a certificate authority
//! made for the run signs one for `localhost`, and the client trusts that
//! authority alone (as a private CA is deployed).

use anyhow::Result;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// The name the certificate is for; the client resolves it to the server.
pub const HOST: &str = "localhost";

/// The files `--tls-cert` / `--tls-key` read, and the authority to trust.
pub struct ServerCertificate {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub authority_pem: String,
}

impl ServerCertificate {
    pub fn write(dir: &Path) -> Result<Self> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "gantry-bench CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;

        let mut leaf = CertificateParams::new(vec![HOST.to_owned()])?;
        leaf.distinguished_name.push(DnType::CommonName, HOST);
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key)?;

        std::fs::create_dir_all(dir)?;
        let files = Self {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            authority_pem: ca_cert.pem(),
        };
        std::fs::write(&files.cert, cert.pem())?;
        std::fs::write(&files.key, key.serialize_pem())?;
        Ok(files)
    }
}
