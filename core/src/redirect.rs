//! Where to send someone after signing in. Only same-site paths are followed,
//! so a crafted `?next=` link can't bounce a user to another site.

/// Returns `next` when it is a path on this site, `/` otherwise.
pub fn safe_next_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next_path;

    #[test]
    fn follows_same_site_paths() {
        assert_eq!(safe_next_path(Some("/runs?x=1")), "/runs?x=1");
        assert_eq!(safe_next_path(Some("/")), "/");
    }

    #[test]
    fn refuses_anything_that_could_leave_the_site() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "runs",
            "/x\r\nSet-Cookie: a=b",
            "",
        ] {
            assert_eq!(safe_next_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next_path(None), "/");
    }
}
