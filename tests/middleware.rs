//! corsgate as WASIp3 HTTP middleware in front of an app (examples/spin-middleware): composed
//! with the app into one component by `wac plug` and served by `wasmtime serve`, and chained by
//! Spin 4.1 (`dependencies.middleware`) from the example's own manifest, built with `spin build`.
//! In both, preflights are answered without calling the app, actual requests reach the app and
//! come back with the policy's CORS headers (the app's own `*` removed, `Vary` merged), and paths
//! without a policy pass through untouched. A real Chromium sends a preflighted request through
//! the composition.

use std::path::{Path, PathBuf};

use corsgate_testkit::cases::WorldKey;
use corsgate_testkit::client::{Body, Request};
use corsgate_testkit::expect::{self, answered, APP};
use corsgate_testkit::harness::{
    repo_root, spin_run, spin_up, wac_plug, work_dir, Component, Host, ServeOptions, Server, Target,
};
use corsgate_testkit::pages::PageServer;
use corsgate_testkit::webdriver::{Browser, Engine, TargetAndEngine};
use corsgate_testkit::world::{policy_files, write_policies};
use serde_json::Value;

/// The example's app and the middleware (with the policies of `policies`), composed with
/// `wac plug`: the middleware's import of the next handler is the app's export.
fn compose(dir: &Path, policies: &Path) -> PathBuf {
    let api = Component::package("example-p3-api").build(&dir.join("api.wasm"));
    let middleware = Component::package("corsgate-middleware")
        .env("CORSGATE_POLICIES", &policies.display().to_string())
        .build(&dir.join("middleware.wasm"));
    wac_plug(&middleware, &api, &dir.join("composed.wasm"))
}

