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
    let cases: Vec<(&str, &Route, Ask, Outcome)> = vec![
        (
            "allowed with headers",
            &credentialed,
            Ask {
                origin: app,
                method: &["PUT"],
                headers: &["authorization,x-custom"],
                ..Ask::default()
            },
            full("https://app.example.com"),
        ),
        (
            "allowed without headers",
            &credentialed,
            Ask {
                origin: app,
                method: &["DELETE"],
                ..Ask::default()
            },
            no_headers.clone(),
        ),
        (
            "empty request-headers asks nothing",
            &credentialed,
            Ask {
                origin: app,
                method: &["DELETE"],
                headers: &[""],
                ..Ask::default()
            },
            no_headers,
        ),
        (
            "subdomain wildcard",
            &credentialed,
            Ask {
                origin: &["https://a.b.example.org"],
                method: &["PUT"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            full("https://a.b.example.org"),
        ),
        (
            "port wildcard",
            &credentialed,
            Ask {
                origin: &["http://localhost:5173"],
                method: &["PUT"],
                headers: &["X-Custom"],
                ..Ask::default()
            },
            full("http://localhost:5173"),
        ),
        (
            "ipv6 loopback",
            &credentialed,
            Ask {
                origin: &["http://[::1]:8080"],
                method: &["PUT"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            full("http://[::1]:8080"),
        ),
        (
            "safelisted method always passes",
            &credentialed,
            Ask {
                origin: app,
                method: &["GET"],
                headers: &["x-custom"],
                ..Ask::default()
            },
            full("https://app.example.com"),
        ),
        (
            "private network asked and enabled",
            &credentialed,
            Ask {
                origin: app,
                method: &["DELETE"],
                private_network: &["true"],
                ..Ask::default()
            },
            ok_headers(&[
                ("access-control-allow-origin", "https://app.example.com"),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "PUT, DELETE, PATCH"),
                ("access-control-max-age", "600"),
                ("access-control-allow-private-network", "true"),
            ]),
        ),
        (
            "star policy",
            &public,
            Ask {
                origin: &["https://anyone.example"],
                method: &["PUT"],
                headers: &["x-whatever"],
                ..Ask::default()
            },
            ok_headers(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "*"),
            ]),
        ),
        (
            "star policy never covers authorization",
            &public,
            Ask {
                origin: &["https://anyone.example"],
                method: &["PUT"],
                headers: &["authorization"],
                ..Ask::default()
            },
            Err("headers"),
        ),
        (
            "origin not listed",
            &credentialed,
            Ask {
                origin: &["https://evil.example"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "origin suffix attack",
            &credentialed,
            Ask {
                origin: &["https://evilexample.org"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "origin as prefix attack",
            &credentialed,
            Ask {
                origin: &["https://app.example.com.evil.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "apex is not a subdomain",
            &credentialed,
            Ask {
                origin: &["https://example.org"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "trailing slash",
            &credentialed,
            Ask {
                origin: &["https://app.example.com/"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "default port",
            &credentialed,
            Ask {
                origin: &["https://app.example.com:443"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "uppercase",
            &credentialed,
            Ask {
                origin: &["https://APP.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "null",
            &credentialed,
            Ask {
                origin: &["null"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "empty origin",
            &credentialed,
            Ask {
                origin: &[""],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "two origin lines",
            &credentialed,
            Ask {
                origin: &["https://app.example.com", "https://app.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "scheme mismatch",
            &credentialed,
            Ask {
                origin: &["http://app.example.com"],
                method: &["PUT"],
                ..Ask::default()
            },
            Err("origin"),
        ),
        (
            "method not allowed",
            &credentialed,
            Ask {
                origin: app,
                method: &["POSTX"],
                ..Ask::default()
            },
            Err("method"),
        ),
        (
            "method case matters",
            &credentialed,
            Ask {
                origin: app,
                method: &["patch"],
                ..Ask::default()
            },
            Err("method"),
        ),
        (
            "safelisted method case matters",
            &credentialed,
            Ask {
                origin: app,
                method: &["get"],
                ..Ask::default()
            },
            Err("method"),
        ),
        (
            "method not a token",
            &credentialed,
            Ask {
                origin: app,
                method: &["PUT, DELETE"],
                ..Ask::default()
            },
            Err("method"),
        ),
        (
            "two method lines",
            &credentialed,
            Ask {
                origin: app,
                method: &["PUT", "PUT"],
                ..Ask::default()
            },
            Err("method"),
        ),
        (
            "header not allowed",
            &credentialed,
            Ask {
                origin: app,
                method: &["PUT"],
                headers: &["x-custom,x-other"],
                ..Ask::default()
            },
            Err("headers"),
        ),
        (
            "malformed header list",
            &credentialed,
            Ask {
                origin: app,
                method: &["PUT"],
                headers: &["x custom"],
                ..Ask::default()
            },
            Err("headers"),
        ),
    ];
    for (name, route, ask, expected) in cases {
        assert_eq!(run_preflight(route, ask), expected, "case {name}");
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
    type Lines<'a> = &'a [&'a [u8]];
    let cases: &[(&str, &[u8], Lines, Lines, RequestKind)] = &[
        (
            "preflight",
            b"OPTIONS",
            &[b"https://a.example"],
            &[b"PUT"],
            RequestKind::Preflight,
        ),
        (
            "options without request method",
            b"OPTIONS",
            &[b"https://a.example"],
            &[],
            RequestKind::Actual,
        ),
        (
            "options without origin",
            b"OPTIONS",
            &[],
            &[b"PUT"],
            RequestKind::Actual,
        ),
        (
            "lowercase options",
            b"options",
            &[b"https://a.example"],
            &[b"PUT"],
            RequestKind::Actual,
        ),
        (
            "get with request method",
            b"GET",
            &[b"https://a.example"],
            &[b"PUT"],
            RequestKind::Actual,
        ),
    ];
    for (name, method, origin, acrm, expected) in cases {
        let request = CorsRequest {
            method,
            origin,
            request_method: acrm,
            ..CorsRequest::default()
        };
        assert_eq!(request.kind(), *expected, "case {name}");
    }
}

#[test]
fn actual_response_table() {
    let credentialed = route(CREDENTIALED);
    let uncredentialed = route("allow_origins = [\"https://app.example.com\"]");
    let public = route(PUBLIC);
    type Expect<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a [&'a str],
    );
    let cases: Vec<(&str, &Route, &[&[u8]], Expect)> = vec![
        (
            "allowed with credentials",
            &credentialed,
            &[b"https://app.example.com"],
            (
                Some("https://app.example.com"),
                Some("true"),
                Some("x-request-id"),
                &["Origin"],
            ),
        ),
        (
            "allowed without credentials",
            &uncredentialed,
            &[b"https://app.example.com"],
            (Some("https://app.example.com"), None, None, &["Origin"]),
        ),
        (
            "disallowed",
            &credentialed,
            &[b"https://evil.example"],
            (None, None, None, &["Origin"]),
        ),
        (
            "absent origin",
            &credentialed,
            &[],
            (None, None, None, &["Origin"]),
        ),
        (
            "star with origin",
            &public,
            &[b"https://x.example"],
            (Some("*"), None, None, &[]),
        ),
        (
            "star without origin",
            &public,
            &[],
            (Some("*"), None, None, &[]),
        ),
    ];
    for (name, route, origin, (acao, acac, aceh, vary)) in cases {
        let request = CorsRequest {
            method: b"GET",
            origin,
            ..CorsRequest::default()
        };
        let answer = forwarded(route.cors(), &request);
        let get = |n: &str| {
            answer
                .headers
                .get(n)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            get("access-control-allow-origin").as_deref(),
            acao,
            "case {name}: ACAO"
        );
        assert_eq!(
            get("access-control-allow-credentials").as_deref(),
            acac,
            "case {name}: ACAC"
        );
        assert_eq!(
            get("access-control-expose-headers").as_deref(),
            aceh,
            "case {name}: ACEH"
        );
        assert_eq!(
            answer.headers.get("access-control-allow-methods"),
            None,
            "case {name}: no preflight headers"
        );
        assert_eq!(answer.vary, vary, "case {name}: Vary");
    }
}

#[test]
fn vary_merge_table() {
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<&'a str>);
    let cases: &[Case] = &[
        ("no upstream vary", &[], &["Origin"], Some("Origin")),
        ("nothing at all", &[], &[], None),
        (
            "keeps upstream tokens first",
            &["Accept-Encoding"],
            &["Origin"],
            Some("Accept-Encoding, Origin"),
        ),
        (
            "several lines",
            &["Accept-Encoding", "Accept-Language, Cookie"],
            &["Origin"],
            Some("Accept-Encoding, Accept-Language, Cookie, Origin"),
        ),
        (
            "origin once, case-insensitively",
            &["origin"],
            &["Origin"],
            Some("origin"),
        ),
        (
            "empty elements dropped",
            &[" , Accept ,,"],
            &["Origin"],
            Some("Accept, Origin"),
        ),
        ("star stays alone", &["Accept, *"], &["Origin"], Some("*")),
        (
            "preflight tokens",
            &["Origin"],
            &["Origin", "Access-Control-Request-Method"],
            Some("Origin, Access-Control-Request-Method"),
        ),
        (
            "kept on star routes",
            &["Accept-Encoding"],
            &[],
            Some("Accept-Encoding"),
        ),
    ];
    for (name, upstream, extra, expected) in cases {
        let lines: Vec<&[u8]> = upstream.iter().map(|l| l.as_bytes()).collect();
        let merged = merge_vary(&lines, extra).map(|v| String::from_utf8(v).expect("ascii"));
        assert_eq!(merged.as_deref(), *expected, "case {name}");
    }
}
