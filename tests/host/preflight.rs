//! Preflights: answered at the edge with exactly the policy's headers, refused at the step that fails, or forwarded where the policy says so (CONTRACT.md §2).

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        preflight_allowed_is_answered_at_the_edge,
        preflight_subdomain_and_port_wildcards,
        preflight_rejects_origins_not_serialized_by_browsers,
        preflight_rejected_method_and_method_case,
        preflight_rejected_header,
        preflight_request_headers_split_and_untidy,
        preflight_request_headers_bounds,
        preflight_safelisted_method_needs_no_listing,
        preflight_private_network,
        preflight_on_star_route,
        options_without_request_method_is_forwarded,
        preflight_forward_mode_reaches_upstream,
    ]
}

fn preflight_allowed_is_answered_at_the_edge(g: &Gateway) {
    let r = answered(
        g,
        preflight("/api/users?mk=pf-allowed", APP, "PUT").header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        ),
    );
    expect::preflight_granted(&r, APP);
    assert_eq!(
        r.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("GET, POST, PUT, DELETE, PATCH")
    );
    assert_eq!(
        r.header("access-control-allow-headers").as_deref(),
        Some("authorization, content-type, x-custom")
    );
    assert_eq!(r.header("access-control-max-age").as_deref(), Some("600"));
    assert_eq!(r.header("vary").as_deref(), Some(PREFLIGHT_VARY));
    assert_eq!(
        r.header("access-control-allow-private-network"),
        None,
        "not asked"
    );
    assert!(r.body.is_empty());
    assert_eq!(
        g.echo.count("mk=pf-allowed"),
        0,
        "an edge preflight never reaches the upstream"
    );
}

fn preflight_subdomain_and_port_wildcards(g: &Gateway) {
    for origin in [
        "https://a.example.org",
        "https://a.b.example.org",
        "http://localhost:5173",
        "http://localhost",
    ] {
        let r = answered(g, preflight("/api/x", origin, "DELETE"));
        expect::preflight_granted(&r, origin);
    }
    for origin in [
        "https://example.org",
        "https://evilexample.org",
        "https://example.org.evil.com",
        "http://a.example.org",
        "https://localhost:5173",
    ] {
        let r = answered(g, preflight("/api/x", origin, "DELETE"));
        expect::preflight_refused(&r);
    }
}

fn preflight_rejects_origins_not_serialized_by_browsers(g: &Gateway) {
    let variants: &[&[u8]] = &[
        b"https://evil.example.com",
        b"",
        b"null",
        b"HTTPS://APP.EXAMPLE.COM",
        b"https://app.example.com:443",
        b"https://app.example.com/",
        b"https://app.example.com/path",
        b"https://app.example.com.evil.com",
        b"https://xapp.example.com",
        b"https://app.example.co",
        b"https://app.example.com\xff",
    ];
    for origin in variants {
        let r = answered(
            g,
            Request::new("OPTIONS", "/api/x")
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "PUT"),
        );
        expect::no_allow_headers(&r);
        if g.host.is_spin() && std::str::from_utf8(origin).is_err() {
            // Spin answers a non-UTF-8 header value itself, before the component runs.
            assert_eq!(r.status, 500);
            continue;
        }
        assert_eq!(
            r.status,
            403,
            "origin {:?}",
            String::from_utf8_lossy(origin)
        );
        assert_eq!(r.header("vary").as_deref(), Some(PREFLIGHT_VARY));
        assert!(
            r.text().contains("origin"),
            "body names the step: {}",
            r.text()
        );
    }
    let two = answered(g, preflight("/api/x", APP, "PUT").origin(APP));
    // Two Origin lines are no origin at all.
    expect::preflight_refused(&two);
}

fn preflight_rejected_method_and_method_case(g: &Gateway) {
    for method in ["OPTIONS", "patch", "Put", "CONNECT", "PUT, DELETE", "PU T"] {
        let r = answered(g, preflight("/api/x", APP, method));
        expect::preflight_refused(&r);
        assert!(r.text().contains("method"), "{}", r.text());
    }
    let two_lines = answered(
        g,
        preflight("/api/x", APP, "PUT").header("Access-Control-Request-Method", "PUT"),
    );
    assert_eq!(two_lines.status, 403, "two ACRM lines");
}

