//! The one judge of a URL and of a server name: every command, the wizard and `check` ask
//! here, so that a value one accepts is never refused (or written) by another.

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    /// Synapse refuses it (no http(s) scheme, no host, a bad port, white space).
    Invalid(String),
    /// Synapse accepts it, but a query or fragment breaks the URLs built from it.
    QueryOrFragment(String),
}

impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlProblem::Invalid(m) | UrlProblem::QueryOrFragment(m) => f.write_str(m),
        }
    }
}

/// `url` without its scheme, when that is http or https (in any case).
fn without_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https").then_some(rest)
}

/// The host and port part of a URL (after any `user@`).
pub fn authority(url: &str) -> Option<&str> {
    let rest = without_scheme(url)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    Some(host.rsplit_once('@').map_or(host, |(_, h)| h))
}

/// The host of an http(s) URL, without port or a final dot.
pub fn host_of(url: &str) -> Option<&str> {
    let (host, _) = split_port(authority(url)?);
    Some(host.trim_end_matches('.'))
}

/// Whether a URL points at the machine it is used on (`localhost`, 127.0.0.0/8, `::1`): from
/// another container it reaches nothing of the other program's.
pub fn is_loopback(url: &str) -> bool {
    let Some(host) = host_of(url) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A URL with the trailing slash MAS and Synapse need to join paths to it.
pub fn with_slash(url: &str) -> String {
    match url.ends_with('/') {
        true => url.to_owned(),
        false => format!("{url}/"),
    }
}

/// An http(s) URL as Synapse and MAS use one: a scheme, a host, an optional port, no white
/// space; a query or fragment is its own problem.
pub fn check_url(url: &str) -> Result<(), UrlProblem> {
    let invalid = |why: &str| Err(UrlProblem::Invalid(format!("`{url}` {why}")));
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("contains white space");
    }
    let Some(authority) = authority(url) else {
        return invalid("must start with http:// or https://");
    };
    let (host, port) = split_port(authority);
    if host.is_empty() {
        return invalid("has no host name");
    }
    if let Some(port) = port
        && !port_ok(port)
    {
        return invalid("has a port that is not a number from 1 to 65535");
    }
    if url.contains(['?', '#']) {
        return Err(UrlProblem::QueryOrFragment(format!(
            "`{url}` has a query or fragment (`?`/`#`), which breaks the URLs built from it"
        )));
    }
    Ok(())
}

/// Whether two URLs name the same place: scheme and host in any case, a final `/` or not.
pub fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// A Matrix server name, as in user IDs: a host name, IPv4 or `[IPv6]` address, and an
/// optional port. Not a URL, not a user ID.
pub fn check_server_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "`{name}` is not a server name: {why} (e.g. example.com)"
        ))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.contains("://") {
        return bad("it is a URL; a server name has no scheme or path");
    }
    if name.starts_with('@') || name.contains('@') {
        return bad("it looks like a user ID; the server name is the part after the `:`");
    }
    let (host, port) = split_port(name);
    // Synapse takes any digits as the port of a server name.
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return bad("its port is not a number");
    }
    let ipv6 = host.len() > 2
        && host.starts_with('[')
        && host.ends_with(']')
        && host[1..host.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    let dns = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !(ipv6 || dns) {
        return bad("a host name has only letters, digits, `-` and `.`");
    }
    Ok(())
}

/// `host[:port]` split at the port's colon (an IPv6 address keeps its own colons).
fn split_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(i) => (&s[..=i], s[i + 1..].strip_prefix(':')),
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

fn port_ok(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && (1..=65535).contains(&p.parse::<u32>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for url in [
            "http://localhost:8008/",
            "http://LOCALHOST/",
            "http://127.0.0.1:8008/",
            "http://127.1.2.3/",
            "http://[::1]:8008/",
            "http://synapse.localhost/",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://synapse:8008/",
            "https://matrix.example.com/",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn server_names() {
        for ok in [
            "example.com",
            "example.com:8448",
            "localhost",
            "1.2.3.4:80",
            "[::1]:8448",
            "[2001:db8::1]",
        ] {
            assert_eq!(check_server_name(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("@admin:example.com", "user ID"),
            ("exa mple.com", "letters"),
            ("https://example.com", "URL"),
            ("example.com/", "letters"),
            ("example.com:x", "port"),
            ("example.com:", "port"),
            ("[::1", "letters"),
        ] {
            let e = check_server_name(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://auth.example.com/",
            "http://localhost:8080",
            "HTTPS://Auth.Example.com/prefix/",
            "http://[::1]:8080/",
            "http://user@mas:8080/",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "auth.example.com",
            "ftp://auth.example.com/",
            "https://",
            "https://:8080/",
            "https://auth.example.com:http/",
            "https://auth.example.com:70000/",
            "https://exa mple.com/",
        ] {
            assert!(
                matches!(check_url(bad), Err(UrlProblem::Invalid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_url("https://auth.example.com/?x=1"),
            Err(UrlProblem::QueryOrFragment(_))
        ));
    }

    #[test]
    fn same_place() {
        assert!(same_url("https://A.example.com/", "https://a.example.com"));
        assert!(!same_url(
            "https://a.example.com/",
            "https://b.example.com/"
        ));
        assert_eq!(
            host_of("https://u@Matrix.example.com.:8448/x"),
            Some("Matrix.example.com")
        );
    }
}
