//! Actual requests: the gateway owns every `Access-Control-*` header of the response and merges `Vary` (CONTRACT.md §2).

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        actual_allowed_origin,
        actual_disallowed_and_absent_origin,
        actual_star_route,
        upstream_cors_headers_are_replaced,
        vary_is_merged,
    ]
}

fn actual_allowed_origin(g: &Gateway) {
    let r = answered(
        g,
        Request::new("GET", "/api/users?mk=actual-allowed").origin(APP),
    );
    assert_eq!(r.status, 200);
    expect::allows_origin(&r, APP);
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
    expect::vary_origin_once(&r);
    // Whatever the method: browsers check methods only in preflights.
    let put = answered(
        g,
        Request::new("PUT", "/api/users?mk=actual-put")
            .origin(APP)
            .body(Body::Bytes(b"{}".to_vec())),
    );
    expect::allows_origin(&put, APP);
}

fn actual_disallowed_and_absent_origin(g: &Gateway) {
    let evil = answered(
        g,
        Request::new("GET", "/api/users?mk=actual-evil").origin("https://evil.example"),
    );
    assert_eq!(
        evil.status, 200,
        "still forwarded: CORS is enforced by the browser"
    );
    expect::no_allow_headers(&evil);
    assert_eq!(evil.header("access-control-expose-headers"), None);
    expect::vary_origin_once(&evil);
    let none = answered(g, Request::new("GET", "/api/users?mk=actual-none"));
    expect::no_allow_headers(&none);
    expect::vary_origin_once(&none);
}

fn actual_star_route(g: &Gateway) {
    for request in [
        Request::new("GET", "/public/x"),
        Request::new("GET", "/public/x").origin("https://anyone.example"),
    ] {
        let r = answered(g, request);
        expect::allows_origin(&r, "*");
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
    let allowed = answered(g, Request::new("GET", path).origin(APP));
    expect::allows_origin(&allowed, APP);
    assert_eq!(
        allowed.header("access-control-expose-headers").as_deref(),
        Some("x-request-id")
    );
    assert_eq!(allowed.header("access-control-allow-methods"), None);
    let evil = answered(g, Request::new("GET", path).origin("https://evil.example"));
    expect::no_allow_headers(&evil);
    assert_eq!(evil.header("access-control-expose-headers"), None);
}

fn vary_is_merged(g: &Gateway) {
    let r = answered(
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
    let already = answered(
        g,
        Request::new("GET", "/api/x?header=Vary%3Aorigin").origin(APP),
    );
    assert_eq!(vary_tokens(&already), ["origin"], "not added twice");
    let star = answered(g, Request::new("GET", "/api/x?header=Vary%3A*").origin(APP));
    assert_eq!(vary_tokens(&star), ["*"]);
    let public = answered(
        g,
        Request::new("GET", "/public/x?header=Vary%3AAccept-Encoding"),
    );
    assert_eq!(
        vary_tokens(&public),
        ["Accept-Encoding"],
        "kept on * routes, Origin not added"
    );
}
