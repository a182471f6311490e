//! Client certificates as credentials (mutual TLS, `--tls-client-ca`): the
//! names of a certificate rustls verified at the handshake
//! (`http/tls.rs`) are matched against `[[client_cert_mapping]]`, the same
//! rules as provider groups (`gantry_core::role_mapping`). A mapped
//! certificate acts like a service token nobody made: it holds the roles
//! its rules grant, and its actions are audited as `cert:NAME`. An
//! unmapped one is no credential.

use crate::http::tls::ClientCertificate;
use gantry_core::role_mapping::RoleMapping;
use gantry_core::{Principal, PrincipalKind, UserId};

/// The principal a verified certificate stands for, or `None` when no rule
/// names any of its names. Named after the first of its names a rule
/// names (SAN URIs, then DNS names, then the common name).
pub fn principal_for_certificate(
    mapping: &RoleMapping,
    certificate: &ClientCertificate,
) -> Option<Principal> {
    let name = certificate
        .names
        .iter()
        .find(|n| !mapping.grants_for(std::slice::from_ref(n)).is_empty())?;
    let grants = mapping
        .grants_for(&certificate.names)
        .into_iter()
        .map(|mut g| {
            // `group:cn:deploy-bot` → `cert:cn:deploy-bot`: it was no group.
            let rule = g.source.strip_prefix("group:").unwrap_or(&g.source);
            g.source = format!("cert:{rule}");
            g
        })
        .collect();
    Some(Principal {
        id: UserId(format!("cert:{name}")),
        // Automation, like a token: no interactive sign-in (so no
        // step-up), approvals only where tokens may decide them.
        kind: PrincipalKind::ServiceToken,
        username: format!("cert:{name}"),
        display_name: format!("client certificate {name}"),
        email: None,
        grants,
        signed_in_at: None,
        break_glass_until: None,
    })
}

/// For the record of a refused certificate: its names, clipped.
pub fn describe(certificate: &ClientCertificate) -> String {
    let names = certificate.names.join(", ");
    if names.is_empty() {
        "no readable name".to_owned()
    } else {
        gantry_core::audit::clip(names, 200)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::Environments;
    use gantry_core::role_mapping::MappingRule;

    fn mapping(rules: &[&str]) -> RoleMapping {
        let envs = Environments::parse_list("dev,stage,prod").unwrap();
        RoleMapping::new(
            rules
                .iter()
                .map(|r| MappingRule::parse(r, &envs).unwrap())
                .collect(),
        )
    }

    fn cert(names: &[&str]) -> ClientCertificate {
        ClientCertificate {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    #[test]
    fn a_mapped_certificate_holds_its_rules_roles_under_its_first_mapped_name() {
        let m = mapping(&["cn:deploy-bot=operator@dev", "dns:ci.example.com=viewer"]);
        let p = principal_for_certificate(
            &m,
            &cert(&["uri:spiffe://x/y", "dns:ci.example.com", "cn:deploy-bot"]),
        )
        .unwrap();
        assert_eq!(p.id.0, "cert:dns:ci.example.com");
        assert_eq!(p.kind, PrincipalKind::ServiceToken);
        assert_eq!(p.grants.len(), 2, "{:?}", p.grants);
        assert!(p.grants.iter().all(|g| g.source.starts_with("cert:")));
        assert!(p.signed_in_at.is_none());
    }

    #[test]
    fn an_unmapped_or_unreadable_certificate_is_nobody() {
        let m = mapping(&["cn:deploy-bot=operator@dev"]);
        assert!(principal_for_certificate(&m, &cert(&["cn:someone-else"])).is_none());
        assert!(principal_for_certificate(&m, &cert(&[])).is_none());
        // Names compare exactly: a rule's kind is part of the name.
        assert!(principal_for_certificate(&m, &cert(&["dns:deploy-bot"])).is_none());
        assert_eq!(describe(&cert(&[])), "no readable name");
    }
}
