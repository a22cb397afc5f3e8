//! Report-only rollout (tests/policies/rollout.toml): requests reach the upstream untouched, its
//! own CORS headers reach the client, and the log puts the policy's verdict beside the
//! upstream's, so every disagreement shows before the policy takes over.

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        upstream_allows_what_the_policy_refuses,
        policy_allows_what_the_upstream_refuses,
        agreement_is_logged_too,
        preflights_reach_the_upstream,
    ]
}

/// The log line of the request whose path is `path`.
fn line(g: &Gateway, path: &str) -> String {
    g.log_line_with(&format!("path={path} "))
}

fn upstream_allows_what_the_policy_refuses(g: &Gateway) {
    let r = answered(
        g,
        Request::new(
            "GET",
            "/rollout/refused?header=Access-Control-Allow-Origin%3A*&header=Vary%3AAccept",
        )
        .origin("https://evil.example"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.head.all("access-control-allow-origin"),
        [&b"*"[..]],
        "the upstream's own answer reaches the client"
    );
    assert_eq!(vary_tokens(&r), ["Accept"], "Vary is the upstream's alone");
    let line = line(g, "/rollout/refused");
    assert!(
        line.contains("report_only=true would=reject would_reason=\"origin not allowed\" upstream=allow agrees=no"),
        "{line}"
    );
}

fn policy_allows_what_the_upstream_refuses(g: &Gateway) {
    let r = answered(g, Request::new("GET", "/rollout/allowed").origin(APP));
    assert_eq!(r.status, 200);
    expect::no_allow_headers(&r);
    let line = line(g, "/rollout/allowed");
    assert!(
        line.contains("would=allow upstream=reject upstream_reason=\"no Access-Control-Allow-Origin\" agrees=no"),
        "{line}"
    );
}

fn agreement_is_logged_too(g: &Gateway) {
    let r = answered(
        g,
        Request::new(
            "GET",
            "/rollout/agreed?header=Access-Control-Allow-Origin%3Ahttps%3A%2F%2Fapp.example.com",
        )
        .origin(APP),
    );
    expect::allows_origin(&r, APP);
    assert!(line(g, "/rollout/agreed").contains("would=allow upstream=allow agrees=yes"));
}

fn preflights_reach_the_upstream(g: &Gateway) {
    let r = answered(
        g,
        preflight(
            "/rollout/preflight?mk=rollout-preflight&header=Access-Control-Allow-Origin%3Ahttps%3A%2F%2Fapp.example.com&header=Access-Control-Allow-Methods%3APATCH",
            APP,
            "PUT",
        ),
    );
    assert_eq!(r.status, 200, "the upstream answered");
    assert!(
        g.echo.find("mk=rollout-preflight").is_some(),
        "not answered at the edge"
    );
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("PATCH")
    );
    let line = line(g, "/rollout/preflight");
    assert!(
        line.contains("kind=preflight")
            && line.contains(
                "would=allow upstream=reject upstream_reason=\"method not allowed\" agrees=no"
            ),
        "{line}"
    );
}
