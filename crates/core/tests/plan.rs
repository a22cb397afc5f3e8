//! The request plan, table by table: what each request becomes (an edge answer with its
//! status, headers and body, or a forward with its target), both header assemblies of a
//! forward, and the answers made in the upstream's place.

use corsgate_core::config::route_table_from_toml;
use corsgate_core::exchange::{BodyRelayed, TargetPart};
use corsgate_core::forwarding::ClientAddress;
use corsgate_core::outcome::Side;
use corsgate_core::plan::ForwardCors;
use corsgate_core::report_only::Verdict;
use corsgate_core::{
    governs, plan, ClientConnection, ClientScheme, CorsRequest, Exchange, Forward, Plan,
    RequestHead, RouteTable, UpstreamCause, UpstreamFailure,
};

use corsgate_testkit::expect::APP;

fn table() -> RouteTable {
    let cors = "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\"]\nallow_credentials = true\n";
    let files = [
        ("api", format!("[route]\npath = \"/api/...\"\nupstream = \"http://api.test/base\"\nstrip_prefix = true\n{cors}")),
        ("health", format!("[route]\npath = \"/health\"\nupstream = \"http://api.test/healthz\"\nstrip_prefix = true\ntimeout_ms = 250\n{cors}")),
        ("rootless", format!("[route]\npath = \"/rootless/...\"\nupstream = \"http://api.test\"\nstrip_prefix = true\n{cors}")),
        ("kept", format!("[route]\npath = \"/kept/...\"\nupstream = \"http://api.test/v1\"\n{cors}")),
        ("fwd", format!("[route]\npath = \"/fwd/...\"\nupstream = \"http://api.test\"\n{cors}preflight = \"forward\"\n")),
        ("public", "[route]\npath = \"/public/...\"\nupstream = \"http://cdn.test\"\n[cors]\nallow_origins = [\"*\"]\n".to_string()),
        ("rollout", format!("[route]\npath = \"/rollout/...\"\nupstream = \"http://api.test\"\n{cors}report_only = true\n")),
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

fn forward_of<'t>(table: &'t RouteTable, request: &RequestHead<'_>) -> Forward<'t> {
    match plan(table, request) {
        Plan::Forward(forward) => forward,
        Plan::Answer(answer) => panic!("answered {:?}", answer.outcome()),
    }
}

/// The gateway's CORS header names on a forward (none on a report-only route).
fn cors_names(forward: &Forward<'_>) -> Vec<&'static str> {
    match forward.cors() {
        ForwardCors::Enforced(cors) => cors.headers.iter().map(|(n, _)| n).collect(),
        _ => Vec::new(),
    }
}

/// Header lines as (name, text) pairs, for comparing.
fn texts<'a>(lines: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<(&'a str, String)> {
    lines
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(v).into_owned()))
        .collect()
}

#[test]
fn edge_answers() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let evil: &[&[u8]] = &[b"https://evil.example"];
    let put: &[&[u8]] = &[b"PUT"];
    struct Case<'a> {
        name: &'a str,
        request: RequestHead<'a>,
        decision: &'a str,
        status: u16,
        header_names: Vec<&'a str>,
        body: &'a str,
    }
    let cases: Vec<Case> = vec![
        Case {
            name: "no route",
            request: head("GET", "/nope?x=1", app, &[]),
            decision: "not_found",
            status: 404,
            header_names: vec!["content-type", "x-content-type-options"],
            body: "no route for this path\n",
        },
        Case {
            name: "dot segments climb out of the route",
            request: head("GET", "/api/../public/x", app, &[]),
            decision: "bad_path",
            status: 400,
            header_names: vec!["content-type", "x-content-type-options"],
            body: "path leaves its route or is not a valid request path\n",
        },
        Case {
            name: "not an origin-form path",
            request: head("GET", "*", app, &[]),
            decision: "bad_path",
            status: 400,
            header_names: vec!["content-type", "x-content-type-options"],
            body: "path leaves its route or is not a valid request path\n",
        },
        Case {
            name: "allowed preflight",
            request: head("OPTIONS", "/api/x", app, put),
            decision: "allowed",
            status: 204,
            header_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-allow-methods",
                "vary",
            ],
            body: "",
        },
        Case {
            name: "rejected preflight",
            request: head("OPTIONS", "/api/x", evil, put),
            decision: "rejected",
            status: 403,
            header_names: vec!["vary", "content-type", "x-content-type-options"],
            body: "CORS preflight rejected: origin not allowed\n",
        },
    ];
    for case in cases {
        let name = case.name;
        let Plan::Answer(answer) = plan(&table, &case.request) else {
            panic!("case {name}: forwarded")
        };
        assert_eq!(answer.outcome().decision(), case.decision, "case {name}");
        assert_eq!(answer.status(), case.status, "case {name}");
        let got: Vec<&str> = answer.headers().map(|(n, _)| n).collect();
        assert_eq!(got, case.header_names, "case {name}: header names");
        assert_eq!(answer.body(), case.body, "case {name}: body");
    }
}

