//! Validating the TLS flags (`--tls-…`, `--client-cert-mapping`): every
//! problem is one line naming the flag.

use crate::cli::tls_flags::TlsFlags;
use crate::http::tls::{Tls, TlsSettings};
use gantry_core::Environments;
use gantry_core::role_mapping::{MappingRule, RoleMapping};

/// What a `[[client_cert_mapping]]` rule may name.
const NAME_KINDS: [&str; 3] = ["cn:", "dns:", "uri:"];

pub fn from_flags(
    flags: &TlsFlags,
    environments: &Environments,
) -> Result<(Option<TlsSettings>, RoleMapping), String> {
    let rules = flags
        .client_cert_mapping
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            let rule = MappingRule::parse(r, environments)
                .map_err(|e| format!("--client-cert-mapping (GANTRY_CLIENT_CERT_MAPPING): {e}"))?;
            let name = rule.group();
            if !NAME_KINDS.iter().any(|k| name.len() > k.len() && name.starts_with(k)) {
                return Err(format!(
                    "--client-cert-mapping (GANTRY_CLIENT_CERT_MAPPING): {name:?} must be \
                     cn:COMMON-NAME, dns:SAN-DNS-NAME or uri:SAN-URI, e.g. cn:deploy-bot=operator@dev"
                ));
            }
            Ok(rule)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mapping = RoleMapping::new(rules);
    let (cert, key) = match (&flags.tls_cert, &flags.tls_key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        (None, None) => {
            if flags.tls_client_ca.is_some() {
                return Err(
                    "--tls-client-ca (GANTRY_TLS_CLIENT_CA) needs --tls-cert and --tls-key: client certificates only travel over TLS"
                        .into(),
                );
            }
            if !mapping.is_empty() {
                return Err(
                    "--client-cert-mapping (GANTRY_CLIENT_CERT_MAPPING) needs --tls-client-ca, --tls-cert and --tls-key"
                        .into(),
                );
            }
            return Ok((None, mapping));
        }
        (Some(_), None) => {
            return Err("--tls-cert (GANTRY_TLS_CERT) needs --tls-key (GANTRY_TLS_KEY)".into());
        }
        (None, Some(_)) => {
            return Err("--tls-key (GANTRY_TLS_KEY) needs --tls-cert (GANTRY_TLS_CERT)".into());
        }
    };
    if !mapping.is_empty() && flags.tls_client_ca.is_none() {
        return Err(
            "--client-cert-mapping (GANTRY_CLIENT_CERT_MAPPING) needs --tls-client-ca (GANTRY_TLS_CLIENT_CA): the authorities whose certificates it maps"
                .into(),
        );
    }
    if flags.tls_reload_interval.is_zero() {
        return Err(
            "--tls-reload-interval (GANTRY_TLS_RELOAD_INTERVAL) must be longer than zero".into(),
        );
    }
    let settings = TlsSettings {
        cert,
        key,
        client_ca: flags.tls_client_ca.clone(),
        reload_every: flags.tls_reload_interval,
    };
    // Read once now, so a wrong file fails here, in one line.
    Tls::load(&settings)?;
    Ok((Some(settings), mapping))
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
        args.into_config().map_err(|e| e.to_string())
    }

    struct Files {
        _dir: tempfile::TempDir,
        cert: String,
        key: String,
    }

    fn files() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Files {
            cert: cert_path.to_str().unwrap().to_owned(),
            key: key_path.to_str().unwrap().to_owned(),
            _dir: dir,
        }
    }

    #[test]
    fn a_certificate_and_key_turn_tls_on_and_make_cookies_secure() {
        let f = files();
        let c = parse(&[
            "--tls-cert",
            &f.cert,
            "--tls-key",
            &f.key,
            "--tls-client-ca",
            &f.cert,
            "--client-cert-mapping",
            "cn:deploy-bot=operator@dev;uri:spiffe://example.org/ci=viewer",
        ])
        .unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(tls.reload_every, std::time::Duration::from_secs(10));
        assert!(c.secure_cookies, "only https reaches the server");
        assert_eq!(
            c.client_cert_mapping
                .grants_for(&["cn:deploy-bot".into()])
                .len(),
            1
        );
        let plain = parse(&[]).unwrap();
        assert!(plain.tls.is_none() && plain.client_cert_mapping.is_empty());
    }

    #[test]
    fn each_incomplete_or_wrong_tls_setting_names_its_flag() {
        let f = files();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (
                vec!["--tls-cert", &f.cert],
                "--tls-cert (GANTRY_TLS_CERT) needs --tls-key",
            ),
            (
                vec!["--tls-key", &f.key],
                "--tls-key (GANTRY_TLS_KEY) needs --tls-cert",
            ),
            (vec!["--tls-client-ca", &f.cert], "needs --tls-cert"),
            (
                vec!["--client-cert-mapping", "cn:bot=viewer"],
                "--client-cert-mapping",
            ),
            (
                vec![
                    "--tls-cert",
                    &f.cert,
                    "--tls-key",
                    &f.key,
                    "--client-cert-mapping",
                    "cn:bot=viewer",
                ],
                "needs --tls-client-ca",
            ),
            (
                vec![
                    "--tls-cert",
                    &f.cert,
                    "--tls-key",
                    &f.key,
                    "--tls-client-ca",
                    &f.cert,
                    "--client-cert-mapping",
                    "deploy-bot=viewer",
                ],
                "must be cn:COMMON-NAME",
            ),
            (
                vec![
                    "--tls-cert",
                    &f.cert,
                    "--tls-key",
                    &f.key,
                    "--tls-client-ca",
                    &f.cert,
                    "--client-cert-mapping",
                    "cn:bot=operator@qa",
                ],
                "--client-cert-mapping",
            ),
            (
                vec!["--tls-cert", &f.key, "--tls-key", &f.key],
                "--tls-cert (GANTRY_TLS_CERT)",
            ),
            (
                vec![
                    "--tls-cert",
                    &f.cert,
                    "--tls-key",
                    &f.key,
                    "--tls-reload-interval",
                    "0s",
                ],
                "--tls-reload-interval",
            ),
        ];
        for (argv, needle) in cases {
            let err = parse(&argv).unwrap_err();
            assert!(err.contains(needle), "{argv:?} -> {err}");
            assert!(!err.contains('\n'), "one line: {err}");
            assert!(!err.contains("PRIVATE KEY"), "never the key: {err}");
        }
    }

    #[test]
    fn the_config_file_has_a_tls_section_and_client_cert_mapping_tables() {
        let f = files();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gantry.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[tls]
cert = "{cert}"
key = "{key}"
client_ca = "{cert}"
reload_interval = "1m"

[[client_cert_mapping]]
cn = "deploy-bot"
roles = ["operator@dev", "approver@prod"]

[[client_cert_mapping]]
uri = "spiffe://example.org/ci"
roles = ["viewer"]
"#,
                cert = f.cert,
                key = f.key
            ),
        )
        .unwrap();
        let argv = ["gantry", "serve", "--config", path.to_str().unwrap()]
            .map(std::ffi::OsString::from)
            .to_vec();
        let expanded = crate::cli::settings::file::expand_with(argv, |_| None).unwrap();
        let Command::Serve(args) = Cli::try_parse_from(expanded).unwrap().command else {
            unreachable!("a serve command")
        };
        let c = args.into_config().unwrap();
        assert_eq!(
            c.tls.unwrap().reload_every,
            std::time::Duration::from_secs(60)
        );
        let m = &c.client_cert_mapping;
        for bad in [
            "[[client_cert_mapping]]\ncn = \"a\"\nuri = \"b\"\nroles = [\"viewer\"]\n",
            "[[client_cert_mapping]]\ngroup = \"a\"\nroles = [\"viewer\"]\n",
            "[[client_cert_mapping]]\ncn = \"a\"\n",
        ] {
            let bad_path = dir.path().join("bad.toml");
            std::fs::write(&bad_path, bad).unwrap();
            let argv = ["gantry", "serve", "--config", bad_path.to_str().unwrap()]
                .map(std::ffi::OsString::from)
                .to_vec();
            let err = crate::cli::settings::file::expand_with(argv, |_| None).unwrap_err();
            assert!(err.contains("one of cn, dns or uri"), "{bad} -> {err}");
        }
        assert_eq!(m.grants_for(&["cn:deploy-bot".into()]).len(), 2);
        assert_eq!(
            m.grants_for(&["uri:spiffe://example.org/ci".into()]).len(),
            1
        );
    }
}