/// What the middleware must do in front of the example app, whoever chains them.
fn check_middleware(app: &Server) {
    let preflight = answered(
        app,
        Request::new("OPTIONS", "/api/items")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT")
            .header("Access-Control-Request-Headers", "content-type"),
    );
    // Answered by the middleware.
    expect::preflight_granted(&preflight, APP);
    assert!(preflight.body.is_empty(), "the app never answered it");
    let refused = answered(
        app,
        Request::new("OPTIONS", "/api/items")
            .origin("https://evil.example")
            .header("Access-Control-Request-Method", "PUT"),
    );
    assert_eq!(refused.status, 403);

    let items = answered(app, Request::new("GET", "/api/items?page=2").origin(APP));
    assert_eq!(items.status, 200, "{}", items.text());
    assert!(
        items.text().contains(
            "\"app\":\"example-p3-api\",\"method\":\"GET\",\"path\":\"/api/items?page=2\""
        ),
        "the app answered, with the request as it came: {}",
        items.text()
    );
    assert_eq!(
        items.head.all("access-control-allow-origin"),
        [APP.as_bytes()],
        "the app's own `*` is replaced by the policy's answer"
    );
    assert_eq!(
        items.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let vary = items.header("vary").unwrap_or_default();
    assert!(
        vary.contains("Accept-Encoding") && vary.contains("Origin"),
        "the app's Vary merged with the gateway's: {vary}"
    );

    let upload = answered(
        app,
        Request::new("POST", "/api/items")
            .origin(APP)
            .body(Body::Pattern(100_000)),
    );
    assert!(
        upload.text().contains("\"body_bytes\":100000"),
        "{}",
        upload.text()
    );

    let stranger = answered(
        app,
        Request::new("GET", "/api/items").origin("https://evil.example"),
    );
    assert_eq!(stranger.status, 200, "the app answers");
    // An origin outside the policy gets no CORS header, the app's `*` included.
    expect::no_allow_origin(&stranger);

    let other = answered(app, Request::new("GET", "/other").origin(APP));
    assert_eq!(other.status, 200);
    // A path without a policy passes through untouched.
    expect::allows_origin(&other, "*");
}

/// On a report-only route the app's own CORS headers pass untouched, and the log holds the
/// policy's verdict beside the app's, as the gateway's does beside its upstream's.
fn check_report_only(app: &Server) {
    let stranger = answered(
        app,
        Request::new("GET", "/rollout/x").origin("https://evil.example"),
    );
    expect::allows_origin(&stranger, "*");
    let line = app.log_line_with("path=/rollout/x");
    assert!(
        line.contains(
            "report_only=true would=reject would_reason=\"origin not allowed\" upstream=allow agrees=no"
        ),
        "the policy's verdict beside the app's: {line}"
    );
}

#[test]
fn composed_with_the_app_by_wac_on_wasmtime() {
    if !Host::Wasmtime.runs_here() {
        return;
    }
    let dir = work_dir("middleware-composed");
    let page = PageServer::start();
    // The example's policy, with the test page's origin allowed too.
    let example =
        std::fs::read_to_string(repo_root().join("examples/spin-middleware/policies/api.toml"))
            .expect("the example's policy");
    let policy = example.replace(
        &format!("allow_origins = [\"{APP}\"]"),
        &format!("allow_origins = [\"{APP}\", \"{{PAGE_ORIGIN}}\"]"),
    );
    assert_ne!(policy, example, "the example's allow_origins line changed");
    // And a report-only route, whose CORS stays the app's.
    let rollout = format!("[route]\npath = \"/rollout/...\"\nupstream = \"http://api.spin.internal\"\n[cors]\nallow_origins = [\"{APP}\"]\nreport_only = true\n");
    let policies = dir.join("policies");
    write_policies(
        &policies,
        &[
            ("api.toml".into(), policy),
            ("rollout.toml".into(), rollout),
        ],
        &[("PAGE_ORIGIN", page.origin())],
    );
    let composed = compose(&dir, &policies);
    let app = Target::p3(Host::Wasmtime).serve(&composed, &dir, &ServeOptions::default());
    check_middleware(&app);
    check_report_only(&app);

    if !TargetAndEngine(Target::p3(Host::Wasmtime), Engine::Chromium).runs_here() {
        return;
    }
    // A JSON PUT: the browser preflights it, the middleware answers, the app gets the PUT.
    let html = format!(
        r#"<!doctype html><pre id="out">pending</pre><script>
fetch("{gw}/api/items/7", {{ method: "PUT", headers: {{ "Content-Type": "application/json" }}, body: "{{}}" }})
  .then(r => r.json().then(body => ({{ status: r.status, body }})), e => ({{ error: String(e) }}))
  .then(r => {{ document.getElementById("out").textContent = JSON.stringify(r); }});
</script>"#,
        gw = app.url("")
    );
    let url = page.put("/middleware", &html);
    let result = Browser::start(Engine::Chromium).run_page(&url);
    assert_eq!(result["status"], Value::from(200), "{result}");
    assert_eq!(result["body"]["method"], Value::from("PUT"), "{result}");
    let preflight = app.log_line_with("kind=preflight method=OPTIONS path=/api/items/7");
    assert!(
        preflight.contains("decision=allowed status=204"),
        "the browser's preflight, answered by the middleware: {preflight}"
    );
}

#[test]
fn chained_by_spin4_from_the_example_manifest() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let dir = work_dir("middleware-spin4");
    let build = spin_run(
        Host::Spin4,
        &["build", "--from", "examples/spin-middleware"],
        &dir,
    );
    assert!(
        build.status.success(),
        "spin build failed:\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let app = spin_up(
        Host::Spin4,
        repo_root().join("examples/spin-middleware/spin.toml"),
        &[],
        &dir,
    );
    check_middleware(&app);
}

/// Spin 4.1 gives a middleware no environment of its own, so its log setting is the one its
/// build compiled in (`CORSGATE_ACCESS_LOG=problems cargo build ...`): an allowed request gets
/// no line, a refused preflight does.
#[test]
fn log_setting_fixed_at_build_time_on_spin4() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let dir = work_dir("middleware-spin4-built-in-log");
    let api = Component::package("example-p3-api").build(&dir.join("api.wasm"));
    let policies = repo_root().join("examples/spin-middleware/policies");
    let middleware = Component::package("corsgate-middleware")
        .env("CORSGATE_POLICIES", &policies.display().to_string())
        .env("CORSGATE_ACCESS_LOG", "problems")
        .build(&dir.join("middleware-problems.wasm"));
    let app =
        Target::p3(Host::Spin4).serve(&api, &dir, &ServeOptions::default().middleware(&middleware));
    let allowed = answered(&app, Request::new("GET", "/api/items/allowed").origin(APP));
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    let refused = answered(
        &app,
        Request::new("OPTIONS", "/api/items/refused")
            .origin("https://evil.example")
            .header("Access-Control-Request-Method", "PUT"),
    );
    assert_eq!(refused.status, 403);
    let line = app.log_line_with("path=/api/items/refused");
    assert!(line.contains("decision=rejected"), "{line}");
    // The allowed request's line would have been written before its response.
    assert!(
        !app.log().contains("path=/api/items/allowed"),
        "an allowed request is no problem:\n{}",
        app.log()
    );
}