#[test]
fn forwards_and_their_targets() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let put: &[&[u8]] = &[b"PUT"];
    struct Case<'a> {
        name: &'a str,
        request: RequestHead<'a>,
        route: &'a str,
        target: &'a str,
        cors_names: Vec<&'a str>,
    }
    let cases: Vec<Case> = vec![
        Case {
            name: "prefix stripped",
            request: head("GET", "/api/users/1?q=a%20b", app, &[]),
            route: "api",
            target: "/base/users/1?q=a%20b",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "empty remainder: the base path itself",
            request: head("GET", "/api?x", app, &[]),
            route: "api",
            target: "/base?x",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "a trailing slash is kept",
            request: head("GET", "/api/", app, &[]),
            route: "api",
            target: "/base/",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "exact route: the base path itself",
            request: head("GET", "/health", &[], &[]),
            route: "health",
            target: "/healthz",
            cors_names: vec![],
        },
        Case {
            name: "no base path: the root",
            request: head("GET", "/rootless", app, &[]),
            route: "rootless",
            target: "/",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "prefix kept under the base path",
            request: head("DELETE", "/kept/a/./b", app, &[]),
            route: "kept",
            target: "/v1/kept/a/b",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "OPTIONS without ACRM is an actual request",
            request: head("OPTIONS", "/api/x", app, &[]),
            route: "api",
            target: "/base/x",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
            ],
        },
        Case {
            name: "forward-mode preflight carries the preflight headers",
            request: head("OPTIONS", "/fwd/x", app, put),
            route: "fwd",
            target: "/fwd/x",
            cors_names: vec![
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-allow-methods",
            ],
        },
        Case {
            name: "star route",
            request: head("GET", "/public/x", &[], &[]),
            route: "public",
            target: "/public/x",
            cors_names: vec!["access-control-allow-origin"],
        },
    ];
    for case in cases {
        let name = case.name;
        let forward = forward_of(&table, &case.request);
        assert_eq!(forward.route().name(), case.route, "case {name}: route");
        assert_eq!(forward.target(), case.target, "case {name}: target");
        assert_eq!(
            cors_names(&forward),
            case.cors_names,
            "case {name}: CORS headers"
        );
    }
}

#[test]
fn upstream_request_heads() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let request = head("GET", "/api/x?q=1", app, &[]);
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
    struct Case<'a> {
        name: &'a str,
        connection: ClientConnection<'a>,
        lines: Vec<(&'a str, &'a str)>,
    }
    let cases = [
        Case {
            name: "Spin: plain http, authority known",
            connection: ClientConnection {
                scheme: ClientScheme::Http,
                authority: Some("gateway.test"),
                address: ClientAddress::SpinHeader,
            },
            lines: vec![
                ("Origin", APP),
                ("Authorization", "Bearer t"),
                ("Content-Length", "7"),
                ("x-forwarded-for", "203.0.113.7, 192.0.2.1"),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-host", "gateway.test"),
            ],
        },
        Case {
            name: "a host that reports no address: spin-client-addr is the client's and ignored",
            connection: ClientConnection {
                scheme: ClientScheme::Https,
                authority: None,
                address: ClientAddress::Unknown,
            },
            lines: vec![
                ("Origin", APP),
                ("Authorization", "Bearer t"),
                ("Content-Length", "7"),
                ("x-forwarded-for", "203.0.113.7, unknown"),
                ("x-forwarded-proto", "https"),
            ],
        },
        Case {
            name: "a scheme the host names otherwise is passed on as named",
            connection: ClientConnection {
                scheme: ClientScheme::Other("wss"),
                authority: None,
                address: ClientAddress::Unknown,
            },
            lines: vec![
                ("Origin", APP),
                ("Authorization", "Bearer t"),
                ("Content-Length", "7"),
                ("x-forwarded-for", "203.0.113.7, unknown"),
                ("x-forwarded-proto", "wss"),
            ],
        },
    ];
    for case in cases {
        let exchange = Exchange::new(forward_of(&table, &request), request);
        let upstream = exchange.upstream_request(&client, case.connection);
        let got = texts(upstream.headers.iter().map(|(n, v)| (*n, &**v)));
        let expected: Vec<(&str, String)> = case
            .lines
            .iter()
            .map(|(n, v)| (*n, v.to_string()))
            .collect();
        assert_eq!(got, expected, "case {}", case.name);
        assert_eq!(upstream.authority, "api.test", "case {}", case.name);
        assert_eq!(
            upstream.path_with_query, "/base/x?q=1",
            "case {}",
            case.name
        );
        assert!(upstream.has_content_length, "case {}", case.name);
        assert_eq!(upstream.timeout_ms, 10_000, "case {}", case.name);
    }
}

