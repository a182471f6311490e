use super::*;
use axum::http::HeaderValue;

fn settings(public: Option<&str>) -> CsrfSettings {
    CsrfSettings {
        public_origin: public.map(origin_of),
        session_cookie: "gantry_session",
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.append(*name, HeaderValue::from_str(value).unwrap());
    }
    h
}

const COOKIE: (&str, &str) = ("cookie", "theme=dark; gantry_session=abc");

#[test]
fn reads_and_requests_without_the_session_cookie_pass() {
    let s = settings(None);
    let cross = ("sec-fetch-site", "cross-site");
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        assert_eq!(
            judge(&s, &method, &headers(&[COOKIE, cross])),
            Verdict::Allowed
        );
    }
    // No cookie: it acts as nobody (a sign-in form, a signed webhook).
    assert_eq!(
        judge(&s, &Method::POST, &headers(&[cross])),
        Verdict::Allowed
    );
    // Another cookie whose name merely contains ours.
    let other = ("cookie", "not_gantry_session=x");
    assert_eq!(
        judge(&s, &Method::POST, &headers(&[other, cross])),
        Verdict::Allowed
    );
    // A bearer token: no ambient credential.
    let bearer = ("authorization", "Bearer gnt_x");
    assert_eq!(
        judge(&s, &Method::POST, &headers(&[COOKIE, cross, bearer])),
        Verdict::Allowed
    );
}

#[test]
fn a_write_with_the_cookie_passes_only_from_this_site() {
    let s = settings(None);
    let host = ("host", "gantry.local:3000");
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        for ok in ["same-origin", "none"] {
            let h = headers(&[COOKIE, ("sec-fetch-site", ok)]);
            assert_eq!(judge(&s, &method, &h), Verdict::Allowed, "{method} {ok}");
        }
        for bad in ["cross-site", "same-site"] {
            let h = headers(&[COOKIE, host, ("sec-fetch-site", bad)]);
            assert!(
                matches!(judge(&s, &method, &h), Verdict::CrossSite(_)),
                "{method} {bad}"
            );
        }
    }
    // Without fetch metadata, the Origin decides, against the Host.
    let from = |origin| headers(&[COOKIE, host, ("origin", origin)]);
    assert_eq!(
        judge(&s, &Method::POST, &from("http://gantry.local:3000")),
        Verdict::Allowed
    );
    assert_eq!(
        judge(&s, &Method::POST, &from("HTTPS://Gantry.local:3000")),
        Verdict::Allowed
    );
    for bad in ["http://gantry.local", "https://evil.example", "null"] {
        let Verdict::CrossSite(why) = judge(&s, &Method::POST, &from(bad)) else {
            panic!("{bad} passed");
        };
        assert!(why.contains(bad), "{why}");
    }
    // Neither header: refused, saying so.
    let Verdict::CrossSite(why) = judge(&s, &Method::POST, &headers(&[COOKIE, host])) else {
        panic!("passed without provenance");
    };
    assert!(why.contains("neither"), "{why}");
    // A same-site sibling whose Origin is ours still passes (a proxy that
    // strips fetch metadata but keeps Origin).
    let h = headers(&[
        COOKIE,
        host,
        ("sec-fetch-site", "same-site"),
        ("origin", "http://gantry.local:3000"),
    ]);
    assert_eq!(judge(&s, &Method::POST, &h), Verdict::Allowed);
}

#[test]
fn with_a_public_url_only_its_origin_is_this_site() {
    let s = settings(Some("https://gantry.example.com/base/"));
    assert_eq!(
        s.public_origin.as_deref(),
        Some("https://gantry.example.com")
    );
    let h = |origin| headers(&[COOKIE, ("host", "10.0.0.5:3000"), ("origin", origin)]);
    assert_eq!(
        judge(&s, &Method::POST, &h("https://gantry.example.com")),
        Verdict::Allowed
    );
    // The internal Host a proxy forwards is not the site.
    assert!(matches!(
        judge(&s, &Method::POST, &h("http://10.0.0.5:3000")),
        Verdict::CrossSite(_)
    ));
    assert!(matches!(
        judge(&s, &Method::POST, &h("http://gantry.example.com")),
        Verdict::CrossSite(_)
    ));
}

#[test]
fn a_client_certificate_is_ambient_like_the_cookie_but_tools_without_browser_headers_pass() {
    let s = settings(Some("https://gantry.example.com"));
    let cert = |pairs: &[(&'static str, &str)]| {
        judge_credentials(&s, &Method::POST, &headers(pairs), true)
    };
    assert!(matches!(
        cert(&[("sec-fetch-site", "cross-site")]),
        Verdict::CrossSite(_)
    ));
    assert!(matches!(
        cert(&[("origin", "https://evil.example.com")]),
        Verdict::CrossSite(_)
    ));
    assert_eq!(cert(&[("sec-fetch-site", "same-origin")]), Verdict::Allowed);
    assert_eq!(
        cert(&[("origin", "https://gantry.example.com")]),
        Verdict::Allowed
    );
    // curl or a CI job with its certificate: no browser headers at all.
    assert_eq!(cert(&[]), Verdict::Allowed);
    // The cookie keeps its stricter rule, certificate or not.
    assert!(matches!(cert(&[COOKIE]), Verdict::CrossSite(_)));
}
