//! `corsgate explain` never disagrees with the gateway. Random page requests (origin allowed,
//! near miss or none; method; request headers; credentials; an upstream that sends CORS headers
//! of its own or not) against every route of the shipped policy folder and of the test folder,
//! report-only and `preflight = "forward"` routes included. For each, `explain --format json`
//! predicts what the gateway answers every request the browser sends (the status where the
//! gateway makes it, the CORS headers it sets, or that the upstream's pass untouched), and the
//! real WASIp2 component on `wasmtime serve`, built from the same folder, answers those very
//! requests. `CORSGATE_EXPLAIN_CASES` page requests per folder (default 200); the counts compared
//! are printed.

use std::collections::BTreeSet;
use std::path::Path;

use corsgate_core::decision::is_access_control_header;
use corsgate_testkit::client::{send, Request, Response};
use corsgate_testkit::harness::{corsgate_cli, Host};
use corsgate_testkit::rng::Rng;
use corsgate_testkit::world::{policy_files, Gateway};
use serde_json::Value;

/// Origins beyond those the folders list: near misses of them, and none a policy allows.
const OTHER_ORIGINS: &[&str] = &[
    "https://evil.example",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://a.preview.example.com",
    "https://preview.example.com",
    "http://localhost:3000",
    "null",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

/// Request headers a page may set: none, safelisted, listed by some policy, listed by none.
const HEADERS: &[&[&str]] = &[
    &[],
    &["Content-Type: text/plain"],
    &["Content-Type: application/json"],
    &["Authorization: Bearer t"],
    &["X-Token: 1"],
    &["X-Request-Id: 7", "Content-Type: application/json"],
];

/// What the upstream adds to its answer (through the test upstream's `header=` query): nothing,
/// or CORS headers of its own, which the gateway must replace, or pass on a report-only route.
const UPSTREAM_CORS: &[&[(&str, &str)]] = &[
    &[],
    &[("Access-Control-Allow-Origin", "*")],
    &[
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "PUT, PATCH"),
        ("Access-Control-Allow-Headers", "x-token"),
        ("Vary", "Accept-Encoding"),
    ],
];

/// A page's `fetch()`, as `corsgate explain` takes it.
#[derive(Debug)]
struct PageRequest {
    origin: Option<String>,
    method: &'static str,
    headers: &'static [&'static str],
    credentials: &'static str,
    target: String,
    upstream_cors: &'static [(&'static str, &'static str)],
}

#[test]
fn explain_agrees_with_the_gateway_on_the_shipped_policies() {
    // The shipped policies name the demo API's ports; here the echo upstream stands behind them.
    let files: Vec<(String, String)> = policy_files("policies")
        .into_iter()
        .map(|(name, text)| {
            let text = text
                .replace("127.0.0.1:8081", "{ECHO}")
                .replace("127.0.0.1:8082", "{ECHO}");
            (name, text)
        })
        .collect();
    let gateway = Gateway::start_with_policies(Host::Wasmtime, "explain-agrees-shipped", &files);
    agrees(&gateway, 0x5eed_0001);
}

#[test]
fn explain_agrees_with_the_gateway_on_the_test_policies() {
    let gateway = Gateway::start(
        Host::Wasmtime,
        "explain-agrees-tests",
        ["http://127.0.0.1:8099", "http://127.0.0.2:8099"],
    );
    agrees(&gateway, 0x5eed_0002);
}

fn agrees(gateway: &Gateway, seed: u64) {
    let folder = gateway
        .wasm
        .parent()
        .expect("the component's folder")
        .join("policies");
    let (paths, origins) = routes_and_origins(&folder);
    let cases: usize = std::env::var("CORSGATE_EXPLAIN_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let mut rng = Rng::new(seed);
    let mut compared = std::collections::BTreeMap::<String, usize>::new();
    for case in 0..cases {
        let page = page_request(&mut rng, &paths, &origins);
        let prediction = explain(&page, &folder);
        for predicted in prediction["gateway"].as_array().expect("gateway answers") {
            let request = request_of(predicted, &page);
            let answer = send(gateway.addr, &request)
                .unwrap_or_else(|e| panic!("case {case}: {page:?}: {e}"));
            let context = format!(
                "case {case}: {page:?}\nsent {}\nexplain predicted {predicted:#}\ngateway answered {} {:?}\nexplain said:\n{}",
                request.describe(),
                answer.status,
                cors_lines(&answer),
                prediction["text"].as_str().unwrap_or_default()
            );
            compare(predicted, &answer, page.upstream_cors, &context);
            let kind = predicted["request"].as_str().unwrap_or_default();
            let by = if predicted["cors_headers"].is_array() {
                "the gateway's CORS headers"
            } else {
                "the upstream's CORS headers (report-only)"
            };
            *compared
                .entry(format!("{kind} answers with {by}"))
                .or_default() += 1;
        }
    }
    println!(
        "{cases} page requests; gateway answers compared with explain's predictions: {compared:?}"
    );
}

/// Every route's request paths (under a prefix route, a path below it), with a path no route
/// takes, and every exact origin the folder allows.
fn routes_and_origins(folder: &Path) -> (Vec<String>, Vec<String>) {
    let mut paths = vec!["/no-route-here".to_string(), "/users/../x".to_string()];
    let mut origins: Vec<String> = OTHER_ORIGINS.iter().map(|o| o.to_string()).collect();
    for entry in std::fs::read_dir(folder).expect("policy folder") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("policy");
        let policy: toml::Table = toml::from_str(&text).expect("a valid policy");
        let path = policy["route"]["path"].as_str().expect("route.path");
        paths.push(match path.strip_suffix("/...") {
            Some(prefix) => format!("{prefix}/items/7"),
            None => path.to_string(),
        });
        let listed = policy["cors"]
            .get("allow_origins")
            .and_then(|o| o.as_array());
        for origin in listed.into_iter().flatten().filter_map(|o| o.as_str()) {
            if !origin.contains('*') {
                origins.push(origin.to_string());
            }
        }
    }
    origins.sort();
    origins.dedup();
    (paths, origins)
}

