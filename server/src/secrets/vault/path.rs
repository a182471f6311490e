//! What a `vault:` reference's path names in KV version 2: the mount and the
//! secret's path inside it. Pure, so the rules are tested without a server.
//!
//! People copy paths from Vault's API docs (`kv/data/prod/db`) as often as
//! from its CLI (`kv/prod/db`); both read the same entry. The `data/` infix
//! is dropped only as the second segment, where the KV v2 API puts it, so a
//! secret really named `kv/prod/data/x` is not mangled.

use std::fmt;

/// One KV v2 entry to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvPath {
    pub mount: String,
    /// The path inside the mount, without the `data/` infix.
    pub secret: String,
}

impl KvPath {
    /// Splits `path` into mount and secret path; `mount_override` (the
    /// environment's `mount=`) replaces the first segment.
    ///
    /// Refuses what could read anything but a KV entry: empty segments and
    /// `.`/`..` (a URL normaliser would resolve `kv/data/../../sys/…` to
    /// another endpoint), and characters that would end the URL's path
    /// (`?`, `#`), start an escape (`%`), or break the request line.
    pub fn parse(path: &str, mount_override: Option<&str>) -> Result<Self, String> {
        let segments: Vec<&str> = path.split('/').collect();
        for segment in &segments {
            check_segment(segment).map_err(|why| format!("{path}: {why}"))?;
        }
        let (mount, rest) = match segments.split_first() {
            Some((mount, rest)) if !rest.is_empty() => (*mount, rest),
            _ => {
                return Err(format!(
                    "{path}: a vault path names a mount and a secret, like kv/data/prod/db"
                ));
            }
        };
        let rest = match rest {
            ["data", inner @ ..] if !inner.is_empty() => inner,
            _ => rest,
        };
        let mount = match mount_override {
            // An override may name a nested mount (`team-a/kv`).
            Some(over) => {
                for segment in over.split('/') {
                    check_segment(segment)
                        .map_err(|why| format!("mount override {over:?}: {why}"))?;
                }
                over
            }
            None => mount,
        };
        Ok(Self {
            mount: mount.to_owned(),
            secret: rest.join("/"),
        })
    }

    /// The API path read, `{mount}/data/{secret}`, as error texts name it.
    pub fn api_path(&self) -> String {
        format!("{}/data/{}", self.mount, self.secret)
    }
}

impl fmt::Display for KvPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.mount, self.secret)
    }
}

fn check_segment(segment: &str) -> Result<(), &'static str> {
    if segment.is_empty() {
        return Err("empty path segment");
    }
    if segment == "." || segment == ".." {
        return Err("`.` and `..` are not allowed in a vault path");
    }
    if segment
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\'))
    {
        return Err(
            "whitespace, control characters, `?`, `#`, `%` and `\\` are not allowed in a vault path",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::KvPath;

    fn parse(path: &str, over: Option<&str>) -> (String, String) {
        let kv = KvPath::parse(path, over).unwrap();
        (kv.mount, kv.secret)
    }

    #[test]
    fn the_api_form_drops_the_data_infix() {
        assert_eq!(
            parse("kv/data/prod/db", None),
            ("kv".into(), "prod/db".into())
        );
    }

    #[test]
    fn the_cli_form_reads_the_same_entry() {
        assert_eq!(parse("kv/prod/db", None), ("kv".into(), "prod/db".into()));
    }

    #[test]
    fn data_elsewhere_in_the_path_is_part_of_the_name() {
        assert_eq!(
            parse("kv/prod/data/x", None),
            ("kv".into(), "prod/data/x".into())
        );
        // `kv/data` alone is a secret named `data`, not an empty path.
        assert_eq!(parse("kv/data", None), ("kv".into(), "data".into()));
    }

    #[test]
    fn a_mount_override_replaces_the_first_segment() {
        let kv = KvPath::parse("kv/data/prod/db", Some("kv-prod")).unwrap();
        assert_eq!(kv.api_path(), "kv-prod/data/prod/db");
        assert_eq!(kv.to_string(), "kv-prod/prod/db");
    }

    #[test]
    fn paths_that_could_leave_the_kv_endpoint_are_refused() {
        for bad in [
            "kv/data/../../sys/raw/x",
            "kv/./db",
            "kv//db",
            "kv/db?version=1",
            "kv/db#k",
            "kv/d%2e%2e/x",
            "kv/a b",
            "kv",
            "",
        ] {
            let err = KvPath::parse(bad, None).unwrap_err();
            assert!(err.starts_with(bad), "{bad}: {err}");
        }
        assert!(KvPath::parse("kv/db", Some("..")).is_err());
        assert!(KvPath::parse("kv/db", Some("team//kv")).is_err());
    }

    #[test]
    fn an_override_may_name_a_nested_mount() {
        assert_eq!(
            parse("kv/db", Some("team-a/kv")),
            ("team-a/kv".into(), "db".into())
        );
    }
}
