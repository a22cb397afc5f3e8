//! Forwarding: what reaches the upstream (headers, target, framing) and that nothing in a request can choose another upstream.

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        hop_by_hop_headers_are_dropped,
        forwarded_headers_are_set,
        strip_prefix_and_base_path,
        exact_route_beats_prefix,
        unknown_path_is_404_and_not_forwarded,
        dot_segments_cannot_leave_the_route,
        requests_cannot_choose_the_upstream,
        requests_reach_the_upstream_framed_as_the_client_framed_them,
    ]
}

fn hop_by_hop_headers_are_dropped(g: &Gateway) {
    let request = Request::new("GET", "/api/x?mk=hop&header=Keep-Alive%3Atimeout%3D5&header=Proxy-Authenticate%3ABasic&header=Trailer%3AX-T&header=Upgrade%3Ah2c&header=X-Kept%3A1")
        .origin(APP)
        .header("TE", "trailers")
        .header("Trailer", "X-Checksum")
        .header("Keep-Alive", "timeout=5")
        .header("Proxy-Authorization", "Basic Zm9vOmJhcg==")
        .header("X-Kept", "yes");
    let r = answered(g, request);
    let seen = g.echo.find("mk=hop").expect("forwarded");
    for name in [
        "te",
        "trailer",
        "keep-alive",
        "proxy-authorization",
        "connection",
        "upgrade",
    ] {
        assert!(
            seen.head.all(name).is_empty(),
            "upstream got hop-by-hop {name}: {:?}",
            seen.head.headers
        );
    }
    assert_eq!(seen.head.get("x-kept").as_deref(), Some("yes"));
    for name in ["keep-alive", "proxy-authenticate", "trailer", "upgrade"] {
        assert!(
            r.head.all(name).is_empty(),
            "client got hop-by-hop {name}: {:?}",
            r.head.headers
        );
    }
    assert_eq!(r.header("x-kept").as_deref(), Some("1"));
}

