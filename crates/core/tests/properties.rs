//! Property tests: for random valid policies (built through the real validator) and random
//! requests (mixing allowed origins with near misses), the engine
//! - never answers `*` together with credentials,
//! - never allows an origin that a separately written reference matcher does not allow, and
//!   always allows the ones it does (a differential test of origin matching),
//! - always says `Vary: Origin` when the answer depends on the origin.

use corsgate_core::config::route_from_toml;
use corsgate_core::decision::{
    forwarded, preflight, CorsRequest, ALLOW_CREDENTIALS, ALLOW_ORIGIN, VARY,
};
use corsgate_core::Route;
use corsgate_testkit::reference::reference_allows;
use proptest::prelude::*;

const HOSTS: &[&str] = &[
    "example.com",
    "app.example.com",
    "a.b.example.com",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "evilexample.com",
    "example.com.evil.net",
    "xn--bcher-kva.example",
];
const PATTERNS_EXTRA: &[&str] = &[
    "https://*.example.com",
    "http://localhost:*",
    "https://*.example.com:*",
    "http://127.0.0.1:*",
    "*",
];

fn origin_strategy() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        prop::sample::select(HOSTS),
        prop::option::of(prop::sample::select(&[80u16, 443, 3000, 8080][..])),
    )
        .prop_map(|(https, host, port)| {
            let scheme = if https { "https" } else { "http" };
            match port {
                Some(p) => format!("{scheme}://{host}:{p}"),
                None => format!("{scheme}://{host}"),
            }
        })
}

/// Near misses of an origin, as attackers and broken clients send them.
fn mutate(origin: &str, how: u8) -> String {
    match how % 8 {
        0 => origin.to_string(),
        1 => origin.to_uppercase(),
        2 => format!("{origin}/"),
        3 => format!("{origin}.evil.net"),
        4 => origin.replacen("://", "://x", 1),
        5 => origin.replacen("://", "://sub.", 1),
        6 => "null".to_string(),
        _ => format!("{origin}:443"),
    }
}

fn build(patterns: &[String], credentials: bool) -> Option<Route> {
    let list: Vec<String> = patterns.iter().map(|p| format!("{p:?}")).collect();
    let text = format!(
        "[route]\npath = \"/x/...\"\nupstream = \"http://127.0.0.1:9\"\n[cors]\nallow_origins = [{}]\nallow_credentials = {credentials}\nallow_methods = [\"PUT\"]\nallow_headers = [\"x-a\"]\nexpose_headers = [\"x-b\"]\n",
        list.join(", ")
    );
    route_from_toml(&text).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn engine_answers_agree_with_the_reference(
        exact in prop::collection::vec(origin_strategy(), 0..4),
        extra in prop::collection::vec(prop::sample::select(PATTERNS_EXTRA), 0..3),
        credentials in prop::bool::ANY,
        request_origin in origin_strategy(),
        how in 0u8..8,
        use_listed in prop::bool::ANY,
        pick in 0usize..8,
        preflight_method in prop::sample::select(&["PUT", "GET", "DELETE", "put"][..]),
    ) {
        let mut patterns: Vec<String> = exact;
        patterns.extend(extra.iter().map(|s| s.to_string()));
        let Some(route) = build(&patterns, credentials) else {
            // The validator refused this combination (`*` with credentials, insecure origins,
            // non-canonical spellings): nothing to serve.
            return Ok(());
        };
        let base = if use_listed && !patterns.is_empty() { patterns[pick % patterns.len()].replace("*.", "q.").replace(":*", ":3000") } else { request_origin };
        let origin = mutate(&base, how);
        let origin_lines = [origin.as_bytes()];
        let acrm = [preflight_method.as_bytes()];
        let request = CorsRequest { method: b"OPTIONS", origin: &origin_lines, request_method: &acrm, ..CorsRequest::default() };
        let expected = patterns.iter().any(|p| reference_allows(p, &origin));
        let any = patterns.iter().any(|p| p == "*");

        let answers = [preflight(route.cors(), &request).headers, forwarded(route.cors(), &CorsRequest { method: b"GET", ..request }).headers];
        for headers in answers {
            let acao = headers.get(ALLOW_ORIGIN);
            let acac = headers.get(ALLOW_CREDENTIALS);
            prop_assert!(!(acao == Some(&b"*"[..]) && acac.is_some()), "* with credentials");
            match acao {
                Some(b"*") => prop_assert!(any),
                Some(value) => {
                    prop_assert_eq!(value, origin.as_bytes(), "ACAO is the request's origin");
                    prop_assert!(expected, "engine allowed {} which the reference refuses for {:?}", origin, patterns);
                }
                None => {}
            }
        }
        let actual = forwarded(route.cors(), &CorsRequest { method: b"GET", ..request });
        if !any {
            prop_assert_eq!(actual.vary, &["Origin"][..], "answer depends on the origin");
            prop_assert_eq!(actual.headers.get(ALLOW_ORIGIN).is_some(), expected, "engine and reference disagree on {} for {:?}", origin, patterns);
        }
        let pf = preflight(route.cors(), &request);
        prop_assert!(pf.headers.get(VARY).is_some_and(|v| v.starts_with(b"Origin")));
        if pf.result.is_ok() {
            prop_assert!(expected && (preflight_method == "PUT" || preflight_method == "GET"));
        }
    }
}
