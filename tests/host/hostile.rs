//! Hostile and odd requests, one case per attack: each gets a bounded, correct answer (from the
//! component, or from the host's HTTP parser before it) within seconds, and the gateway keeps
//! serving.

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        origin_of_64_kib_is_refused,
        a_thousand_request_header_lines_are_bounded,
        header_value_of_64_kib_is_forwarded_whole_or_refused,
        non_utf8_header_value_is_forwarded_byte_for_byte,
        request_without_host_is_refused,
        carriage_return_in_origin_injects_nothing,
        obsolete_line_folding_injects_nothing,
        lowercase_methods_are_forwarded_as_sent_and_never_preflights,
        non_token_method_is_refused,
        get_body_is_forwarded,
        preflight_with_a_body_is_answered_at_the_edge,
    ]
}

/// After an attack, an ordinary preflight still gets its `204`.
fn assert_still_serving(g: &Gateway, after: &str) {
    let r = answered(g, preflight("/api/x", APP, "PUT"));
    assert_eq!(r.status, 204, "after {after}, the gateway still answers");
}

/// Sends raw request bytes; the answer (if the host sends one) within 5 s.
fn timed(g: &Gateway, what: &str, raw: Vec<u8>) -> Option<Response> {
    let started = Instant::now();
    let answer = send_raw(g.addr, &raw).ok();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{what} took {:?}",
        started.elapsed()
    );
    answer
}