fn forwarded_headers_are_set(g: &Gateway) {
    let r = answered(
        g,
        Request::new("GET", "/api/x?mk=xfwd")
            .origin(APP)
            .header("X-Forwarded-For", "203.0.113.7")
            .header("X-Forwarded-Host", "spoofed.example")
            .header("X-Forwarded-Proto", "https"),
    );
    assert_eq!(r.status, 200);
    let seen = g.echo.find("mk=xfwd").expect("forwarded");
    assert_eq!(
        seen.head.get("x-forwarded-for").as_deref(),
        Some(format!("203.0.113.7, {}", g.host.forwarded_client()).as_str())
    );
    assert_eq!(
        seen.head.get("x-forwarded-host").as_deref(),
        g.target.reports_authority().then_some("gateway.test")
    );
    assert_eq!(seen.head.get("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(
        seen.head.get("host").as_deref(),
        Some(g.echo.addr.to_string().as_str())
    );
    assert_eq!(
        seen.head.get("origin").as_deref(),
        Some(APP),
        "the origin API still sees Origin"
    );
}

fn strip_prefix_and_base_path(g: &Gateway) {
    let cases = [
        ("/api?mk=sp1", "/base?mk=sp1"),
        ("/api/?mk=sp2", "/base/?mk=sp2"),
        (
            "/api/users/42?mk=sp3&q=a%20b&q=%2F",
            "/base/users/42?mk=sp3&q=a%20b&q=%2F",
        ),
        ("/api/a/./b/../c?mk=sp4", "/base/a/c?mk=sp4"),
        ("/raw/x/y?mk=sp5", "/v1/raw/x/y?mk=sp5"),
        ("/api/%7Euser?mk=sp6", "/base/%7Euser?mk=sp6"),
        ("/rootless?mk=sp7", "/?mk=sp7"),
        ("/rootless/?mk=sp8", "/?mk=sp8"),
        ("/rootless/x?mk=sp9", "/x?mk=sp9"),
    ];
    for (path, expected) in cases {
        let marker = &path[path.find("mk=").expect("marker")..][..6];
        assert_eq!(answered(g, Request::new("GET", path)).status, 200, "{path}");
        let seen = g
            .echo
            .find(marker)
            .unwrap_or_else(|| panic!("{path} forwarded"));
        assert_eq!(seen.target, expected, "{path}");
    }
}

fn exact_route_beats_prefix(g: &Gateway) {
    answered(g, Request::new("GET", "/api/health?mk=exact"));
    assert_eq!(
        g.echo.find("mk=exact").expect("forwarded").target,
        "/healthz?mk=exact"
    );
    answered(g, Request::new("GET", "/api/health/x?mk=notexact"));
    assert_eq!(
        g.echo.find("mk=notexact").expect("forwarded").target,
        "/base/health/x?mk=notexact"
    );
}

fn unknown_path_is_404_and_not_forwarded(g: &Gateway) {
    for path in [
        "/nope?mk=404a",
        "/apix?mk=404b",
        "/?mk=404c",
        "/API/x?mk=404d",
    ] {
        let r = answered(g, Request::new("GET", path).origin(APP));
        assert_eq!(r.status, 404, "{path}");
        expect::no_allow_headers(&r);
    }
    std::thread::sleep(Duration::from_millis(100));
    for marker in ["mk=404a", "mk=404b", "mk=404c", "mk=404d"] {
        assert_eq!(g.echo.count(marker), 0);
    }
}

fn dot_segments_cannot_leave_the_route(g: &Gateway) {
    for path in [
        "/api/../public/x?mk=dot1",
        "/api/%2e%2e/public/x?mk=dot2",
        "/api/.%2E/x?mk=dot3",
        "/../api/x?mk=dot4",
        "/api/..?mk=dot5",
        "/api/a\\..\\..\\public?mk=dot6",
    ] {
        let r = answered(g, Request::new("GET", path).origin(APP));
        assert_eq!(r.status, 400, "{path}");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        g.echo
            .recorded()
            .iter()
            .all(|r| !r.target.contains("mk=dot")),
        "none forwarded"
    );
}

fn requests_cannot_choose_the_upstream(g: &Gateway) {
    let absolute = "GET http://evil.example/api/x?mk=ssrf1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    // wasmtime routes it by its path; Spin closes the connection before the component runs.
    // Either way it reaches no other upstream.
    match send_raw(g.addr, absolute.as_bytes()) {
        Ok(r) if r.status == 200 => {
            let seen = g
                .echo
                .find("mk=ssrf1")
                .expect("went to the configured upstream");
            assert_eq!(seen.target, "/base/x?mk=ssrf1");
        }
        Ok(_) => {}
        Err(error) => assert!(g.host.is_spin(), "absolute-form: {error}"),
    }
    let host = answered(
        g,
        Request {
            host: Some("evil.example:1".into()),
            ..Request::new("GET", "/api/x?mk=ssrf2")
        },
    );
    assert_eq!(host.status, 200);
    assert_eq!(
        g.echo
            .find("mk=ssrf2")
            .expect("forwarded")
            .head
            .get("host")
            .as_deref(),
        Some(g.echo.addr.to_string().as_str())
    );
    let slashes = answered(g, Request::new("GET", "//evil.example/api/x?mk=ssrf3"));
    assert_eq!(slashes.status, 404, "//host is a path, and no route has it");
    let in_route = answered(g, Request::new("GET", "/api//evil.example/x?mk=ssrf4"));
    assert_eq!(in_route.status, 200);
    assert_eq!(
        g.echo.find("mk=ssrf4").expect("forwarded").target,
        "/base//evil.example/x?mk=ssrf4"
    );
    let at = answered(g, Request::new("GET", "/api@evil.example/x?mk=ssrf5"));
    assert_eq!(at.status, 404);
}

/// A request without a body reaches the upstream without one (no `Content-Length`, no
/// `Transfer-Encoding`), whatever its method; `Content-Length` is kept, a chunked body stays
/// chunked. Judged on the raw request head the upstream recorded.
fn requests_reach_the_upstream_framed_as_the_client_framed_them(g: &Gateway) {
    struct Case {
        method: &'static str,
        marker: &'static str,
        body: Body,
        /// How the upstream must see the body framed: "none" (neither header), "length N"
        /// (`Content-Length: N`) or "chunked".
        framing: &'static str,
    }
    let cases = [
        Case {
            method: "DELETE",
            marker: "mk=frame-delete",
            body: Body::Empty,
            framing: "none",
        },
        Case {
            method: "OPTIONS",
            marker: "mk=frame-options",
            body: Body::Empty,
            framing: "none",
        },
        Case {
            method: "GET",
            marker: "mk=frame-get",
            body: Body::Empty,
            framing: "none",
        },
        Case {
            method: "POST",
            marker: "mk=frame-post-empty",
            body: Body::Bytes(Vec::new()),
            framing: "length 0",
        },
        Case {
            method: "PUT",
            marker: "mk=frame-put",
            body: Body::Bytes(b"payload".to_vec()),
            framing: "length 7",
        },
        Case {
            method: "POST",
            marker: "mk=frame-chunked",
            body: Body::Chunked(vec![b"pay".to_vec(), b"load".to_vec()]),
            framing: "chunked",
        },
    ];
    for Case {
        method,
        marker,
        body,
        framing,
    } in cases
    {
        let r = answered(
            g,
            Request::new(method, &format!("/api/x?{marker}"))
                .origin(APP)
                .body(body),
        );
        assert_eq!(r.status, 200, "{method} {marker}");
        let seen = g.echo.find(marker).expect("forwarded");
        let length = seen.head.content_length();
        let got = match (length, seen.head.is_chunked()) {
            (None, false) => "none".to_string(),
            (Some(n), false) => format!("length {n}"),
            (None, true) => "chunked".to_string(),
            (Some(_), true) => "both".to_string(),
        };
        assert_eq!(got, framing, "{method} {marker}: {:?}", seen.head.headers);
        let expected_len = match framing {
            "length 7" => 7,
            "chunked" => 7,
            _ => 0,
        };
        assert_eq!(seen.body_len, expected_len, "{method} {marker}");
    }
}
