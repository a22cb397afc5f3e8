//! The request plan, table by table: what each request becomes (an edge answer with its
//! status, headers and body, or a forward with its target), both header assemblies of a
//! forward, and the answers made in the upstream's place.

use corsgate_core::config::route_table_from_toml;
use corsgate_core::forwarding::ClientAddress;
use corsgate_core::outcome::Side;
use corsgate_core::{
    governs, plan, ClientConnection, CorsRequest, Forward, Outcome, Plan, RequestHead, RouteTable,
    UpstreamCause, UpstreamFailure,
};

const APP: &str = "https://app.example.com";

fn table() -> RouteTable {
    let cors = "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\"]\nallow_credentials = true\n";
    let files = [
        ("api", format!("[route]\npath = \"/api/...\"\nupstream = \"http://api.test/base\"\nstrip_prefix = true\n{cors}")),
        ("health", format!("[route]\npath = \"/health\"\nupstream = \"http://api.test/healthz\"\nstrip_prefix = true\ntimeout_ms = 250\n{cors}")),
        ("rootless", format!("[route]\npath = \"/rootless/...\"\nupstream = \"http://api.test\"\nstrip_prefix = true\n{cors}")),
        ("kept", format!("[route]\npath = \"/kept/...\"\nupstream = \"http://api.test/v1\"\n{cors}")),
        ("fwd", format!("[route]\npath = \"/fwd/...\"\nupstream = \"http://api.test\"\n{cors}preflight = \"forward\"\n")),
        ("public", "[route]\npath = \"/public/...\"\nupstream = \"http://cdn.test\"\n[cors]\nallow_origins = [\"*\"]\n".to_string()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    route_table_from_toml(&files).expect("valid plan policies")
}

/// A request: method, target, Origin (if any), Access-Control-Request-Method (if any).
fn head<'a>(
    method: &'a str,
    target: &'a str,
    origin: &'a [&'a [u8]],
    request_method: &'a [&'a [u8]],
) -> RequestHead<'a> {
    RequestHead {
        path_and_query: target,
        cors: CorsRequest {
            method: method.as_bytes(),
            origin,
            request_method,
            ..CorsRequest::default()
        },
    }
}

fn forward_of<'a>(table: &'a RouteTable, request: &RequestHead<'a>) -> Forward<'a> {
    match plan(table, request) {
        Plan::Forward(forward) => forward,
        Plan::Answer(answer) => panic!("answered {:?}", answer.outcome),
    }
}

#[test]
fn edge_answers() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let evil: &[&[u8]] = &[b"https://evil.example"];
    let put: &[&[u8]] = &[b"PUT"];
    /// (case, request, decision, status, header names, body)
    type Case<'a> = (
        &'a str,
        RequestHead<'a>,
        &'a str,
        u16,
        Vec<&'a str>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "no route",
            head("GET", "/nope?x=1", app, &[]),
            "not_found",
            404,
            vec!["content-type", "x-content-type-options"],
            "no route for this path\n",
        ),
        (
            "dot segments climb out of the route",
            head("GET", "/api/../public/x", app, &[]),
            "bad_path",
            400,
            vec!["content-type", "x-content-type-options"],
            "path leaves its route or is not a valid request path\n",
        ),
        (
            "not an origin-form path",
            head("GET", "*", app, &[]),
            "bad_path",
            400,
            vec!["content-type", "x-content-type-options"],
            "path leaves its route or is not a valid request path\n",
        ),
        (
            "allowed preflight",
            head("OPTIONS", "/api/x", app, put),
            "allowed",
            204,
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-allow-methods",
                "vary",
            ],
            "",
        ),
        (
            "rejected preflight",
            head("OPTIONS", "/api/x", evil, put),
            "rejected",
            403,
            vec!["vary", "content-type", "x-content-type-options"],
            "CORS preflight rejected: origin not allowed\n",
        ),
    ];
    for (case, request, decision, status, names, body) in cases {
        let Plan::Answer(answer) = plan(&table, &request) else {
            panic!("case {case}: forwarded")
        };
        assert_eq!(answer.outcome.decision(), decision, "case {case}");
        assert_eq!(answer.status(), status, "case {case}");
        let got: Vec<&str> = answer.headers().map(|(n, _)| n).collect();
        assert_eq!(got, names, "case {case}: header names");
        assert_eq!(answer.body(), body, "case {case}: body");
    }
}

