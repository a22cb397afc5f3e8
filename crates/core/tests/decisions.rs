//! Decision tables: preflight successes and each failure step, origin-matching attacks, `*`
//! with and without credentials, method case, and `Vary` merging.

use corsgate_core::config::route_from_toml;
use corsgate_core::decision::{
    forwarded, merge_vary, preflight, CorsRequest, PreflightRejection, RequestKind,
};
use corsgate_core::request_headers::HeaderRejection;
use corsgate_core::Route;

fn route(cors: &str) -> Route {
    let text = format!(
        "[route]\npath = \"/x/...\"\nupstream = \"https://api.example.com\"\n[cors]\n{cors}\n"
    );
    route_from_toml(&text).expect("valid test policy")
}

const CREDENTIALED: &str = r#"allow_origins = ["https://app.example.com", "https://*.example.org", "http://localhost:*", "http://[::1]:8080"]
allow_methods = ["PUT", "DELETE", "PATCH"]
allow_headers = ["Authorization", "X-Custom"]
expose_headers = ["X-Request-Id"]
allow_credentials = true
max_age = 600
allow_private_network = true"#;

const PUBLIC: &str = r#"allow_origins = ["*"]
allow_methods = ["PUT"]
allow_headers = ["*"]"#;

#[derive(Default, Clone, Copy)]
struct Ask<'a> {
    origin: &'a [&'a str],
    method: &'a [&'a str],
    headers: &'a [&'a str],
    private_network: &'a [&'a str],
}

type Outcome = Result<Vec<(&'static str, String)>, &'static str>;

fn run_preflight(route: &Route, ask: Ask) -> Outcome {
    let origin: Vec<&[u8]> = ask.origin.iter().map(|s| s.as_bytes()).collect();
    let method: Vec<&[u8]> = ask.method.iter().map(|s| s.as_bytes()).collect();
    let headers: Vec<&[u8]> = ask.headers.iter().map(|s| s.as_bytes()).collect();
    let pna: Vec<&[u8]> = ask.private_network.iter().map(|s| s.as_bytes()).collect();
    let request = CorsRequest {
        method: b"OPTIONS",
        origin: &origin,
        request_method: &method,
        request_headers: &headers,
        request_private_network: &pna,
    };
    assert_eq!(request.kind(), RequestKind::Preflight);
    let decision = preflight(route.cors(), &request);
    let headers: Vec<(&'static str, String)> = decision
        .headers
        .iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(v).into_owned()))
        .collect();
    match decision.result {
        Ok(()) => Ok(headers),
        Err(rejection) => {
            assert_eq!(
                headers,
                vec![("vary", VARY.to_string())],
                "a rejection carries only Vary"
            );
            Err(rejection.step())
        }
    }
}

const VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

