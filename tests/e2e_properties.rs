//! End-to-end property check: randomly generated valid policies built into the real component
//! on `wasmtime serve` and on `spin up`, probed with random requests mixing allowed origins and near misses. On
//! every answer: never `*` together with credentials, at most one `Access-Control-Allow-Origin`,
//! never an origin the policy does not allow (judged by the test kit's separately written
//! reference matcher), always the origin when it is allowed, and `Vary: Origin` whenever the
//! answer depends on the origin. `CORSGATE_E2E_ROUNDS` policies (default 4), 150 requests each.

use corsgate_testkit::client::{send, Request, Response};
use corsgate_testkit::harness::Host;
use corsgate_testkit::reference::reference_allows;
use corsgate_testkit::rng::Rng;
use corsgate_testkit::world::Gateway;

const PATTERNS: &[&str] = &[
    "https://app.example.com",
    "https://*.example.org",
    "http://localhost:*",
    "https://*.example.com:*",
    "http://127.0.0.1:8080",
    "https://admin.example.com:8443",
    "*",
];

const ORIGINS: &[&str] = &[
    "https://app.example.com",
    "https://a.example.org",
    "https://a.b.example.org",
    "https://example.org",
    "https://evilexample.org",
    "http://localhost:3000",
    "http://localhost",
    "https://localhost:3000",
    "https://x.example.com:8443",
    "https://example.com",
    "http://127.0.0.1:8080",
    "http://127.0.0.1:8081",
    "https://admin.example.com:8443",
    "https://admin.example.com",
    "null",
    "HTTPS://APP.EXAMPLE.COM",
    "https://app.example.com/",
    "https://app.example.com.evil.net",
];

fn random_policy(rng: &mut Rng) -> (Vec<&'static str>, bool, String) {
    let credentials = rng.chance();
    let mut patterns: Vec<&str> = (0..1 + rng.below(4))
        .map(|_| PATTERNS[rng.below(PATTERNS.len())])
        .collect();
    patterns.sort();
    patterns.dedup();
    if credentials {
        // The validator refuses "*" with credentials; keep the policy valid.
        patterns.retain(|p| *p != "*");
        if patterns.is_empty() {
            patterns.push("https://app.example.com");
        }
    }
    let methods: Vec<&str> = ["PUT", "DELETE", "PATCH"]
        .into_iter()
        .filter(|_| rng.chance())
        .collect();
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "[route]\npath = \"/p/...\"\nupstream = \"http://{{ECHO}}\"\n[cors]\nallow_origins = [{}]\nallow_methods = [{}]\nallow_headers = [\"x-a\"]\nexpose_headers = [\"x-b\"]\nallow_credentials = {credentials}\nmax_age = 60\n",
        list(&patterns),
        list(&methods)
    );
    (patterns, credentials, text)
}

fn check(answer: &Response, origin: &str, patterns: &[&str], preflight: bool, context: &str) {
    let acao = answer.head.all("access-control-allow-origin");
    assert!(
        acao.len() <= 1,
        "{context}: {} Access-Control-Allow-Origin headers",
        acao.len()
    );
    let star = patterns.contains(&"*");
    let allowed = patterns.iter().any(|p| reference_allows(p, origin));
    let credentials = !answer
        .head
        .all("access-control-allow-credentials")
        .is_empty();
    match acao.first().copied() {
        Some(b"*") => {
            assert!(star, "{context}: * from a policy without \"*\"");
            assert!(!credentials, "{context}: * together with credentials");
        }
        Some(value) => {
            assert_eq!(
                value,
                origin.as_bytes(),
                "{context}: echoed something other than the request's origin"
            );
            assert!(
                allowed,
                "{context}: allowed an origin the policy does not allow"
            );
        }
        None => assert!(
            preflight || !allowed,
            "{context}: an allowed origin got no Access-Control-Allow-Origin"
        ),
    }
    let vary_origin = answer.head.all("vary").iter().any(|v| {
        String::from_utf8_lossy(v)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("origin"))
    });
    if preflight || !star {
        assert!(
            vary_origin,
            "{context}: the answer depends on the origin but does not say Vary: Origin"
        );
    }
}

#[test]
fn random_policies_keep_the_cors_invariants_on_wasmtime() {
    random_policies_keep_the_cors_invariants(Host::Wasmtime);
}

#[test]
fn random_policies_keep_the_cors_invariants_on_spin() {
    random_policies_keep_the_cors_invariants(Host::Spin);
}

fn random_policies_keep_the_cors_invariants(host: Host) {
    if !host.runs_here() {
        return;
    }
    let rounds: u64 = std::env::var("CORSGATE_E2E_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4);
    for round in 1..=rounds {
        let mut rng = Rng::new(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (patterns, _credentials, text) = random_policy(&mut rng);
        let gateway = Gateway::start_with_policies(
            host,
            &format!("e2e-properties-{round}"),
            &[("p.toml".into(), text.clone())],
        );
        for i in 0..150 {
            let origin = ORIGINS[rng.below(ORIGINS.len())];
            let preflight = rng.chance();
            let request = if preflight {
                let method = ["PUT", "DELETE", "PATCH", "GET", "put"][rng.below(5)];
                Request::new("OPTIONS", "/p/x")
                    .origin(origin)
                    .header("Access-Control-Request-Method", method)
            } else {
                Request::new(["GET", "POST", "DELETE"][rng.below(3)], "/p/x").origin(origin)
            };
            let context = format!(
                "round {round} request {i}: {} with Origin {origin} on policy\n{text}",
                request.method
            );
            let answer = send(gateway.addr, &request).unwrap_or_else(|e| panic!("{context}: {e}"));
            check(&answer, origin, &patterns, preflight, &context);
        }
    }
}
