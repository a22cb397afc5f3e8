//! Black-box tests of the real component on `wasmtime serve` with real upstreams on loopback,
//! CONTRACT.md §2 point by point. One gateway is started for the whole binary (custom harness,
//! so it is stopped by PID after the last test, failures included).

mod support;

use std::time::{Duration, Instant};

use corsgate_testkit::client::{
    abort_after, pattern_sha256, send, send_raw, send_streaming, Body, Request, Response,
};
use corsgate_testkit::process::peak_rss_kib;
use support::Gateway;

const APP: &str = "https://app.example.com";
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

fn main() {
    support::run_cases(
        || Gateway::start("host", ["http://127.0.0.1:1", "http://127.0.0.1:2"]),
        cases(),
    );
}

fn ok(g: &Gateway, request: Request) -> Response {
    send(g.addr, &request).unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.target))
}

fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::new("OPTIONS", path)
        .origin(origin)
        .header("Access-Control-Request-Method", method)
}

/// No `Access-Control-Allow-*` header at all.
fn assert_no_allow_headers(r: &Response) {
    let names: Vec<&String> = r
        .head
        .headers
        .iter()
        .map(|(n, _)| n)
        .filter(|n| n.to_ascii_lowercase().starts_with("access-control-allow-"))
        .collect();
    assert!(
        names.is_empty(),
        "unexpected CORS headers {names:?} in {:?}",
        r.head.headers
    );
}

fn vary_tokens(r: &Response) -> Vec<String> {
    r.head
        .all("vary")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

fn assert_vary_origin_once(r: &Response) {
    let n = vary_tokens(r)
        .iter()
        .filter(|t| t.eq_ignore_ascii_case("origin"))
        .count();
    assert_eq!(
        n,
        1,
        "Vary must name Origin exactly once: {:?}",
        r.head.all("vary")
    );
}

fn cases() -> Vec<support::NamedCase<Gateway>> {
    vec![
        (
            "preflight_allowed_is_answered_at_the_edge",
            preflight_allowed_is_answered_at_the_edge,
        ),
        (
            "preflight_subdomain_and_port_wildcards",
            preflight_subdomain_and_port_wildcards,
        ),
        (
            "preflight_rejects_origins_not_serialized_by_browsers",
            preflight_rejects_origins_not_serialized_by_browsers,
        ),
        (
            "preflight_rejected_method_and_method_case",
            preflight_rejected_method_and_method_case,
        ),
        ("preflight_rejected_header", preflight_rejected_header),
        (
            "preflight_request_headers_split_and_untidy",
            preflight_request_headers_split_and_untidy,
        ),
        (
            "preflight_request_headers_bounds",
            preflight_request_headers_bounds,
        ),
        (
            "preflight_safelisted_method_needs_no_listing",
            preflight_safelisted_method_needs_no_listing,
        ),
        ("preflight_private_network", preflight_private_network),
        ("preflight_on_star_route", preflight_on_star_route),
        (
            "options_without_request_method_is_forwarded",
            options_without_request_method_is_forwarded,
        ),
        (
            "preflight_forward_mode_reaches_upstream",
            preflight_forward_mode_reaches_upstream,
        ),
        ("actual_allowed_origin", actual_allowed_origin),
        (
            "actual_disallowed_and_absent_origin",
            actual_disallowed_and_absent_origin,
        ),
        ("actual_star_route", actual_star_route),
        (
            "upstream_cors_headers_are_replaced",
            upstream_cors_headers_are_replaced,
        ),
        ("vary_is_merged", vary_is_merged),
        (
            "hop_by_hop_headers_are_dropped",
            hop_by_hop_headers_are_dropped,
        ),
        ("forwarded_headers_are_set", forwarded_headers_are_set),
        ("strip_prefix_and_base_path", strip_prefix_and_base_path),
        ("exact_route_beats_prefix", exact_route_beats_prefix),
        (
            "unknown_path_is_404_and_not_forwarded",
            unknown_path_is_404_and_not_forwarded,
        ),
        (
            "dot_segments_cannot_leave_the_route",
            dot_segments_cannot_leave_the_route,
        ),
        (
            "requests_cannot_choose_the_upstream",
            requests_cannot_choose_the_upstream,
        ),
        (
            "unreachable_upstream_is_502_with_cors",
            unreachable_upstream_is_502_with_cors,
        ),
        (
            "broken_upstream_responses_are_502",
            broken_upstream_responses_are_502,
        ),
        (
            "silent_upstream_is_504_with_cors",
            silent_upstream_is_504_with_cors,
        ),
        (
            "slow_body_after_timely_head_is_not_cut",
            slow_body_after_timely_head_is_not_cut,
        ),
        (
            "slow_upload_longer_than_the_timeout_is_not_cut",
            slow_upload_longer_than_the_timeout_is_not_cut,
        ),
        (
            "upstream_reset_mid_body_is_not_passed_off_as_complete",
            upstream_reset_mid_body_is_not_passed_off_as_complete,
        ),
        (
            "client_abort_mid_download_leaves_gateway_serving",
            client_abort_mid_download_leaves_gateway_serving,
        ),
        (
            "streams_one_gib_each_way_with_flat_memory",
            streams_one_gib_each_way_with_flat_memory,
        ),
        (
            "hostile_requests_get_bounded_answers",
            hostile_requests_get_bounded_answers,
        ),
        (
            "upstream_faults_are_logged_with_their_cause",
            upstream_faults_are_logged_with_their_cause,
        ),
        ("one_log_line_per_request", one_log_line_per_request),
        (
            "access_log_setting_chooses_which_requests_are_logged",
            access_log_setting_chooses_which_requests_are_logged,
        ),
        (
            "invalid_policies_fail_the_build_with_locations",
            invalid_policies_fail_the_build_with_locations,
        ),
    ]
}

fn preflight_allowed_is_answered_at_the_edge(g: &Gateway) {
    let r = ok(
        g,
        preflight("/api/users?mk=pf-allowed", APP, "PUT").header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        ),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
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
        let r = ok(g, preflight("/api/x", origin, "DELETE"));
        assert_eq!(r.status, 204, "{origin}");
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
    }
    for origin in [
        "https://example.org",
        "https://evilexample.org",
        "https://example.org.evil.com",
        "http://a.example.org",
        "https://localhost:5173",
    ] {
        let r = ok(g, preflight("/api/x", origin, "DELETE"));
        assert_eq!(r.status, 403, "{origin} must not match");
        assert_no_allow_headers(&r);
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
        let r = ok(
            g,
            Request::new("OPTIONS", "/api/x")
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "PUT"),
        );
        assert_eq!(
            r.status,
            403,
            "origin {:?}",
            String::from_utf8_lossy(origin)
        );
        assert_no_allow_headers(&r);
        assert_eq!(r.header("vary").as_deref(), Some(PREFLIGHT_VARY));
        assert!(
            r.text().contains("origin"),
            "body names the step: {}",
            r.text()
        );
    }
    let two = ok(g, preflight("/api/x", APP, "PUT").origin(APP));
    assert_eq!(two.status, 403, "two Origin lines");
    assert_no_allow_headers(&two);
}