#[test]
fn forwards_and_their_targets() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let put: &[&[u8]] = &[b"PUT"];
    /// (case, request, route, upstream target, CORS header names)
    type Case<'a> = (&'a str, RequestHead<'a>, &'a str, &'a str, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "prefix stripped",
            head("GET", "/api/users/1?q=a%20b", app, &[]),
            "api",
            "/base/users/1?q=a%20b",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "empty remainder: the base path itself",
            head("GET", "/api?x", app, &[]),
            "api",
            "/base?x",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "a trailing slash is kept",
            head("GET", "/api/", app, &[]),
            "api",
            "/base/",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "exact route: the base path itself",
            head("GET", "/health", &[], &[]),
            "health",
            "/healthz",
            vec![],
        ),
        (
            "no base path: the root",
            head("GET", "/rootless", app, &[]),
            "rootless",
            "/",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "prefix kept under the base path",
            head("DELETE", "/kept/a/./b", app, &[]),
            "kept",
            "/v1/kept/a/b",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "OPTIONS without ACRM is an actual request",
            head("OPTIONS", "/api/x", app, &[]),
            "api",
            "/base/x",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        ),
        (
            "forward-mode preflight carries the preflight headers",
            head("OPTIONS", "/fwd/x", app, put),
            "fwd",
            "/fwd/x",
            vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-allow-methods",
            ],
        ),
        (
            "star route",
            head("GET", "/public/x", &[], &[]),
            "public",
            "/public/x",
            vec!["access-control-allow-origin"],
        ),
    ];
    for (case, request, route, target, names) in cases {
        let forward = forward_of(&table, &request);
        assert_eq!(&*forward.route.name, route, "case {case}: route");
        assert_eq!(forward.target, target, "case {case}: target");
        let got: Vec<&str> = forward.cors.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(got, names, "case {case}: CORS headers");
    }
}

#[test]
fn upstream_request_headers() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let forward = forward_of(&table, &head("GET", "/api/x", app, &[]));
    let client: Vec<(String, Vec<u8>)> = [
        ("Host", "gateway.test"),
        ("Origin", APP),
        ("Authorization", "Bearer t"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Proxy-Authorization", "Basic x"),
        ("Expect", "100-continue"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-Host", "spoofed.example"),
        ("X-Forwarded-Proto", "https"),
        ("spin-client-addr", "192.0.2.1:5000"),
        ("spin-full-url", "http://gateway.test/api/x"),
        ("Content-Length", "7"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
    .collect();
    /// (case, connection, expected lines)
    type Case<'a> = (&'a str, ClientConnection<'a>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "Spin: plain http, authority known",
            ClientConnection {
                scheme: "http",
                authority: Some("gateway.test"),
                address: ClientAddress::SpinHeader,
            },
            vec![
                ("Origin", APP),
                ("Authorization", "Bearer t"),
                ("Content-Length", "7"),
                ("x-forwarded-for", "203.0.113.7, 192.0.2.1"),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-host", "gateway.test"),
            ],
        ),
        (
            "a host that reports no address: spin-client-addr is the client's and ignored",
            ClientConnection {
                scheme: "https",
                authority: None,
                address: ClientAddress::Unknown,
            },
            vec![
                ("Origin", APP),
                ("Authorization", "Bearer t"),
                ("Content-Length", "7"),
                ("x-forwarded-for", "203.0.113.7, unknown"),
                ("x-forwarded-proto", "https"),
            ],
        ),
    ];
    for (case, connection, expected) in cases {
        let got: Vec<(&str, String)> = forward
            .upstream_headers(&client, connection)
            .iter()
            .map(|(n, v)| (*n, String::from_utf8_lossy(v).into_owned()))
            .collect();
        let expected: Vec<(&str, String)> = expected
            .into_iter()
            .map(|(n, v)| (n, v.to_string()))
            .collect();
        assert_eq!(got, expected, "case {case}");
    }
}

#[test]
fn client_response_headers() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let evil: &[&[u8]] = &[b"https://evil.example"];
    /// (case, route target, Origin, upstream lines, expected lines)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [&'a [u8]],
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "the upstream's CORS headers are replaced",
            "/api/x",
            app,
            vec![
                ("Content-Type", "text/plain"),
                ("Access-Control-Allow-Origin", "*"),
                ("access-control-expose-headers", "x-secret"),
                ("Vary", "Accept-Encoding"),
            ],
            vec![
                ("Content-Type", "text/plain"),
                ("access-control-allow-origin", APP),
                ("access-control-allow-credentials", "true"),
                ("vary", "Accept-Encoding, Origin"),
            ],
        ),
        (
            "disallowed origin: no CORS headers, Vary: Origin",
            "/api/x",
            evil,
            vec![
                ("Access-Control-Allow-Origin", "https://evil.example"),
                ("Keep-Alive", "timeout=5"),
                ("Set-Cookie", "a=1"),
            ],
            vec![("Set-Cookie", "a=1"), ("vary", "Origin")],
        ),
        (
            "Vary: * stays alone",
            "/api/x",
            app,
            vec![("Vary", "*")],
            vec![
                ("access-control-allow-origin", APP),
                ("access-control-allow-credentials", "true"),
                ("vary", "*"),
            ],
        ),
        (
            "star route: no Vary of its own",
            "/public/x",
            &[],
            vec![("Content-Length", "2")],
            vec![
                ("Content-Length", "2"),
                ("access-control-allow-origin", "*"),
            ],
        ),
    ];
    for (case, target, origin, upstream, expected) in cases {
        let forward = forward_of(&table, &head("GET", target, origin, &[]));
        let upstream: Vec<(&str, &[u8])> =
            upstream.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        let got: Vec<(&str, String)> = forward
            .response_headers(&upstream)
            .iter()
            .map(|(n, v)| (*n, String::from_utf8_lossy(v).into_owned()))
            .collect();
        let expected: Vec<(&str, String)> = expected
            .into_iter()
            .map(|(n, v)| (n, v.to_string()))
            .collect();
        assert_eq!(got, expected, "case {case}");
    }
}

