//! The Content-Security-Policy every page carries: scripts only from this
//! site or with the response's nonce (Leptos puts it on its hydration
//! script; `leptos_axum` makes a fresh one per response), WebAssembly
//! allowed to compile (the hydration bundle is wasm), nothing inline
//! otherwise, no plugins, no `<base>`, no framing, forms posting only here
//! (and to the identity provider, whose sign-in a form can lead to), and
//! violations reported to [`REPORT_PATH`], where they are counted and
//! logged.

/// Where browsers send violation reports (`report-uri` and the
/// `Reporting-Endpoints` group `csp`).
pub const REPORT_PATH: &str = "/csp-reports";

/// What the server adds to the policy: origins a form may lead to besides
/// this site (the identity provider).
#[derive(Debug, Clone, Default)]
pub struct CspSettings {
    pub form_targets: Vec<String>,
}

/// The policy for a response whose nonce is `nonce`.
pub fn policy(nonce: &str, settings: &CspSettings) -> String {
    let mut form_action = vec!["'self'".to_owned()];
    form_action.extend(settings.form_targets.iter().cloned());
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'".to_owned(),
        "img-src 'self' data:".to_owned(),
        "connect-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
        format!("form-action {}", form_action.join(" ")),
        format!("report-uri {REPORT_PATH}"),
        "report-to csp".to_owned(),
    ]
    .join("; ")
}

/// Sets the page's policy on the response being rendered (server only:
/// the nonce exists only there).
#[cfg(feature = "ssr")]
pub fn set_header() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let settings = use_context::<CspSettings>().unwrap_or_default();
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy(&nonce, &settings)) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        response.insert_header(
            axum::http::HeaderName::from_static("reporting-endpoints"),
            axum::http::HeaderValue::from_static("csp=\"/csp-reports\""),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_strict_and_carries_the_nonce() {
        let p = policy("abc123", &CspSettings::default());
        assert!(
            p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"),
            "{p}"
        );
        assert!(
            !p.contains("unsafe-inline") && !p.contains("'unsafe-eval'"),
            "{p}"
        );
        for directive in [
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "report-uri /csp-reports",
        ] {
            assert!(p.contains(directive), "{directive}: {p}");
        }
        let with_idp = policy(
            "n",
            &CspSettings {
                form_targets: vec!["https://idp.example.com".into()],
            },
        );
        assert!(
            with_idp.contains("form-action 'self' https://idp.example.com;"),
            "{with_idp}"
        );
    }
}
