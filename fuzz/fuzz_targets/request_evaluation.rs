//! Requests built from fuzzed bytes against a fixed set of routes: routing and every decision
//! stay total (no panic) and keep the engine's invariants: never `*` with credentials, an
//! echoed origin is always the request's single `Origin` value, preflight answers always vary
//! on `Origin`, and forwarded targets stay under the route's upstream base path.
#![no_main]

use std::sync::OnceLock;

use corsgate_core::config::route_table_from_toml;
use corsgate_core::decision::{forwarded, merge_vary, preflight, CorsRequest, ALLOW_CREDENTIALS, ALLOW_ORIGIN, VARY};
use corsgate_core::RouteTable;
use libfuzzer_sys::fuzz_target;

const POLICIES: &[(&str, &str)] = &[
    ("api", "[route]\npath = \"/api/...\"\nupstream = \"https://api.example.com/base\"\nstrip_prefix = true\n[cors]\nallow_origins = [\"https://app.example.com\", \"https://*.example.org\", \"http://localhost:*\"]\nallow_methods = [\"PUT\", \"PATCH\"]\nallow_headers = [\"authorization\", \"x-a\"]\nexpose_headers = [\"x-b\"]\nallow_credentials = true\nmax_age = 60\nallow_private_network = true\n"),
    ("public", "[route]\npath = \"/public/...\"\nupstream = \"https://cdn.example.com\"\n[cors]\nallow_origins = [\"*\"]\nallow_headers = [\"*\"]\nallow_methods = [\"*\"]\n"),
    ("health", "[route]\npath = \"/api/health\"\nupstream = \"https://api.example.com/h\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\npreflight = \"forward\"\n"),
];

fn table() -> &'static RouteTable {
    static TABLE: OnceLock<RouteTable> = OnceLock::new();
    TABLE.get_or_init(|| route_table_from_toml(POLICIES).expect("valid fuzz policies"))
}

// The input is split at 0xFF bytes into: method, path, then header lines tagged by their first
// byte (o = Origin, m = ACRM, h = ACRH, p = ACRPN, anything else = upstream Vary).
fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xFF);
    let method = parts.next().unwrap_or_default();
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (mut origin, mut acrm, mut acrh, mut pna, mut vary) = (vec![], vec![], vec![], vec![], vec![]);
    for part in parts {
        let Some((&tag, value)) = part.split_first() else { continue };
        match tag {
            b'o' => origin.push(value),
            b'm' => acrm.push(value),
            b'h' => acrh.push(value),
            b'p' => pna.push(value),
            _ => vary.push(value),
        }
    }
    let (raw_path, query) = path.split_once('?').map_or((path.as_str(), None), |(p, q)| (p, Some(q)));
    let Ok(routed) = table().route(raw_path) else { return };
    let route = routed.route;
    let target = route.upstream_path_and_query(&routed.path, query);
    assert!(target.starts_with(&*route.upstream().base_path()), "{target} escaped {}", route.upstream().base_path());
    assert!(!target.split('?').next().unwrap_or("").split('/').any(|s| s == ".." || s == "."), "dot segment forwarded: {target}");

    let request = CorsRequest { method, origin: &origin, request_method: &acrm, request_headers: &acrh, request_private_network: &pna };
    let pf = preflight(route.cors(), &request);
    let fw = forwarded(route.cors(), &request);
    for headers in [pf.headers, fw.headers] {
        if let Some(acao) = headers.get(ALLOW_ORIGIN) {
            if acao == b"*" {
                assert!(headers.get(ALLOW_CREDENTIALS).is_none(), "* with credentials");
            } else {
                assert_eq!(origin.as_slice(), &[acao], "echoed origin is the request's only Origin");
            }
        }
    }
    assert!(pf.headers.get(VARY).is_some_and(|v| v.starts_with(b"Origin")));
    // The merged Vary names Origin exactly once whenever the answer depends on it.
    if let Some(merged) = merge_vary(&vary, fw.vary) {
        let origin_tokens = merged.split(|&b| b == b',').filter(|t| t.trim_ascii().eq_ignore_ascii_case(b"origin")).count();
        let star = merged == b"*";
        assert!(star || !route.cors().varies_by_origin() || origin_tokens >= 1, "Vary lost Origin: {:?}", String::from_utf8_lossy(&merged));
    }
});
