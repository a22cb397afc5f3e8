//! A reference origin matcher written apart from the engine (plain string logic over the
//! pattern text), for differential and end-to-end property tests.

/// Reference matcher, written apart from the engine: plain string logic over the pattern text.
pub fn reference_allows(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some((p_scheme, p_rest)) = pattern.split_once("://") else {
        return false;
    };
    let Some((o_scheme, o_rest)) = origin.split_once("://") else {
        return false;
    };
    if p_scheme != o_scheme || !pattern.contains('*') {
        return pattern == origin;
    }
    let default_port = if o_scheme == "https" { "443" } else { "80" };
    let (o_host, o_port) = split_port(o_rest);
    if let Some(port) = o_port {
        if port.is_empty()
            || port.starts_with('0')
            || port == default_port
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p > 65535)
        {
            return false;
        }
    }
    let (p_host, p_port) = split_port(p_rest);
    let port_ok = match p_port {
        Some("*") => true,
        Some(p) => o_port == Some(p),
        None => o_port.is_none(),
    };
    let host_ok = match p_host.strip_prefix("*.") {
        Some(base) => o_host
            .strip_suffix(base)
            .and_then(|prefix| prefix.strip_suffix('.'))
            .is_some_and(|labels| {
                !labels.is_empty()
                    && labels.split('.').all(|l| {
                        !l.is_empty()
                            && l.bytes().all(|b| {
                                b.is_ascii_lowercase()
                                    || b.is_ascii_digit()
                                    || b == b'-'
                                    || b == b'_'
                            })
                    })
            }),
        None => o_host == p_host,
    };
    port_ok && host_ok && o_host.bytes().all(|b| !b.is_ascii_uppercase())
}

fn split_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        match authority.find("]:") {
            Some(i) => (&authority[..=i], Some(&authority[i + 2..])),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    }
}