#[test]
fn client_response_headers() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let evil: &[&[u8]] = &[b"https://evil.example"];
    struct Case<'a> {
        name: &'a str,
        target: &'a str,
        origin: &'a [&'a [u8]],
        upstream: Vec<(&'a str, &'a str)>,
        client: Vec<(&'a str, &'a str)>,
    }
    let cases = [
        Case {
            name: "the upstream's CORS headers are replaced",
            target: "/api/x",
            origin: app,
            upstream: vec![
                ("Content-Type", "text/plain"),
                ("Access-Control-Allow-Origin", "*"),
                ("access-control-expose-headers", "x-secret"),
                ("Vary", "Accept-Encoding"),
            ],
            client: vec![
                ("Content-Type", "text/plain"),
                ("access-control-allow-origin", APP),
                ("access-control-allow-credentials", "true"),
                ("vary", "Accept-Encoding, Origin"),
            ],
        },
        Case {
            name: "disallowed origin: no CORS headers, Vary: Origin",
            target: "/api/x",
            origin: evil,
            upstream: vec![
                ("Access-Control-Allow-Origin", "https://evil.example"),
                ("Keep-Alive", "timeout=5"),
                ("Set-Cookie", "a=1"),
            ],
            client: vec![("Set-Cookie", "a=1"), ("vary", "Origin")],
        },
        Case {
            name: "Vary: * stays alone",
            target: "/api/x",
            origin: app,
            upstream: vec![("Vary", "*")],
            client: vec![
                ("access-control-allow-origin", APP),
                ("access-control-allow-credentials", "true"),
                ("vary", "*"),
            ],
        },
        Case {
            name: "star route: no Vary of its own",
            target: "/public/x",
            origin: &[],
            upstream: vec![("Content-Length", "2")],
            client: vec![
                ("Content-Length", "2"),
                ("access-control-allow-origin", "*"),
            ],
        },
        Case {
            name: "report-only route: the upstream's CORS headers pass untouched",
            target: "/rollout/x",
            origin: evil,
            upstream: vec![
                ("Access-Control-Allow-Origin", "https://evil.example"),
                ("Keep-Alive", "timeout=5"),
                ("Vary", "Accept-Encoding"),
            ],
            client: vec![
                ("Access-Control-Allow-Origin", "https://evil.example"),
                ("Vary", "Accept-Encoding"),
            ],
        },
    ];
    for case in cases {
        let request = head("GET", case.target, case.origin, &[]);
        let exchange = Exchange::new(forward_of(&table, &request), request);
        let upstream: Vec<(&str, &[u8])> = case
            .upstream
            .iter()
            .map(|(n, v)| (*n, v.as_bytes()))
            .collect();
        let relay = exchange.respond(200, &upstream);
        let headers = relay.client_headers(&upstream);
        let got = texts(headers.iter().map(|(n, v)| (*n, &**v)));
        let expected = texts(case.client.iter().map(|(n, v)| (*n, v.as_bytes())));
        assert_eq!(got, expected, "case {}", case.name);
    }
}