fn preflight_rejected_method_and_method_case(g: &Gateway) {
    for method in ["OPTIONS", "patch", "Put", "CONNECT", "PUT, DELETE", "PU T"] {
        let r = ok(g, preflight("/api/x", APP, method));
        assert_eq!(r.status, 403, "method {method:?}");
        assert_no_allow_headers(&r);
        assert!(r.text().contains("method"), "{}", r.text());
    }
    let two_lines = ok(
        g,
        preflight("/api/x", APP, "PUT").header("Access-Control-Request-Method", "PUT"),
    );
    assert_eq!(two_lines.status, 403, "two ACRM lines");
}

fn preflight_rejected_header(g: &Gateway) {
    for acrh in ["x-other", "content-type,x-other", "cookie", "x custom"] {
        let r = ok(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", acrh),
        );
        assert_eq!(r.status, 403, "ACRH {acrh:?}");
        assert_no_allow_headers(&r);
        assert!(r.text().contains("header"), "{}", r.text());
    }
}

fn preflight_request_headers_split_and_untidy(g: &Gateway) {
    let r = ok(
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
        ok(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &sixteen)
        )
        .status,
        204
    );
    let seventeen = format!("{}x-custom", ",".repeat(17));
    assert_eq!(
        ok(
            g,
            preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &seventeen)
        )
        .status,
        403
    );
    let commas = ",".repeat(60 * 1024);
    let started = Instant::now();
    let r = ok(
        g,
        preflight("/api/x", APP, "PUT").header("Access-Control-Request-Headers", &commas),
    );
    assert_eq!(r.status, 403);
    assert_no_allow_headers(&r);
    eprintln!("60 KiB of commas answered in {:?}", started.elapsed());
}

fn preflight_safelisted_method_needs_no_listing(g: &Gateway) {
    // GET is not listed on /api/health, but a preflight for GET (sent because of a custom
    // header) passes the method step: the browser never checks safelisted methods.
    let r = ok(g, preflight("/api/health", APP, "GET"));
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("GET, HEAD, POST")
    );
}