#[test]
fn what_became_of_a_forward() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let forward = forward_of(&table, &head("GET", "/health", app, &[]));
    // (case, outcome, status, decision)
    let cases: Vec<(&str, Outcome<'_>, u16, &str)> = vec![
        (
            "relayed whole",
            forward.relayed(201, None),
            201,
            "forwarded",
        ),
        (
            "body broke off upstream",
            forward.relayed(200, Some(Side::Upstream)),
            200,
            "forwarded",
        ),
        (
            "refused",
            forward
                .failed(UpstreamFailure::Unreachable(
                    UpstreamCause::ConnectionRefused,
                ))
                .outcome,
            502,
            "upstream_error",
        ),
        (
            "timeout at the route's timeout_ms",
            forward.failed(UpstreamFailure::Timeout).outcome,
            504,
            "timeout",
        ),
        (
            "client aborted its upload",
            forward.failed(UpstreamFailure::ClientAborted).outcome,
            400,
            "client_aborted",
        ),
    ];
    for (case, outcome, status, decision) in cases {
        assert_eq!(outcome.status(), status, "case {case}");
        assert_eq!(outcome.decision(), decision, "case {case}");
    }
    let timeout = forward.failed(UpstreamFailure::Timeout);
    assert_eq!(timeout.body(), "upstream did not answer within 250 ms\n");
    let headers: Vec<(&str, &[u8])> = timeout.headers().collect();
    assert_eq!(
        headers,
        [
            ("access-control-allow-origin", APP.as_bytes()),
            ("access-control-allow-credentials", b"true"),
            ("vary", b"Origin"),
            ("content-type", b"text/plain; charset=utf-8"),
            ("x-content-type-options", b"nosniff"),
        ],
        "a gateway-made error carries the CORS headers a forwarded response would"
    );
}

#[test]
fn which_targets_a_policy_governs() {
    let table = table();
    // (case, request target, governed)
    let cases = [
        ("prefix route", "/api/users?page=2", true),
        ("prefix route's own path", "/api", true),
        ("exact route", "/health", true),
        ("exact route with a query", "/health?probe=1", true),
        ("under an exact route", "/health/deep", false),
        ("no route", "/other", false),
        ("root", "/", false),
        ("a query that names a route", "/other?next=/api/x", false),
        ("dot segments leaving a route", "/api/../other", true),
    ];
    for (case, target, governed) in cases {
        assert_eq!(governs(&table, target), governed, "{case}: {target}");
    }
}
