//! The hosts a spec's HTTP steps reach, for the diff to call out the new
//! ones. Shell steps can reach anything their network allows; only what the
//! spec states is knowable here.
//!
//! URLs may hold `${{ … }}` templates; a host with one in it is reported as
//! written (the expression's spacing normalized) and marked templated: it
//! reaches whatever the value names at run time, which a reviewer should
//! know.

use crate::spec::{StepKind, WorkflowSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// One host an HTTP step calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpHost {
    /// Lowercased, without scheme, credentials or port; IPv6 in brackets.
    pub host: String,
    /// Part of it is filled in at run time.
    pub templated: bool,
}

impl HttpHost {
    /// How it is named in explanations and acknowledgements.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for HttpHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.templated {
            write!(f, "{} (templated)", self.host)
        } else {
            f.write_str(&self.host)
        }
    }
}

/// Every host the spec's HTTP steps call.
pub fn http_hosts(spec: &WorkflowSpec) -> BTreeSet<HttpHost> {
    spec.steps
        .iter()
        .filter_map(|s| match s.kind() {
            StepKind::Http(http) => url_host(&http.url),
            StepKind::Shell(_) => None,
        })
        .collect()
}

/// A piece of URL text: a character, or a whole `${{ … }}` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(char),
    Expr(String),
}

fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${{")
            && let Some(close) = after.find("}}")
        {
            out.push(Tok::Expr(format!("${{{{ {} }}}}", after[..close].trim())));
            rest = &after[close + 2..];
        } else {
            out.push(Tok::Char(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_char(t: &Tok, c: char) -> bool {
    *t == Tok::Char(c)
}

/// The host of an `http://` or `https://` URL; `None` when there is none
/// (an unvalidated spec).
pub fn url_host(url: &str) -> Option<HttpHost> {
    let toks = tokens(url.trim());
    let scheme_end = toks
        .windows(3)
        .position(|w| is_char(&w[0], ':') && is_char(&w[1], '/') && is_char(&w[2], '/'))?;
    let after = &toks[scheme_end + 3..];
    let end = after
        .iter()
        .position(|t| matches!(t, Tok::Char('/' | '?' | '#' | '\\')))
        .unwrap_or(after.len());
    let mut authority = &after[..end];
    // Credentials end at the last '@'.
    if let Some(at) = authority.iter().rposition(|t| is_char(t, '@')) {
        authority = &authority[at + 1..];
    }
    let host = if authority.first().is_some_and(|t| is_char(t, '[')) {
        // IPv6: up to the closing bracket, whatever port follows.
        let close = authority.iter().position(|t| is_char(t, ']'))?;
        &authority[..=close]
    } else {
        // A port is digits (or a template) after the last ':'.
        match authority.iter().rposition(|t| is_char(t, ':')) {
            Some(colon)
                if authority[colon + 1..].iter().all(|t| {
                    matches!(t, Tok::Expr(_)) || matches!(t, Tok::Char(c) if c.is_ascii_digit())
                }) =>
            {
                &authority[..colon]
            }
            _ => authority,
        }
    };
    if host.is_empty() {
        return None;
    }
    let templated = host.iter().any(|t| matches!(t, Tok::Expr(_)));
    let text = host
        .iter()
        .map(|t| match t {
            Tok::Char(c) => c.to_lowercase().to_string(),
            Tok::Expr(e) => e.clone(),
        })
        .collect::<String>();
    // DNS ignores a trailing dot; `example.com.` is no new host.
    let text = text.strip_suffix('.').map(str::to_owned).unwrap_or(text);
    (!text.is_empty()).then_some(HttpHost {
        host: text,
        templated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls_table() {
        // (url, host, templated); None = no host.
        let cases: &[(&str, Option<(&str, bool)>)] = &[
            (
                "https://api.example.com/v1/x?y=1",
                Some(("api.example.com", false)),
            ),
            ("HTTP://API.Example.COM", Some(("api.example.com", false))),
            (
                "https://api.example.com:8443/x",
                Some(("api.example.com", false)),
            ),
            (
                "https://user:pa@ss@api.example.com/x",
                Some(("api.example.com", false)),
            ),
            (
                "https://api.example.com./",
                Some(("api.example.com", false)),
            ),
            (
                "https://api.example.com#frag",
                Some(("api.example.com", false)),
            ),
            ("http://10.0.0.7:9000/metrics", Some(("10.0.0.7", false))),
            ("http://[::1]:8080/x", Some(("[::1]", false))),
            (
                "http://[fe80::1%25eth0]/x",
                Some(("[fe80::1%25eth0]", false)),
            ),
            (
                "https://${{inputs.region}}.api.example.com/x",
                Some(("${{ inputs.region }}.api.example.com", true)),
            ),
            (
                "https://${{ inputs.host }}/path/${{ inputs.id }}",
                Some(("${{ inputs.host }}", true)),
            ),
            (
                "https://api.example.com:${{ inputs.port }}/x",
                Some(("api.example.com", false)),
            ),
            (
                "https://api.example.com/${{ steps.a.outputs.path }}",
                Some(("api.example.com", false)),
            ),
            // A template holding what looks like a path separator stays whole.
            (
                "https://${{ steps.a.outputs.x }}.svc/y",
                Some(("${{ steps.a.outputs.x }}.svc", true)),
            ),
            ("https:///x", None),
            ("api.example.com/x", None),
            ("", None),
            ("https://", None),
            // Unterminated template: text as written.
            ("https://${{ inputs.h/x", Some(("${{ inputs.h", false))),
        ];
        for (url, expected) in cases {
            let got = url_host(url);
            let want = expected.map(|(host, templated)| HttpHost {
                host: host.to_owned(),
                templated,
            });
            assert_eq!(got, want, "{url}");
        }
    }

    #[test]
    fn labels_mark_templated_hosts() {
        let host = |h: &str, templated| HttpHost {
            host: h.into(),
            templated,
        };
        assert_eq!(host("api.example.com", false).label(), "api.example.com");
        assert_eq!(
            host("${{ inputs.host }}", true).label(),
            "${{ inputs.host }} (templated)"
        );
    }
}