fn preflight_private_network(g: &Gateway) {
    let asked = ok(
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
    let not_enabled = ok(
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
    let r = ok(
        g,
        preflight("/public/x", "https://anyone.example", "PUT")
            .header("Access-Control-Request-Headers", "x-custom"),
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let rejected = ok(
        g,
        preflight("/public/x", "https://anyone.example", "DELETE"),
    );
    assert_eq!(rejected.status, 403);
    assert_no_allow_headers(&rejected);
}

fn options_without_request_method_is_forwarded(g: &Gateway) {
    let r = ok(
        g,
        Request::new("OPTIONS", "/api/x?mk=plain-options").origin(APP),
    );
    assert_eq!(r.status, 200, "answered by the upstream");
    let seen = g.echo.find("mk=plain-options").expect("forwarded");
    assert_eq!(seen.method, "OPTIONS");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
}

fn preflight_forward_mode_reaches_upstream(g: &Gateway) {
    let r = ok(
        g,
        preflight("/fwd/x?mk=fwd-preflight", APP, "PUT").header("x-upstream-sees", "1"),
    );
    assert_eq!(r.status, 200, "the upstream answered");
    assert!(g.echo.find("mk=fwd-preflight").is_some());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("PUT")
    );
    let rejected = ok(
        g,
        preflight("/fwd/x?mk=fwd-rejected", "https://evil.example", "PUT"),
    );
    assert_no_allow_headers(&rejected);
    assert_vary_origin_once(&rejected);
}

fn actual_allowed_origin(g: &Gateway) {
    let r = ok(
        g,
        Request::new("GET", "/api/users?mk=actual-allowed").origin(APP),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header_count("access-control-allow-origin"), 1);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        r.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        r.header("access-control-expose-headers").as_deref(),
        Some("x-request-id")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        None,
        "only in preflights"
    );
    assert_vary_origin_once(&r);
    // Whatever the method: browsers check methods only in preflights.
    let put = ok(
        g,
        Request::new("PUT", "/api/users?mk=actual-put")
            .origin(APP)
            .body(Body::Bytes(b"{}".to_vec())),
    );
    assert_eq!(
        put.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
}

fn actual_disallowed_and_absent_origin(g: &Gateway) {
    let evil = ok(
        g,
        Request::new("GET", "/api/users?mk=actual-evil").origin("https://evil.example"),
    );
    assert_eq!(
        evil.status, 200,
        "still forwarded: CORS is enforced by the browser"
    );
    assert_no_allow_headers(&evil);
    assert_eq!(evil.header("access-control-expose-headers"), None);
    assert_vary_origin_once(&evil);
    let none = ok(g, Request::new("GET", "/api/users?mk=actual-none"));
    assert_no_allow_headers(&none);
    assert_vary_origin_once(&none);
}

fn actual_star_route(g: &Gateway) {
    for request in [
        Request::new("GET", "/public/x"),
        Request::new("GET", "/public/x").origin("https://anyone.example"),
    ] {
        let r = ok(g, request);
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        assert_eq!(r.header("access-control-allow-credentials"), None);
        assert!(
            !vary_tokens(&r)
                .iter()
                .any(|t| t.eq_ignore_ascii_case("origin")),
            "a * answer does not vary"
        );
    }
}

fn upstream_cors_headers_are_replaced(g: &Gateway) {
    let path = "/api/x?header=Access-Control-Allow-Origin%3A*&header=access-control-allow-origin%3Ahttps%3A%2F%2Fevil.example&header=Access-Control-Allow-Credentials%3Atrue&header=Access-Control-Expose-Headers%3AX-Secret&header=Access-Control-Allow-Methods%3ATRACE";
    let allowed = ok(g, Request::new("GET", path).origin(APP));
    assert_eq!(allowed.header_count("access-control-allow-origin"), 1);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        allowed.header("access-control-expose-headers").as_deref(),
        Some("x-request-id")
    );
    assert_eq!(allowed.header("access-control-allow-methods"), None);
    let evil = ok(g, Request::new("GET", path).origin("https://evil.example"));
    assert_no_allow_headers(&evil);
    assert_eq!(evil.header("access-control-expose-headers"), None);
}

fn vary_is_merged(g: &Gateway) {
    let r = ok(
        g,
        Request::new(
            "GET",
            "/api/x?header=Vary%3AAccept-Encoding&header=Vary%3AAccept-Language",
        )
        .origin(APP),
    );
    assert_eq!(
        vary_tokens(&r),
        ["Accept-Encoding", "Accept-Language", "Origin"]
    );
    let already = ok(
        g,
        Request::new("GET", "/api/x?header=Vary%3Aorigin").origin(APP),
    );
    assert_eq!(vary_tokens(&already), ["origin"], "not added twice");
    let star = ok(g, Request::new("GET", "/api/x?header=Vary%3A*").origin(APP));
    assert_eq!(vary_tokens(&star), ["*"]);
    let public = ok(
        g,
        Request::new("GET", "/public/x?header=Vary%3AAccept-Encoding"),
    );
    assert_eq!(
        vary_tokens(&public),
        ["Accept-Encoding"],
        "kept on * routes, Origin not added"
    );
}

fn hop_by_hop_headers_are_dropped(g: &Gateway) {
    let request = Request::new("GET", "/api/x?mk=hop&header=Keep-Alive%3Atimeout%3D5&header=Proxy-Authenticate%3ABasic&header=Trailer%3AX-T&header=Upgrade%3Ah2c&header=X-Kept%3A1")
        .origin(APP)
        .header("TE", "trailers")
        .header("Trailer", "X-Checksum")
        .header("Keep-Alive", "timeout=5")
        .header("Proxy-Authorization", "Basic Zm9vOmJhcg==")
        .header("X-Kept", "yes");
    let r = ok(g, request);
    let seen = g.echo.find("mk=hop").expect("forwarded");
    for name in [
        "te",
        "trailer",
        "keep-alive",
        "proxy-authorization",
        "connection",
        "upgrade",
    ] {
        assert!(
            seen.head.all(name).is_empty(),
            "upstream got hop-by-hop {name}: {:?}",
            seen.head.headers
        );
    }
    assert_eq!(seen.head.get("x-kept").as_deref(), Some("yes"));
    for name in ["keep-alive", "proxy-authenticate", "trailer", "upgrade"] {
        assert!(
            r.head.all(name).is_empty(),
            "client got hop-by-hop {name}: {:?}",
            r.head.headers
        );
    }
    assert_eq!(r.header("x-kept").as_deref(), Some("1"));
}

fn forwarded_headers_are_set(g: &Gateway) {
    let r = ok(
        g,
        Request::new("GET", "/api/x?mk=xfwd")
            .origin(APP)
            .header("X-Forwarded-For", "203.0.113.7")
            .header("X-Forwarded-Host", "spoofed.example")
            .header("X-Forwarded-Proto", "https"),
    );
    assert_eq!(r.status, 200);
    let seen = g.echo.find("mk=xfwd").expect("forwarded");
    assert_eq!(
        seen.head.get("x-forwarded-for").as_deref(),
        Some("203.0.113.7, unknown")
    );
    assert_eq!(
        seen.head.get("x-forwarded-host").as_deref(),
        Some("gateway.test")
    );
    assert_eq!(seen.head.get("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(
        seen.head.get("host").as_deref(),
        Some(g.echo.addr.to_string().as_str())
    );
    assert_eq!(
        seen.head.get("origin").as_deref(),
        Some(APP),
        "the origin API still sees Origin"
    );
}

fn strip_prefix_and_base_path(g: &Gateway) {
    let cases = [
        ("/api?mk=sp1", "/base/?mk=sp1"),
        ("/api/?mk=sp2", "/base/?mk=sp2"),
        (
            "/api/users/42?mk=sp3&q=a%20b&q=%2F",
            "/base/users/42?mk=sp3&q=a%20b&q=%2F",
        ),
        ("/api/a/./b/../c?mk=sp4", "/base/a/c?mk=sp4"),
        ("/raw/x/y?mk=sp5", "/v1/raw/x/y?mk=sp5"),
        ("/api/%7Euser?mk=sp6", "/base/%7Euser?mk=sp6"),
    ];
    for (path, expected) in cases {
        let marker = &path[path.find("mk=").expect("marker")..][..6];
        assert_eq!(ok(g, Request::new("GET", path)).status, 200, "{path}");
        let seen = g
            .echo
            .find(marker)
            .unwrap_or_else(|| panic!("{path} forwarded"));
        assert_eq!(seen.target, expected, "{path}");
    }
}

fn exact_route_beats_prefix(g: &Gateway) {
    ok(g, Request::new("GET", "/api/health?mk=exact"));
    assert_eq!(
        g.echo.find("mk=exact").expect("forwarded").target,
        "/healthz/?mk=exact"
    );
    ok(g, Request::new("GET", "/api/health/x?mk=notexact"));
    assert_eq!(
        g.echo.find("mk=notexact").expect("forwarded").target,
        "/base/health/x?mk=notexact"
    );
}

fn unknown_path_is_404_and_not_forwarded(g: &Gateway) {
    for path in [
        "/nope?mk=404a",
        "/apix?mk=404b",
        "/?mk=404c",
        "/API/x?mk=404d",
    ] {
        let r = ok(g, Request::new("GET", path).origin(APP));
        assert_eq!(r.status, 404, "{path}");
        assert_no_allow_headers(&r);
    }
    std::thread::sleep(Duration::from_millis(100));
    for marker in ["mk=404a", "mk=404b", "mk=404c", "mk=404d"] {
        assert_eq!(g.echo.count(marker), 0);
    }
}

fn dot_segments_cannot_leave_the_route(g: &Gateway) {
    for path in [
        "/api/../public/x?mk=dot1",
        "/api/%2e%2e/public/x?mk=dot2",
        "/api/.%2E/x?mk=dot3",
        "/../api/x?mk=dot4",
        "/api/..?mk=dot5",
        "/api/a\\..\\..\\public?mk=dot6",
    ] {
        let r = ok(g, Request::new("GET", path).origin(APP));
        assert_eq!(r.status, 400, "{path}");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        g.echo
            .recorded()
            .iter()
            .all(|r| !r.target.contains("mk=dot")),
        "none forwarded"
    );
}

fn requests_cannot_choose_the_upstream(g: &Gateway) {
    let absolute = "GET http://evil.example/api/x?mk=ssrf1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    let r = send_raw(g.addr, absolute.as_bytes()).expect("absolute-form");
    if r.status == 200 {
        let seen = g
            .echo
            .find("mk=ssrf1")
            .expect("went to the configured upstream");
        assert_eq!(seen.target, "/base/x?mk=ssrf1");
    }
    let host = ok(
        g,
        Request {
            host: Some("evil.example:1".into()),
            ..Request::new("GET", "/api/x?mk=ssrf2")
        },
    );
    assert_eq!(host.status, 200);
    assert_eq!(
        g.echo
            .find("mk=ssrf2")
            .expect("forwarded")
            .head
            .get("host")
            .as_deref(),
        Some(g.echo.addr.to_string().as_str())
    );
    let slashes = ok(g, Request::new("GET", "//evil.example/api/x?mk=ssrf3"));
    assert_eq!(slashes.status, 404, "//host is a path, and no route has it");
    let in_route = ok(g, Request::new("GET", "/api//evil.example/x?mk=ssrf4"));
    assert_eq!(in_route.status, 200);
    assert_eq!(
        g.echo.find("mk=ssrf4").expect("forwarded").target,
        "/base//evil.example/x?mk=ssrf4"
    );
    let at = ok(g, Request::new("GET", "/api@evil.example/x?mk=ssrf5"));
    assert_eq!(at.status, 404);
}

fn unreachable_upstream_is_502_with_cors(g: &Gateway) {
    let r = ok(g, Request::new("GET", "/dead/x").origin(APP));
    assert_eq!(r.status, 502);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_eq!(
        r.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_vary_origin_once(&r);
    assert!(r.text().contains("refused"), "{}", r.text());
    let evil = ok(
        g,
        Request::new("GET", "/dead/x").origin("https://evil.example"),
    );
    assert_eq!(evil.status, 502);
    assert_no_allow_headers(&evil);
}

/// The log line of a forwarded request whose path contains `marker`, waiting up to 5 s.
fn log_line_with(g: &Gateway, marker: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(line) = g.log().lines().find(|l| l.contains(marker)) {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {marker}:\n{}",
            g.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn upstream_faults_are_logged_with_their_cause(g: &Gateway) {
    let cases = [
        ("/dead/logged-refused", "decision=upstream_error reason=\"upstream unreachable: connection refused\" status=502"),
        ("/api/logged-malformed?fault=malformed", "decision=upstream_error reason=\"upstream unreachable: malformed response from upstream\" status=502"),
        ("/slow/logged-silent?fault=never", "decision=timeout reason=\"upstream did not answer within 500 ms\" status=504"),
        ("/api/logged-cut?fault=reset_mid_body", "decision=forwarded reason=\"upstream broke off the response body\" status=200"),
    ];
    for (path, expected) in cases {
        let _ = send_streaming(g.addr, &Request::new("GET", path).origin(APP));
        let marker = format!("path={} ", path.split('?').next().unwrap_or(path));
        let line = log_line_with(g, &marker);
        assert!(
            line.contains(expected),
            "{path}: log line lacks {expected:?}:\n{line}"
        );
    }
}

fn broken_upstream_responses_are_502(g: &Gateway) {
    for fault in ["malformed", "close"] {
        let r = ok(
            g,
            Request::new("GET", &format!("/api/x?fault={fault}")).origin(APP),
        );
        assert_eq!(r.status, 502, "fault={fault}: {}", r.text());
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some(APP)
        );
    }
    assert_eq!(
        ok(g, Request::new("GET", "/api/x")).status,
        200,
        "the next request works"
    );
}

fn silent_upstream_is_504_with_cors(g: &Gateway) {
    let started = Instant::now();
    let r = ok(g, Request::new("GET", "/slow/x?fault=never").origin(APP));
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert_vary_origin_once(&r);
    assert!(
        took >= Duration::from_millis(500),
        "not before the timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "not long after it: {took:?}"
    );
    let timely = ok(
        g,
        Request::new("GET", "/slow/x?delay_head_ms=100").origin(APP),
    );
    assert_eq!(timely.status, 200);
}

fn slow_body_after_timely_head_is_not_cut(g: &Gateway) {
    // Head at once, then four pieces 300 ms apart: 1.2 s in all, past the 500 ms timeout.
    let r = ok(
        g,
        Request::new("GET", "/slow/x?bytes=4000&delay_body_ms=300").origin(APP),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 4000);
}

fn slow_upload_longer_than_the_timeout_is_not_cut(g: &Gateway) {
    // Four pieces 300 ms apart: 1.2 s in all, past the 500 ms head timeout, never idle that
    // long. The timeout is for the response head once the request is sent, not for uploads.
    let body = Body::Trickle {
        pieces: 4,
        size: 64 * 1024,
        pause_ms: 300,
    };
    let r = ok(
        g,
        Request::new("POST", "/slow/upload?mk=trickle")
            .origin(APP)
            .body(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        g.echo.find("mk=trickle").expect("forwarded").body_len,
        4 * 64 * 1024
    );
}

fn upstream_reset_mid_body_is_not_passed_off_as_complete(g: &Gateway) {
    // Usually the head and the first KiB reach the client before the connection is cut. When
    // the body fails before the host's HTTP server has flushed the head, the connection closes
    // with no response at all (seen once in a dozen runs). Either is a failure the client sees; a
    // complete-looking body never is acceptable.
    match send_streaming(g.addr, &Request::new("GET", "/api/x?fault=reset_mid_body")) {
        Ok((status, _, body)) => {
            assert_eq!(status, 200);
            assert!(
                !body.complete,
                "a cut body must not look complete ({} bytes)",
                body.len
            );
        }
        Err(error) => assert_eq!(
            error.kind(),
            std::io::ErrorKind::UnexpectedEof,
            "closed without a response is the only other outcome: {error}"
        ),
    }
    assert_eq!(
        ok(g, Request::new("GET", "/api/x")).status,
        200,
        "the next request works"
    );
}

fn client_abort_mid_download_leaves_gateway_serving(g: &Gateway) {
    let status = abort_after(
        g.addr,
        &Request::new("GET", "/api/x?bytes=1073741824"),
        1 << 20,
    )
    .expect("download starts");
    assert_eq!(status, 200);
    assert_eq!(
        ok(g, Request::new("GET", "/api/x")).status,
        200,
        "the next request works"
    );
}

fn streams_one_gib_each_way_with_flat_memory(g: &Gateway) {
    const GIB: u64 = 1 << 30;
    let before = peak_rss_kib(g.pid()).unwrap_or(0);
    let started = Instant::now();
    let (status, _, down) = send_streaming(
        g.addr,
        &Request::new("GET", &format!("/api/big?bytes={GIB}")),
    )
    .expect("download");
    assert_eq!(status, 200);
    assert!(down.complete);
    assert_eq!(down.len, GIB);
    assert_eq!(down.sha256, pattern_sha256(GIB), "downloaded bytes intact");
    let down_time = started.elapsed();
    let started = Instant::now();
    let up = ok(
        g,
        Request::new("POST", "/api/upload?mk=upload-gib").body(Body::Pattern(GIB)),
    );
    assert_eq!(up.status, 200, "{}", up.text());
    let seen = g
        .echo
        .find("mk=upload-gib")
        .expect("upload reached upstream");
    assert_eq!(seen.body_len, GIB);
    assert_eq!(
        seen.body_sha256,
        pattern_sha256(GIB),
        "uploaded bytes intact"
    );
    let up_time = started.elapsed();
    let after = peak_rss_kib(g.pid()).unwrap_or(0);
    eprintln!(
        "1 GiB down in {down_time:?}, up in {up_time:?}; host peak RSS {before} KiB -> {after} KiB"
    );
    assert!(
        after < before + 128 * 1024,
        "host memory grew with body size: peak {before} KiB -> {after} KiB"
    );
}

/// Hostile and odd requests: each gets a bounded, correct answer (from the component, or from
/// the host's HTTP parser before it) within seconds, and the gateway keeps serving.
fn hostile_requests_get_bounded_answers(g: &Gateway) {
    let still_serving = |what: &str| {
        let r = ok(g, preflight("/api/x", APP, "PUT"));
        assert_eq!(r.status, 204, "after {what}, the gateway still answers");
    };
    let timed = |what: &str, raw: Vec<u8>| -> Option<Response> {
        let started = Instant::now();
        let answer = send_raw(g.addr, &raw).ok();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} took {:?}",
            started.elapsed()
        );
        answer
    };
    let raw = |lines: &[&[u8]]| -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    };

    let big_origin = format!("https://{}.example.com", "a".repeat(64 * 1024));
    let r = ok(g, preflight("/api/x", &big_origin, "PUT"));
    assert_eq!(r.status, 403, "64 KiB Origin");
    assert_no_allow_headers(&r);
    still_serving("a 64 KiB Origin");

    let acrh_lines: Vec<String> = (0..1000)
        .map(|i| format!("Access-Control-Request-Headers: x-custom{i}"))
        .collect();
    let mut lines: Vec<&[u8]> = vec![
        b"OPTIONS /api/x HTTP/1.1",
        b"Host: gateway.test",
        b"Origin: https://app.example.com",
        b"Access-Control-Request-Method: PUT",
        b"Connection: close",
    ];
    lines.extend(acrh_lines.iter().map(|l| l.as_bytes()));
    if let Some(r) = timed("1 000 ACRH lines", raw(&lines)) {
        assert!(
            matches!(r.status, 403 | 431),
            "1 000 ACRH lines: {}",
            r.status
        );
        assert_no_allow_headers(&r);
    }
    still_serving("1 000 ACRH lines");

    let big_value = "v".repeat(64 * 1024);
    let r = ok(
        g,
        Request::new("GET", "/api/x?mk=bigvalue")
            .origin(APP)
            .header("X-Big", &big_value),
    );
    assert!(
        matches!(r.status, 200 | 431),
        "64 KiB header value: {}",
        r.status
    );
    if r.status == 200 {
        assert_eq!(
            g.echo
                .find("mk=bigvalue")
                .expect("forwarded")
                .head
                .all("x-big")[0]
                .len(),
            64 * 1024
        );
    }
    still_serving("a 64 KiB header value");

    let r = ok(
        g,
        Request::new("GET", "/api/x?mk=binary")
            .origin(APP)
            .header("X-Bin", b"caf\xe9 \xff\x80"),
    );
    assert_eq!(r.status, 200, "non-UTF-8 header value");
    assert_eq!(
        g.echo
            .find("mk=binary")
            .expect("forwarded")
            .head
            .all("x-bin"),
        [&b"caf\xe9 \xff\x80"[..]],
        "forwarded byte for byte"
    );

    if let Some(r) = timed(
        "no Host",
        raw(&[
            b"GET /api/x HTTP/1.1",
            b"Origin: https://app.example.com",
            b"Connection: close",
        ]),
    ) {
        assert!(
            r.status >= 400,
            "a request without Host is refused: {}",
            r.status
        );
        assert_no_allow_headers(&r);
    }
    still_serving("a request without Host");

    let injections: [(&str, &[u8]); 2] = [
        (
            "CR in Origin",
            b"Origin: https://app.example.com\rSet-Cookie: x=1",
        ),
        (
            "obs-fold",
            b"Origin: https://app.example.com\r\n Set-Cookie: x=1",
        ),
    ];
    for (what, line) in injections {
        if let Some(r) = timed(
            what,
            raw(&[
                b"OPTIONS /api/x HTTP/1.1",
                b"Host: gateway.test",
                line,
                b"Access-Control-Request-Method: PUT",
                b"Connection: close",
            ]),
        ) {
            assert!(
                r.head.all("set-cookie").is_empty(),
                "{what}: injected header reflected"
            );
            assert!(
                r.head
                    .all("access-control-allow-origin")
                    .iter()
                    .all(|v| !v.contains(&b'\r') && !v.contains(&b'\n')),
                "{what}"
            );
        }
        still_serving(what);
    }

    let r = ok(g, Request::new("get", "/api/x?mk=lowerget").origin(APP));
    assert_eq!(
        g.echo.find("mk=lowerget").map(|r| r.method),
        Some("get".to_string()),
        "methods are forwarded as sent"
    );
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    let r = ok(
        g,
        Request::new("options", "/api/x?mk=loweroptions")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT"),
    );
    assert!(
        g.echo.find("mk=loweroptions").is_some(),
        "`options` is not a preflight (status {})",
        r.status
    );
    if let Some(r) = timed(
        "non-token method",
        raw(&[
            b"G(T /api/x HTTP/1.1",
            b"Host: gateway.test",
            b"Connection: close",
        ]),
    ) {
        assert_eq!(r.status, 400, "non-token method");
    }
    still_serving("a non-token method");

    let r = ok(
        g,
        Request::new("GET", "/api/x?mk=getbody")
            .origin(APP)
            .body(Body::Bytes(b"payload".to_vec())),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        g.echo.find("mk=getbody").expect("forwarded").body_len,
        7,
        "a GET body is forwarded, not dropped"
    );
    let r = ok(
        g,
        preflight("/api/x?mk=preflightbody", APP, "PUT").body(Body::Bytes(vec![b'x'; 100_000])),
    );
    assert_eq!(
        r.status, 204,
        "a preflight with a body is still answered at the edge"
    );
    assert_eq!(g.echo.count("mk=preflightbody"), 0);
    still_serving("a preflight with a body");
}

fn one_log_line_per_request(g: &Gateway) {
    ok(g, preflight("/api/x", "https://logged.example", "PUT"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = g.log();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains("origin=https://logged.example"))
        {
            for field in [
                "route=api",
                "kind=preflight",
                "origin=https://logged.example",
                "decision=rejected",
                "reason=\"origin not allowed\"",
                "status=403",
                "upstream_status=-",
                "duration_ms=",
            ] {
                assert!(line.contains(field), "log line lacks {field}: {line}");
            }
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no log line for the request in:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn access_log_setting_chooses_which_requests_are_logged(g: &Gateway) {
    // `problems`: the allowed preflight goes unlogged, the rejected one and the 404 are logged.
    let quiet = g.serve_again(
        "access-log-problems",
        &["--env", "CORSGATE_ACCESS_LOG=problems"],
    );
    ok(&quiet, preflight("/api/quiet-allowed", APP, "PUT"));
    ok(
        &quiet,
        preflight("/api/quiet-rejected", "https://evil.example", "PUT"),
    );
    ok(&quiet, Request::new("GET", "/nowhere/quiet-missing"));
    log_line_with(&quiet, "path=/api/quiet-rejected");
    log_line_with(&quiet, "path=/nowhere/quiet-missing");
    // Lines are written right after each answer; the later ones are in, so this one had time.
    assert!(
        !quiet.log().contains("quiet-allowed"),
        "an allowed preflight is not a problem:\n{}",
        quiet.log()
    );

    // An unknown value logs every request and says why, so a typo never silences the log.
    let typo = g.serve_again("access-log-typo", &["--env", "CORSGATE_ACCESS_LOG=verbose"]);
    ok(&typo, preflight("/api/typo-allowed", APP, "PUT"));
    log_line_with(&typo, "path=/api/typo-allowed");
    assert!(
        typo.log().contains(
            "corsgate warning: CORSGATE_ACCESS_LOG=\"verbose\" is not one of all, problems, off; logging every request"
        ),
        "{}",
        typo.log()
    );

    // `off`: nothing, not even a rejection. The host's own start-up line is the only output.
    let off = g.serve_again("access-log-off", &["--env", "CORSGATE_ACCESS_LOG=off"]);
    ok(
        &off,
        preflight("/api/off-rejected", "https://evil.example", "PUT"),
    );
    ok(&off, Request::new("GET", "/nowhere/off-missing"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !off.log().contains("corsgate "),
        "off logs nothing:\n{}",
        off.log()
    );
}

fn invalid_policies_fail_the_build_with_locations(_: &Gateway) {
    let out = support::cargo_build_component(std::path::Path::new("tests/invalid-policies"));
    assert!(
        !out.status.success(),
        "an invalid policy must fail the build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "tests/invalid-policies/broken.toml:2:8: route path `users/...` must start with `/`",
        "tests/invalid-policies/broken.toml:3:12: upstream `https://user:pw@api.example.com` must not carry userinfo",
        "tests/invalid-policies/broken.toml:6:1: unknown key `allow_origin` in `[cors]` (did you mean `allow_origins`?)",
        "tests/invalid-policies/broken.toml:7:25: `TRACE` is a forbidden method",
        "tests/invalid-policies/broken.toml:8:18: `Cookie` in `allow_headers`",
        "tests/invalid-policies/broken.toml:9:11: `max_age = 90000` is outside 0..=86400",
        "tests/invalid-policies/wildcard.toml:6:18: `\"*\"` in `allow_origins` cannot be combined with `allow_credentials = true`",
        "tests/invalid-policies/wildcard.toml:6:23: `https://App.example.com/` is not written the way browsers send origins",
        "write `https://app.example.com`",
    ] {
        assert!(stderr.contains(expected), "build output lacks {expected:?}:\n{stderr}");
    }
}