/// A request head from its lines.
fn raw(lines: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn origin_of_64_kib_is_refused(g: &Gateway) {
    let big_origin = format!("https://{}.example.com", "a".repeat(64 * 1024));
    let r = answered(g, preflight("/api/x", &big_origin, "PUT"));
    // Refused like any unknown origin, however long.
    expect::preflight_refused(&r);
    assert_still_serving(g, "a 64 KiB Origin");
}

fn a_thousand_request_header_lines_are_bounded(g: &Gateway) {
    let acrh_lines: Vec<String> = (0..1000)
        .map(|i| format!("Access-Control-Request-Headers: x-custom{i}"))
        .collect();
    let mut lines: Vec<&[u8]> = vec![
        b"OPTIONS /api/x HTTP/1.1",
        b"Host: gateway.test",
        b"Origin: https://app.example.com",
        b"Access-Control-Request-Method: PUT",
        b"Connection: close",
    ];
    lines.extend(acrh_lines.iter().map(|l| l.as_bytes()));
    if let Some(r) = timed(g, "1 000 ACRH lines", raw(&lines)) {
        assert!(
            matches!(r.status, 403 | 431),
            "1 000 ACRH lines: {}",
            r.status
        );
        expect::no_allow_headers(&r);
    }
    assert_still_serving(g, "1 000 ACRH lines");
}

fn header_value_of_64_kib_is_forwarded_whole_or_refused(g: &Gateway) {
    let big_value = "v".repeat(64 * 1024);
    let r = answered(
        g,
        Request::new("GET", "/api/x?mk=bigvalue")
            .origin(APP)
            .header("X-Big", &big_value),
    );
    assert!(
        matches!(r.status, 200 | 431),
        "64 KiB header value: {}",
        r.status
    );
    if r.status == 200 {
        let seen = g.echo.find("mk=bigvalue").expect("forwarded");
        assert_eq!(seen.head.all("x-big")[0].len(), 64 * 1024);
    }
    assert_still_serving(g, "a 64 KiB header value");
}

/// wasmtime hands the bytes to the component, which forwards them as they are; Spin refuses
/// the request with `500` before the component runs ("invalid utf-8 sequence").
fn non_utf8_header_value_is_forwarded_byte_for_byte(g: &Gateway) {
    let r = answered(
        g,
        Request::new("GET", "/api/x?mk=binary")
            .origin(APP)
            .header("X-Bin", b"caf\xe9 \xff\x80"),
    );
    match g.host {
        Host::Wasmtime => {
            assert_eq!(r.status, 200, "non-UTF-8 header value");
            let seen = g.echo.find("mk=binary").expect("forwarded");
            assert_eq!(
                seen.head.all("x-bin"),
                [&b"caf\xe9 \xff\x80"[..]],
                "forwarded byte for byte"
            );
        }
        Host::Spin | Host::Spin4 => {
            assert_eq!(r.status, 500, "Spin refuses it itself");
            assert_eq!(g.echo.count("mk=binary"), 0, "never forwarded");
        }
    }
    assert_still_serving(g, "a non-UTF-8 header value");
}

fn request_without_host_is_refused(g: &Gateway) {
    let request = raw(&[
        b"GET /api/x HTTP/1.1",
        b"Origin: https://app.example.com",
        b"Connection: close",
    ]);
    if let Some(r) = timed(g, "no Host", request) {
        if g.target.reports_authority() {
            assert!(
                r.status >= 400,
                "a request without Host is refused: {}",
                r.status
            );
            expect::no_allow_headers(&r);
        } else {
            // The host hands it on exactly like one with `Host` (see `reports_authority`).
            assert_eq!(r.status, 200, "forwarded as any other request");
        }
    }
    assert_still_serving(g, "a request without Host");
}

/// A preflight whose `Origin` line carries `injection`: no injected header comes back, and no
/// `Access-Control-Allow-Origin` holds a line break.
fn assert_origin_line_injects_nothing(g: &Gateway, what: &str, injection: &[u8]) {
    let request = raw(&[
        b"OPTIONS /api/x HTTP/1.1",
        b"Host: gateway.test",
        injection,
        b"Access-Control-Request-Method: PUT",
        b"Connection: close",
    ]);
    if let Some(r) = timed(g, what, request) {
        assert!(
            r.head.all("set-cookie").is_empty(),
            "{what}: injected header reflected"
        );
        assert!(
            r.head
                .all("access-control-allow-origin")
                .iter()
                .all(|v| !v.contains(&b'\r') && !v.contains(&b'\n')),
            "{what}"
        );
    }
    assert_still_serving(g, what);
}

fn carriage_return_in_origin_injects_nothing(g: &Gateway) {
    let line = b"Origin: https://app.example.com\rSet-Cookie: x=1";
    assert_origin_line_injects_nothing(g, "CR in Origin", line);
}

fn obsolete_line_folding_injects_nothing(g: &Gateway) {
    let line = b"Origin: https://app.example.com\r\n Set-Cookie: x=1";
    assert_origin_line_injects_nothing(g, "obs-fold", line);
}

fn lowercase_methods_are_forwarded_as_sent_and_never_preflights(g: &Gateway) {
    let r = answered(g, Request::new("get", "/api/x?mk=lowerget").origin(APP));
    assert_eq!(
        g.echo.find("mk=lowerget").map(|r| r.method),
        Some("get".to_string()),
        "methods are forwarded as sent"
    );
    expect::allows_origin(&r, APP);
    let r = answered(
        g,
        Request::new("options", "/api/x?mk=loweroptions")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT"),
    );
    assert!(
        g.echo.find("mk=loweroptions").is_some(),
        "`options` is not a preflight (status {})",
        r.status
    );
}

fn non_token_method_is_refused(g: &Gateway) {
    let request = raw(&[
        b"G(T /api/x HTTP/1.1",
        b"Host: gateway.test",
        b"Connection: close",
    ]);
    if let Some(r) = timed(g, "non-token method", request) {
        assert_eq!(r.status, 400, "non-token method");
    }
    assert_still_serving(g, "a non-token method");
}

fn get_body_is_forwarded(g: &Gateway) {
    let r = answered(
        g,
        Request::new("GET", "/api/x?mk=getbody")
            .origin(APP)
            .body(Body::Bytes(b"payload".to_vec())),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        g.echo.find("mk=getbody").expect("forwarded").body_len,
        7,
        "a GET body is forwarded, not dropped"
    );
}

fn preflight_with_a_body_is_answered_at_the_edge(g: &Gateway) {
    let r = answered(
        g,
        preflight("/api/x?mk=preflightbody", APP, "PUT").body(Body::Bytes(vec![b'x'; 100_000])),
    );
    assert_eq!(
        r.status, 204,
        "a preflight with a body is still answered at the edge"
    );
    assert_eq!(g.echo.count("mk=preflightbody"), 0);
    assert_still_serving(g, "a preflight with a body");
}