/// The prebuilt middleware (`corsgate-middleware-prebuilt`, no policy compiled in) in front of
/// the example app on `host`, reading `folder` from the files mount: composed by `wac plug`
/// and served with `--dir` on wasmtime; chained by Spin 4.1 with the app's `files` mount and
/// environment inherited (`inherit_configuration = ["files", "environment"]`), as a user's
/// manifest has it.
fn prebuilt_in_front_of_the_app(host: Host, name: &str, folder: &Path) -> Server {
    let dir = work_dir(&format!("middleware-prebuilt-{name}-{host}"));
    let api = Component::package("example-p3-api").build(&dir.join("api.wasm"));
    let middleware =
        Component::package("corsgate-middleware-prebuilt").build(&dir.join("middleware.wasm"));
    let options = ServeOptions::default()
        .middleware(&middleware)
        .policy_folder(folder);
    Target::p3(host).serve(&api, &dir, &options)
}

#[test]
fn prebuilt_middleware_reads_its_policies_from_the_mount() {
    let folder = repo_root().join("examples/spin-middleware/policies");
    for host in [Host::Wasmtime, Host::Spin4]
        .into_iter()
        .filter(|h| h.runs_here())
    {
        let app = prebuilt_in_front_of_the_app(host, "valid", &folder);
        check_middleware(&app);
    }
}

/// With an invalid policy folder the prebuilt middleware logs each problem once and hands every
/// request to the app as it came, adding nothing: the app's own answers, preflights included.
#[test]
fn prebuilt_middleware_without_a_valid_policy_passes_everything_to_the_app() {
    for host in [Host::Wasmtime, Host::Spin4]
        .into_iter()
        .filter(|h| h.runs_here())
    {
        let dir = work_dir(&format!("middleware-prebuilt-invalid-{host}"));
        let folder = dir.join("policies");
        write_policies(&folder, &policy_files("tests/invalid-policies"), &[]);
        let app = prebuilt_in_front_of_the_app(host, "invalid", &folder);
        for _ in 0..2 {
            let preflight = answered(
                &app,
                Request::new("OPTIONS", "/api/items")
                    .origin(APP)
                    .header("Access-Control-Request-Method", "PUT"),
            );
            assert_eq!(preflight.status, 200, "{host}: the app answered it");
            assert!(
                preflight.text().contains("\"method\":\"OPTIONS\""),
                "{host}: {}",
                preflight.text()
            );
            let items = answered(&app, Request::new("GET", "/api/items").origin(APP));
            assert!(items.text().contains("\"method\":\"GET\""), "{host}");
            assert_eq!(
                items.head.all("access-control-allow-origin"),
                [b"*".as_slice()],
                "{host}: the app's own header, nothing added"
            );
            assert!(items.header("access-control-allow-credentials").is_none());
            assert_eq!(items.header("vary").as_deref(), Some("Accept-Encoding"));
        }
        let log = app.log();
        let summary = "corsgate: no valid policy in /corsgate/policies (9 error(s)); every request goes to the app as it came, with no CORS header added";
        assert_eq!(log.matches(summary).count(), 1, "{host}: once:\n{log}");
        assert_eq!(
            log.matches("/corsgate/policies/broken.toml:6:1: unknown key `allow_origin` in `[cors]` (did you mean `allow_origins`?)").count(),
            1,
            "{host}: each problem once:\n{log}"
        );
        assert!(!log.contains("panicked"), "{host}:\n{log}");
    }
}
