//! Where the hosts differ, each case run on both: Spin enforces `allowed_outbound_hosts`,
//! reports the client's address, adds `spin-*` headers of its own and pools upstream
//! connections (and skips the connect timeout on a pooled one); `wasmtime serve` does none of
//! these. The gateway's answers must be right either way.

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        upstreams_outside_allowed_outbound_hosts,
        forwarded_for_is_what_the_host_reports_never_what_the_client_claims,
        no_spin_header_reaches_the_upstream,
        timeout_holds_on_a_reused_upstream_connection,
    ]
}

/// tests/policies/denied.toml names the echo upstream as `localhost:PORT`, which the generated
/// manifest does not list: Spin refuses the call, and the gateway says why in the log.
fn upstreams_outside_allowed_outbound_hosts(g: &Gateway) {
    let r = answered(g, Request::new("GET", "/denied/x?mk=denied").origin(APP));
    match g.host {
        Host::Spin | Host::Spin4 => {
            assert_eq!(r.status, 502, "{}", r.text());
            // A gateway-made 502 still carries the CORS headers.
            expect::allows_origin(&r, APP);
            let line = g.log_line_with("path=/denied/x ");
            assert!(
                line.contains("decision=upstream_error reason=\"upstream unreachable: outbound request denied by the host (allowed_outbound_hosts?)\" status=502"),
                "{line}"
            );
            assert_eq!(g.echo.count("mk=denied"), 0, "never reached the upstream");
        }
        Host::Wasmtime => {
            assert_eq!(r.status, 200, "wasmtime serve enforces no outbound list");
        }
    }
}

fn forwarded_for_is_what_the_host_reports_never_what_the_client_claims(g: &Gateway) {
    let r = answered(
        g,
        Request::new("GET", "/api/x?mk=client-addr")
            .origin(APP)
            .header("X-Forwarded-For", "198.51.100.1")
            .header("spin-client-addr", "203.0.113.66:1234"),
    );
    assert_eq!(r.status, 200);
    let seen = g.echo.find("mk=client-addr").expect("forwarded");
    assert_eq!(
        seen.head.get("x-forwarded-for"),
        Some(format!("198.51.100.1, {}", g.host.forwarded_client())),
        "the client's own spin-client-addr is never believed"
    );
}

fn no_spin_header_reaches_the_upstream(g: &Gateway) {
    answered(
        g,
        Request::new("GET", "/api/x?mk=spin-headers")
            .origin(APP)
            .header("spin-path-info", "/evil")
            .header("Spin-Full-Url", "http://evil.example/"),
    );
    let seen = g.echo.find("mk=spin-headers").expect("forwarded");
    let spin_headers = seen.head.names_starting_with("spin-");
    assert!(spin_headers.is_empty(), "upstream got {spin_headers:?}");
}

/// Spin sends a request over a pooled connection when it has one, and then skips the connect
/// timeout: the gateway's own deadline must still answer `504` at the route's `timeout_ms`.
fn timeout_holds_on_a_reused_upstream_connection(g: &Gateway) {
    for i in 0..3 {
        let warm = answered(g, Request::new("GET", &format!("/slow/x?mk=pool-warm-{i}")));
        assert_eq!(warm.status, 200);
    }
    let started = Instant::now();
    let r = answered(
        g,
        Request::new("GET", "/slow/x?mk=pool-silent&fault=never").origin(APP),
    );
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    expect::allows_origin(&r, APP);
    assert!(
        took >= Duration::from_millis(500),
        "not before the timeout: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "not long after it: {took:?}");
    let recorded = g.echo.recorded();
    let silent = recorded
        .iter()
        .find(|r| r.target.contains("mk=pool-silent"))
        .expect("the silent request reached the upstream");
    let reused = recorded
        .iter()
        .any(|r| r.connection == silent.connection && !r.target.contains("mk=pool-silent"));
    assert_eq!(
        reused,
        g.host.is_spin(),
        "Spin pools upstream connections, wasmtime opens one per request"
    );
}