#[test]
fn what_became_of_a_forward() {
    let table = table();
    let app: &[&[u8]] = &[APP.as_bytes()];
    let request = head("GET", "/health", app, &[]);
    let exchange = || Exchange::new(forward_of(&table, &request), request);
    let relayed = |status, broke_off| {
        exchange()
            .respond(status, &[] as &[(&str, &[u8])])
            .finish(
                Some(BodyRelayed {
                    bytes: 3,
                    broke_off,
                }),
                1500,
            )
            .format()
    };
    let failed = |failure| exchange().fail(failure).finish(1500).format();
    struct Case {
        name: &'static str,
        line: String,
        /// What the line holds from its decision to its duration.
        ends_with: &'static str,
    }
    let cases = [
        Case {
            name: "relayed whole",
            line: relayed(201, None),
            ends_with: "decision=forwarded status=201 upstream_status=201 body_bytes=3 duration_ms=1.500",
        },
        Case {
            name: "body broke off upstream",
            line: relayed(200, Some(Side::Upstream)),
            ends_with: "decision=forwarded reason=\"upstream broke off the response body\" status=200 upstream_status=200 body_bytes=3 duration_ms=1.500",
        },
        Case {
            name: "refused",
            line: failed(UpstreamFailure::Unreachable(UpstreamCause::ConnectionRefused)),
            ends_with: "decision=upstream_error reason=\"upstream unreachable: connection refused\" status=502 upstream_status=- duration_ms=1.500",
        },
        Case {
            name: "timeout at the route's timeout_ms",
            line: failed(UpstreamFailure::Timeout),
            ends_with: "decision=timeout reason=\"upstream did not answer within 250 ms\" status=504 upstream_status=- duration_ms=1.500",
        },
        Case {
            name: "client aborted its upload",
            line: failed(UpstreamFailure::ClientAborted),
            ends_with: "decision=client_aborted reason=\"request body broke off\" status=400 upstream_status=- duration_ms=1.500",
        },
        Case {
            name: "the host refused the upstream authority: nothing sent",
            line: failed(UpstreamFailure::refused(TargetPart::Authority)),
            ends_with: "decision=upstream_error reason=\"upstream unreachable: the host refused the upstream request's authority\" status=502 upstream_status=- duration_ms=1.500",
        },
    ];
    for case in cases {
        assert!(
            case.line
                .starts_with("corsgate route=health kind=actual method=GET path=/health"),
            "case {}: {}",
            case.name,
            case.line
        );
        assert!(
            case.line.contains(case.ends_with),
            "case {}: {}",
            case.name,
            case.line
        );
        // After the fields of every line: the route's policy, and that the origin was granted
        // (no credentials field: the test never built the upstream request).
        let policy = table.routes()[0].policy_id();
        assert!(
            case.line
                .ends_with(&format!("duration_ms=1.500 policy={policy} cors=granted")),
            "case {}: {}",
            case.name,
            case.line
        );
    }
    let timeout = exchange().fail(UpstreamFailure::Timeout);
    let answer = timeout.answer();
    assert_eq!(answer.body(), "upstream did not answer within 250 ms\n");
    let headers: Vec<(&str, &[u8])> = answer.headers().collect();
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

/// Report-only rollout: the gateway sets no CORS header of its own, whatever happens upstream,
/// and logs the policy's verdict beside a browser's judgement of the upstream's answer.
#[test]
fn report_only_routes_leave_cors_to_the_upstream() {
    let table = table();
    let evil: &[&[u8]] = &[b"https://evil.example"];
    let put: &[&[u8]] = &[b"PUT"];
    let request = head("OPTIONS", "/rollout/x", evil, put);
    let forward = forward_of(&table, &request);
    assert!(
        matches!(
            forward.cors(),
            ForwardCors::ReportOnly {
                would: Some(Verdict::Reject(_))
            }
        ),
        "a report-only preflight is forwarded with the policy's verdict only: {:?}",
        forward.cors()
    );
    let failed = Exchange::new(forward.clone(), request).fail(UpstreamFailure::Timeout);
    let answer = failed.answer();
    let names: Vec<&str> = answer.headers().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["content-type", "x-content-type-options"],
        "no CORS header on a report-only route's own error"
    );
    let upstream: &[(&str, &[u8])] = &[
        ("access-control-allow-origin", b"https://evil.example"),
        ("access-control-allow-methods", b"PUT"),
    ];
    let line = Exchange::new(forward, request)
        .respond(204, upstream)
        .finish(None, 0)
        .format();
    assert!(
        line.contains("report_only=true would=reject would_reason=\"origin not allowed\" upstream=allow agrees=no"),
        "{line}"
    );
}

#[test]
fn which_targets_a_policy_governs() {
    let table = table();
    struct Case {
        name: &'static str,
        target: &'static str,
        governed: bool,
    }
    let case = |name, target, governed| Case {
        name,
        target,
        governed,
    };
    let cases = [
        case("prefix route", "/api/users?page=2", true),
        case("prefix route's own path", "/api", true),
        case("exact route", "/health", true),
        case("exact route with a query", "/health?probe=1", true),
        case("under an exact route", "/health/deep", false),
        case("no route", "/other", false),
        case("root", "/", false),
        case("a query that names a route", "/other?next=/api/x", false),
        case("dot segments leaving a route", "/api/../other", true),
    ];
    for Case {
        name,
        target,
        governed,
    } in cases
    {
        assert_eq!(governs(&table, target), governed, "{name}: {target}");
    }
}