fn page_request(rng: &mut Rng, paths: &[String], origins: &[String]) -> PageRequest {
    let upstream_cors = rng.pick(UPSTREAM_CORS);
    let query: Vec<String> = upstream_cors
        .iter()
        .map(|(name, value)| format!("header={name}%3A{}", value.replace(' ', "%20")))
        .collect();
    let path = rng.pick(paths);
    let target = if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    PageRequest {
        // One request in eight has no Origin: a same-origin or non-browser request.
        origin: (rng.bits() % 8 != 0).then(|| rng.pick(origins)),
        method: rng.pick(METHODS),
        headers: rng.pick(HEADERS),
        credentials: rng.pick(&["omit", "same-origin", "include"]),
        target,
        upstream_cors,
    }
}

/// `corsgate explain --format json` for the page request, against `folder`.
fn explain(page: &PageRequest, folder: &Path) -> Value {
    let mut command = corsgate_cli();
    command.args(["explain", "--format", "json", "--method", page.method]);
    command.args(["--credentials", page.credentials]);
    if let Some(origin) = &page.origin {
        command.args(["--origin", origin]);
    }
    for header in page.headers {
        command.args(["--header", header]);
    }
    command.arg(&page.target).arg(folder);
    let output = command.output().expect("run corsgate explain");
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{page:?}: explain failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("explain's JSON")
}

/// The request explain says the browser sends: its method, target and CORS header lines (a
/// preflight's), plus the page's own headers on the actual request.
fn request_of(predicted: &Value, page: &PageRequest) -> Request {
    let method = predicted["method"].as_str().expect("method");
    let target = predicted["target"].as_str().expect("target");
    let mut request = Request::new(method, target);
    for line in predicted["request_headers"]
        .as_array()
        .expect("request headers")
    {
        request = request.header(
            line[0].as_str().expect("name"),
            line[1].as_str().expect("value"),
        );
    }
    if predicted["request"] == "actual" {
        for header in page.headers {
            let (name, value) = header.split_once(':').expect("curl-style header");
            request = request.header(name, value.trim());
        }
    }
    request
}

/// The gateway's answer against explain's prediction: the status where the gateway makes it,
/// exactly the CORS headers it sets (or, on a report-only route, exactly the upstream's), and
/// every `Vary` token it promised.
fn compare(predicted: &Value, answer: &Response, upstream_cors: &[(&str, &str)], context: &str) {
    if let Some(status) = predicted["status"].as_u64() {
        assert_eq!(u64::from(answer.status), status, "status: {context}");
    }
    let expected: BTreeSet<(String, String)> = match &predicted["cors_headers"] {
        Value::Array(lines) => lines
            .iter()
            .map(|l| (lower(&l[0]), l[1].as_str().expect("value").to_string()))
            .collect(),
        // Report-only: the upstream's own pass untouched. A status the gateway makes itself
        // (its error in the upstream's place) carries none.
        _ if answer.status >= 502 => BTreeSet::new(),
        _ => upstream_cors
            .iter()
            .filter(|(name, _)| is_access_control_header(name))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect(),
    };
    assert_eq!(cors_lines(answer), expected, "CORS headers: {context}");
    let vary: BTreeSet<String> = answer
        .head
        .all("vary")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    for token in predicted["vary"].as_array().expect("vary") {
        let token = lower(token);
        assert!(vary.contains(&token), "Vary lacks {token}: {context}");
    }
}

fn lower(value: &Value) -> String {
    value.as_str().expect("a string").to_ascii_lowercase()
}

/// The answer's `Access-Control-*` lines, names lowercase.
fn cors_lines(answer: &Response) -> BTreeSet<(String, String)> {
    answer
        .head
        .headers
        .iter()
        .filter(|(name, _)| is_access_control_header(name))
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect()
}
