//! Several APIs in one Spin app (examples/spin-app): the APIs are components on private routes,
//! reached by local service chaining, and corsgate is the only public route. Built with
//! `spin build` and served with `spin up`, as users do; and the WASIp3 gateway's manifest on
//! Spin 4.1.

use corsgate_testkit::client::Request;
use corsgate_testkit::expect::{self, answered, APP};
use corsgate_testkit::harness::{repo_root, spin_run, spin_up, work_dir, Host};

#[test]
fn apis_behind_the_gateway_by_service_chaining() {
    if !Host::Spin.runs_here() {
        return;
    }
    let dir = work_dir("spin-app");
    let build = spin_run(Host::Spin, &["build", "--from", "examples/spin-app"], &dir);
    assert!(
        build.status.success(),
        "spin build failed:\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let app = spin_up(
        Host::Spin,
        repo_root().join("examples/spin-app/spin.toml"),
        &[],
        &dir,
    );

    let preflight = answered(
        &app,
        Request::new("OPTIONS", "/users/42")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT")
            .header("Access-Control-Request-Headers", "authorization"),
    );
    // Answered at the edge.
    expect::preflight_granted(&preflight, APP);

    let users = answered(&app, Request::new("GET", "/users/42?page=2").origin(APP));
    assert_eq!(users.status, 200, "{}", users.text());
    assert!(
        users.text().contains("\"api\":\"users\""),
        "{}",
        users.text()
    );
    assert!(
        users.text().contains("\"path\":\"/users/42?page=2\""),
        "{}",
        users.text()
    );
    assert_eq!(
        users.head.all("access-control-allow-origin"),
        [APP.as_bytes()],
        "the API's own `*` is replaced by the policy's answer"
    );
    assert_eq!(
        users.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );

    let catalog = answered(
        &app,
        Request::new("GET", "/catalog/items").origin("https://anyone.example"),
    );
    assert_eq!(catalog.status, 200, "{}", catalog.text());
    assert!(
        catalog.text().contains("\"api\":\"catalog\""),
        "{}",
        catalog.text()
    );
    assert!(
        catalog.text().contains("\"path\":\"/items\""),
        "prefix stripped: {}",
        catalog.text()
    );
    assert_eq!(catalog.head.all("access-control-allow-origin"), [&b"*"[..]]);

    let evil = answered(
        &app,
        Request::new("GET", "/users/42").origin("https://evil.example"),
    );
    assert!(evil.head.all("access-control-allow-origin").is_empty());

    // The APIs have no public route: every path is the gateway's, and it knows only its routes.
    for path in ["/", "/users-api", "/catalog-api/items"] {
        assert_eq!(
            answered(&app, Request::new("GET", path)).status,
            404,
            "{path}"
        );
    }
    let line = app.log_line_with("path=/catalog/items ");
    assert!(
        line.contains("route=catalog") && line.contains("decision=forwarded"),
        "{line}"
    );
}

/// deploy/spin4/spin.toml, the WASIp3 gateway with the shipped policies, built and served by
/// Spin 4.1 as its users do (the shipped upstreams, the demo API, need not run: nothing here
/// reaches them).
#[test]
fn the_wasip3_gateway_manifest_serves_on_spin4() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let dir = work_dir("spin4-manifest");
    let build = spin_run(Host::Spin4, &["build", "--from", "deploy/spin4"], &dir);
    assert!(
        build.status.success(),
        "spin build failed:\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let gateway = spin_up(
        Host::Spin4,
        repo_root().join("deploy/spin4/spin.toml"),
        &[],
        &dir,
    );
    let preflight = answered(
        &gateway,
        Request::new("OPTIONS", "/users/42")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT"),
    );
    expect::preflight_granted(&preflight, APP);
    let refused = answered(
        &gateway,
        Request::new("OPTIONS", "/users/42")
            .origin("https://evil.example")
            .header("Access-Control-Request-Method", "PUT"),
    );
    assert_eq!(refused.status, 403);
    assert_eq!(
        answered(&gateway, Request::new("GET", "/nowhere")).status,
        404
    );
    let line = gateway.log_line_with("kind=preflight method=OPTIONS path=/users/42 ");
    assert!(line.contains("route=users"), "{line}");
}