fn ok_headers(pairs: &[(&'static str, &str)]) -> Outcome {
    let mut all: Vec<(&'static str, String)> =
        pairs.iter().map(|(n, v)| (*n, v.to_string())).collect();
    all.push(("vary", VARY.to_string()));
    Ok(all)
}

#[test]
fn preflight_table() {
    let credentialed = route(CREDENTIALED);
    let public = route(PUBLIC);
    let app = &["https://app.example.com"][..];
    let full = |origin: &str| {
        ok_headers(&[
            ("access-control-allow-origin", origin),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "PUT, DELETE, PATCH"),
            ("access-control-allow-headers", "authorization, x-custom"),
            ("access-control-max-age", "600"),
        ])
    };
    let no_headers = ok_headers(&[
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-methods", "PUT, DELETE, PATCH"),
        ("access-control-max-age", "600"),
    ]);
    struct Case<'a> {
        name: &'static str,
        route: &'a Route,
        ask: Ask<'a>,
        /// Every CORS header of the `204`, or the step named by the `403`.
        expected: Outcome,
    }
    let cases: Vec<Case> = vec![
        Case {
            name: "allowed with headers",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["PUT"],
                headers: &["authorization,x-custom"],
                ..Ask::default()
            },
            expected: full("https://app.example.com"),
        },
        Case {
            name: "allowed without headers",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["DELETE"],
                ..Ask::default()
            },
            expected: no_headers.clone(),
        },
        Case {
            name: "empty request-headers asks nothing",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["DELETE"],
                headers: &[""],
                ..Ask::default()
            },
            expected: no_headers,
        },
        Case {
            name: "subdomain wildcard",
            route: &credentialed,
            ask: Ask {
                origin: &["https://a.b.example.org"],
                method: &["PUT"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            expected: full("https://a.b.example.org"),
        },
        Case {
            name: "port wildcard",
            route: &credentialed,
            ask: Ask {
                origin: &["http://localhost:5173"],
                method: &["PUT"],
                headers: &["X-Custom"],
                ..Ask::default()
            },
            expected: full("http://localhost:5173"),
        },
        Case {
            name: "ipv6 loopback",
            route: &credentialed,
            ask: Ask {
                origin: &["http://[::1]:8080"],
                method: &["PUT"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            expected: full("http://[::1]:8080"),
        },
        Case {
            name: "safelisted method always passes",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["GET"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            expected: full("https://app.example.com"),
        },
        Case {
            name: "private network asked and enabled",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["DELETE"],
                private_network: &["true"],
                ..Ask::default()
            },
            expected: ok_headers(&[
                ("access-control-allow-origin", "https://app.example.com"),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "PUT, DELETE, PATCH"),
                ("access-control-max-age", "600"),
                ("access-control-allow-private-network", "true"),
            ]),
        },
        Case {
            name: "star policy",
            route: &public,
            ask: Ask {
                origin: &["https://anyone.example"],
                method: &["PUT"],
                headers: &["x-whatever"],
                ..Ask::default()
            },
            expected: ok_headers(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "*"),
            ]),
        },
        Case {
            name: "star policy never covers authorization",
            route: &public,
            ask: Ask {
                origin: &["https://anyone.example"],
                method: &["PUT"],
                headers: &["authorization"],
                ..Ask::default()
            },
            expected: Err("headers"),
        },
        Case {
            name: "origin not listed",
            route: &credentialed,
            ask: Ask {
                origin: &["https://evil.example"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "origin suffix attack",
            route: &credentialed,
            ask: Ask {
                origin: &["https://evilexample.org"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "origin as prefix attack",
            route: &credentialed,
            ask: Ask {
                origin: &["https://app.example.com.evil.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "apex is not a subdomain",
            route: &credentialed,
            ask: Ask {
                origin: &["https://example.org"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "trailing slash",
            route: &credentialed,
            ask: Ask {
                origin: &["https://app.example.com/"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "default port",
            route: &credentialed,
            ask: Ask {
                origin: &["https://app.example.com:443"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "uppercase",
            route: &credentialed,
            ask: Ask {
                origin: &["https://APP.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "null",
            route: &credentialed,
            ask: Ask {
                origin: &["null"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "empty origin",
            route: &credentialed,
            ask: Ask {
                origin: &[""],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "two origin lines",
            route: &credentialed,
            ask: Ask {
                origin: &["https://app.example.com", "https://app.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "scheme mismatch",
            route: &credentialed,
            ask: Ask {
                origin: &["http://app.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            expected: Err("origin"),
        },
        Case {
            name: "method not allowed",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["POSTX"],
                ..Ask::default()
            },
            expected: Err("method"),
        },
        Case {
            name: "method case matters",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["patch"],
                ..Ask::default()
            },
            expected: Err("method"),
        },
        Case {
            name: "safelisted method case matters",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["get"],
                ..Ask::default()
            },
            expected: Err("method"),
        },
        Case {
            name: "method not a token",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["PUT, DELETE"],
                ..Ask::default()
            },
            expected: Err("method"),
        },
        Case {
            name: "two method lines",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["PUT", "PUT"],
                ..Ask::default()
            },
            expected: Err("method"),
        },
        Case {
            name: "header not allowed",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["PUT"],
                headers: &["x-custom,x-other"],
                ..Ask::default()
            },
            expected: Err("headers"),
        },
        Case {
            name: "malformed header list",
            route: &credentialed,
            ask: Ask {
                origin: app,
                method: &["PUT"],
                headers: &["x custom"],
                ..Ask::default()
            },
            expected: Err("headers"),
        },
    ];
    for case in cases {
        assert_eq!(
            run_preflight(case.route, case.ask),
            case.expected,
            "case {}",
            case.name
        );
    }
}

#[test]
fn rejection_reports_the_offending_value() {
    let r = route(CREDENTIALED);
    let origin: &[&[u8]] = &[b"https://app.example.com"];
    let request = CorsRequest {
        method: b"OPTIONS",
        origin,
        request_method: &[b"PUT"],
        request_headers: &[b"x-custom, x-nope"],
        ..CorsRequest::default()
    };
    assert_eq!(
        preflight(r.cors(), &request).result,
        Err(PreflightRejection::Headers(HeaderRejection::NotAllowed(
            b"x-nope"
        )))
    );
}

#[test]
fn classification_table() {
    struct Case {
        name: &'static str,
        method: &'static [u8],
        /// The `Origin` lines.
        origin: &'static [&'static [u8]],
        /// The `Access-Control-Request-Method` lines.
        request_method: &'static [&'static [u8]],
        kind: RequestKind,
    }
    let cases: &[Case] = &[
        Case {
            name: "preflight",
            method: b"OPTIONS",
            origin: &[b"https://a.example"],
            request_method: &[b"PUT"],
            kind: RequestKind::Preflight,
        },
        Case {
            name: "options without request method",
            method: b"OPTIONS",
            origin: &[b"https://a.example"],
            request_method: &[],
            kind: RequestKind::Actual,
        },
        Case {
            name: "options without origin",
            method: b"OPTIONS",
            origin: &[],
            request_method: &[b"PUT"],
            kind: RequestKind::Actual,
        },
        Case {
            name: "lowercase options",
            method: b"options",
            origin: &[b"https://a.example"],
            request_method: &[b"PUT"],
            kind: RequestKind::Actual,
        },
        Case {
            name: "get with request method",
            method: b"GET",
            origin: &[b"https://a.example"],
            request_method: &[b"PUT"],
            kind: RequestKind::Actual,
        },
    ];
    for case in cases {
        let request = CorsRequest {
            method: case.method,
            origin: case.origin,
            request_method: case.request_method,
            ..CorsRequest::default()
        };
        assert_eq!(request.kind(), case.kind, "case {}", case.name);
    }
}

#[test]
fn actual_response_table() {
    let credentialed = route(CREDENTIALED);
    let uncredentialed = route("allow_origins = [\"https://app.example.com\"]");
    let public = route(PUBLIC);
    struct Case<'a> {
        name: &'static str,
        route: &'a Route,
        /// The `Origin` lines.
        origin: &'static [&'static [u8]],
        /// The expected `Access-Control-Allow-Origin` (`None`: absent), and so on.
        allow_origin: Option<&'static str>,
        allow_credentials: Option<&'static str>,
        expose_headers: Option<&'static str>,
        /// The tokens to merge into the upstream's `Vary`.
        vary: &'static [&'static str],
    }
    let cases: Vec<Case> = vec![
        Case {
            name: "allowed with credentials",
            route: &credentialed,
            origin: &[b"https://app.example.com"],
            allow_origin: Some("https://app.example.com"),
            allow_credentials: Some("true"),
            expose_headers: Some("x-request-id"),
            vary: &["Origin"],
        },
        Case {
            name: "allowed without credentials",
            route: &uncredentialed,
            origin: &[b"https://app.example.com"],
            allow_origin: Some("https://app.example.com"),
            allow_credentials: None,
            expose_headers: None,
            vary: &["Origin"],
        },
        Case {
            name: "disallowed",
            route: &credentialed,
            origin: &[b"https://evil.example"],
            allow_origin: None,
            allow_credentials: None,
            expose_headers: None,
            vary: &["Origin"],
        },
        Case {
            name: "absent origin",
            route: &credentialed,
            origin: &[],
            allow_origin: None,
            allow_credentials: None,
            expose_headers: None,
            vary: &["Origin"],
        },
        Case {
            name: "star with origin",
            route: &public,
            origin: &[b"https://x.example"],
            allow_origin: Some("*"),
            allow_credentials: None,
            expose_headers: None,
            vary: &[],
        },
        Case {
            name: "star without origin",
            route: &public,
            origin: &[],
            allow_origin: Some("*"),
            allow_credentials: None,
            expose_headers: None,
            vary: &[],
        },
    ];
    for case in cases {
        let name = case.name;
        let request = CorsRequest {
            method: b"GET",
            origin: case.origin,
            ..CorsRequest::default()
        };
        let answer = forwarded(case.route.cors(), &request);
        let get = |n: &str| {
            answer
                .headers
                .get(n)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            get("access-control-allow-origin").as_deref(),
            case.allow_origin,
            "case {name}: ACAO"
        );
        assert_eq!(
            get("access-control-allow-credentials").as_deref(),
            case.allow_credentials,
            "case {name}: ACAC"
        );
        assert_eq!(
            get("access-control-expose-headers").as_deref(),
            case.expose_headers,
            "case {name}: ACEH"
        );
        assert_eq!(
            answer.headers.get("access-control-allow-methods"),
            None,
            "case {name}: no preflight headers"
        );
        assert_eq!(answer.vary, case.vary, "case {name}: Vary");
    }
}

#[test]
fn vary_merge_table() {
    struct Case {
        name: &'static str,
        /// The upstream's `Vary` lines.
        upstream: &'static [&'static str],
        /// The tokens the gateway adds.
        extra: &'static [&'static str],
        /// The merged value (`None`: no `Vary` at all).
        merged: Option<&'static str>,
    }
    let cases: &[Case] = &[
        Case {
            name: "no upstream vary",
            upstream: &[],
            extra: &["Origin"],
            merged: Some("Origin"),
        },
        Case {
            name: "nothing at all",
            upstream: &[],
            extra: &[],
            merged: None,
        },
        Case {
            name: "keeps upstream tokens first",
            upstream: &["Accept-Encoding"],
            extra: &["Origin"],
            merged: Some("Accept-Encoding, Origin"),
        },
        Case {
            name: "several lines",
            upstream: &["Accept-Encoding", "Accept-Language, Cookie"],
            extra: &["Origin"],
            merged: Some("Accept-Encoding, Accept-Language, Cookie, Origin"),
        },
        Case {
            name: "origin once, case-insensitively",
            upstream: &["origin"],
            extra: &["Origin"],
            merged: Some("origin"),
        },
        Case {
            name: "empty elements dropped",
            upstream: &[" , Accept ,,"],
            extra: &["Origin"],
            merged: Some("Accept, Origin"),
        },
        Case {
            name: "star stays alone",
            upstream: &["Accept, *"],
            extra: &["Origin"],
            merged: Some("*"),
        },
        Case {
            name: "preflight tokens",
            upstream: &["Origin"],
            extra: &["Origin", "Access-Control-Request-Method"],
            merged: Some("Origin, Access-Control-Request-Method"),
        },
        Case {
            name: "kept on star routes",
            upstream: &["Accept-Encoding"],
            extra: &[],
            merged: Some("Accept-Encoding"),
        },
    ];
    for case in cases {
        let lines: Vec<&[u8]> = case.upstream.iter().map(|l| l.as_bytes()).collect();
        let merged = merge_vary(&lines, case.extra).map(|v| String::from_utf8(v).expect("ascii"));
        assert_eq!(merged.as_deref(), case.merged, "case {}", case.name);
    }
}
