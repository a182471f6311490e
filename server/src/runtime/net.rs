//! Small network facts shared by the places that decide whether plain http
//! is acceptable (only where nothing crosses a network).

/// Whether `url`'s host is this machine: `localhost` or a loopback address.
pub fn is_loopback_host(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