fn preflight_rejected_header(g: &Gateway) {
    for acrh in ["x-other", "content-type,x-other", "cookie", "x custom"] {
        let r = answered(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", acrh),
        );
        expect::preflight_refused(&r);
        assert!(r.text().contains("header"), "{}", r.text());
    }
}

fn preflight_request_headers_split_and_untidy(g: &Gateway) {
    let r = answered(
        g,
        preflight("/api/x", APP, "PUT")
            .header("Access-Control-Request-Headers", " ,Authorization,, ")
            .header("Access-Control-Request-Headers", "CONTENT-TYPE , x-custom,"),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.header("access-control-allow-headers").is_some());
}

fn preflight_request_headers_bounds(g: &Gateway) {
    let sixteen = format!("{}x-custom", ",".repeat(16));
    assert_eq!(
        answered(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &sixteen)
        )
        .status,
        204
    );
    let seventeen = format!("{}x-custom", ",".repeat(17));
    assert_eq!(
        answered(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &seventeen)
        )
        .status,
        403
    );
    let commas = ",".repeat(60 * 1024);
    let started = Instant::now();
    let r = answered(
        g,
        preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &commas),
    );
    expect::preflight_refused(&r);
    eprintln!("60 KiB of commas answered in {:?}", started.elapsed());
}

fn preflight_safelisted_method_needs_no_listing(g: &Gateway) {
    // GET is not listed on /api/health, but a preflight for GET (sent because of a custom
    // header) passes the method step: the browser never checks safelisted methods.
    let r = answered(g, preflight("/api/health", APP, "GET"));
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("GET, HEAD, POST")
    );
}

fn preflight_private_network(g: &Gateway) {
    let asked = answered(
        g,
        preflight("/api/x", APP, "PUT").header("Access-Control-Request-Private-Network", "true"),
    );
    assert_eq!(asked.status, 204);
    assert_eq!(
        asked
            .header("access-control-allow-private-network")
            .as_deref(),
        Some("true")
    );
    let not_enabled = answered(
        g,
        preflight("/api/health", APP, "GET")
            .header("Access-Control-Request-Private-Network", "true"),
    );
    assert_eq!(not_enabled.status, 204, "answered as usual");
    assert_eq!(
        not_enabled.header("access-control-allow-private-network"),
        None
    );
}

fn preflight_on_star_route(g: &Gateway) {
    let r = answered(
        g,
        preflight("/public/x", "https://anyone.example", "PUT")
            .header("Access-Control-Request-Headers", "x-custom"),
    );
    expect::preflight_granted(&r, "*");
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let rejected = answered(
        g,
        preflight("/public/x", "https://anyone.example", "DELETE"),
    );
    expect::preflight_refused(&rejected);
}

fn options_without_request_method_is_forwarded(g: &Gateway) {
    let r = answered(
        g,
        Request::new("OPTIONS", "/api/x?mk=plain-options").origin(APP),
    );
    assert_eq!(r.status, 200, "answered by the upstream");
    let seen = g.echo.find("mk=plain-options").expect("forwarded");
    assert_eq!(seen.method, "OPTIONS");
    expect::allows_origin(&r, APP);
}

fn preflight_forward_mode_reaches_upstream(g: &Gateway) {
    let r = answered(
        g,
        preflight("/fwd/x?mk=fwd-preflight", APP, "PUT").header("x-upstream-sees", "1"),
    );
    assert_eq!(r.status, 200, "the upstream answered");
    assert!(g.echo.find("mk=fwd-preflight").is_some());
    expect::allows_origin(&r, APP);
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("PUT")
    );
    let rejected = answered(
        g,
        preflight("/fwd/x?mk=fwd-rejected", "https://evil.example", "PUT"),
    );
    expect::no_allow_headers(&rejected);
    expect::vary_origin_once(&rejected);
}
