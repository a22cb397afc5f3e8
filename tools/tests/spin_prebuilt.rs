//! What a Spin user does with a release, offline, with the real Spin 4.1 (README, "Add corsgate
//! to your Spin app"): the release folder served over HTTP on 127.0.0.1 as a download site; the
//! plugin installed from its manifest's URL, the templates from their tarball's URL; then
//! - `spin new -t corsgate-prebuilt` → `spin build` (the plugin's check) → `spin up`: a preflight
//!   answered at the edge, a forwarded request with the policy's headers, a page in Chromium
//!   reading the API; an invalid policy refused by `spin build` with every diagnostic;
//! - an existing WASIp3 app with the README's middleware snippet → `spin build` → `spin up`: the
//!   same, through the prebuilt middleware reading the app's mounted policies;
//! - and in both, a wrong digest refused by Spin before anything serves.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use corsgate_testkit::cases::WorldKey;
use corsgate_testkit::client::{send, Request, Response};
use corsgate_testkit::file_server::FileServer;
use corsgate_testkit::harness::{
    repo_root, spin_refuses, spin_run, spin_up, work_dir, Component, Host, Server, Target,
};
use corsgate_testkit::pages::PageServer;
use corsgate_testkit::upstream::TestUpstream;
use corsgate_testkit::webdriver::{Browser, Engine, TargetAndEngine};
use serde_json::Value;

/// A release served over HTTP: its URL, and the folder on disk.
struct Served {
    url: String,
    dist: PathBuf,
    /// Kept alive for the test binary's life.
    _server: FileServer,
}

/// The release folder, built once per test binary with its URLs pointing at the file server
/// that serves it (the build reuses the release script's target folder: nothing recompiles
/// when the release test or `scripts/release.sh` built it already).
fn release() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dist = work_dir("spin-prebuilt").join("dist");
        std::fs::create_dir_all(&dist).expect("create dist");
        let server = FileServer::start(&dist);
        let url = server.url();
        let target = repo_root().join("target/corsgate-release/target");
        let built = std::process::Command::new(env!("CARGO_BIN_EXE_corsgate-release"))
            .arg("build")
            .arg("--out")
            .arg(&dist)
            .arg("--target-dir")
            .arg(&target)
            .args(["--release-url", &url])
            .current_dir(repo_root())
            .output()
            .expect("run corsgate-release");
        assert_ran("corsgate-release build", &built);
        Served {
            url,
            dist,
            _server: server,
        }
    })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_ran(what: &str, output: &Output) {
    assert!(output.status.success(), "{what} failed:\n{}", text(output));
}

/// The hex digest SHA256SUMS lists for `file`.
fn digest_of(dist: &Path, file: &str) -> String {
    std::fs::read_to_string(dist.join("SHA256SUMS"))
        .expect("SHA256SUMS")
        .lines()
        .find_map(|line| {
            let (hex, name) = line.split_once("  ")?;
            (name == file).then(|| hex.to_string())
        })
        .unwrap_or_else(|| panic!("{file} is not in SHA256SUMS"))
}

/// A fresh Spin home in `dir` with the plugin installed from the release's URL.
fn with_plugin(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let manifest = format!("{}/corsgate-plugin.json", release().url);
    let installed = spin_run(
        Host::Spin4,
        &["plugins", "install", "--url", &manifest, "--yes"],
        dir,
    );
    assert_ran("spin plugins install --url", &installed);
}

/// `spin build` of `manifest`, whose build step is the plugin's check of one valid route.
fn builds_with_the_check(manifest: &Path, dir: &Path) {
    let from = manifest.display().to_string();
    let built = spin_run(Host::Spin4, &["build", "--from", &from], dir);
    assert_ran("spin build", &built);
    assert!(
        text(&built).contains("ok: 1 route(s) valid"),
        "{}",
        text(&built)
    );
}

/// A page on `page` that sends a preflighted JSON `PUT` to `url` and reports what it read.
fn page_reads(page: &PageServer, name: &str, url: &str) -> Value {
    let html = format!(
        r#"<!doctype html><pre id="out">pending</pre><script>
fetch("{url}", {{ method: "PUT", headers: {{ "Content-Type": "application/json" }}, body: "{{}}" }})
  .then(r => r.text().then(text => ({{ status: r.status, text }})), e => ({{ error: String(e) }}))
  .then(r => {{ document.getElementById("out").textContent = JSON.stringify(r); }});
</script>"#
    );
    let page_url = page.put(&format!("/{name}"), &html);
    Browser::start(Engine::Chromium).run_page(&page_url)
}

fn chromium_runs_here() -> bool {
    TargetAndEngine(Target::prebuilt(Host::Spin4), Engine::Chromium).runs_here()
}

fn preflight(server: &Server, origin: &str, path: &str) -> Response {
    send(
        server.addr,
        &Request::new("OPTIONS", path)
            .origin(origin)
            .header("Access-Control-Request-Method", "PUT")
            .header("Access-Control-Request-Headers", "content-type"),
    )
    .expect("preflight")
}

/// `manifest`'s copy beside it with one digest's first hex digit changed: what a tampered or
/// mistyped download looks like to Spin.
fn with_wrong_digest(manifest: &Path, hex: &str) -> PathBuf {
    let text = std::fs::read_to_string(manifest).expect("the manifest");
    let flipped = format!(
        "{}{}",
        if hex.starts_with('0') { '1' } else { '0' },
        &hex[1..]
    );
    assert!(text.contains(hex), "the manifest names {hex}");
    let wrong = manifest.with_file_name("spin-wrong-digest.toml");
    std::fs::write(&wrong, text.replace(hex, &flipped)).expect("write the manifest");
    wrong
}

#[test]
fn the_prebuilt_template_creates_checks_builds_and_serves() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let served = release();
    let dir = work_dir("spin-prebuilt").join("template");
    with_plugin(&dir);
    let templates = format!("{}/corsgate-templates.tar.gz", served.url);
    let installed = spin_run(
        Host::Spin4,
        &["templates", "install", "--tar", &templates],
        &dir,
    );
    assert_ran("spin templates install --tar", &installed);

    let api = TestUpstream::start();
    let page = PageServer::start();
    let project = dir.join("my-gateway");
    let created = spin_run(
        Host::Spin4,
        &[
            "new",
            "-t",
            "corsgate-prebuilt",
            "my-gateway",
            "--accept-defaults",
            "--output",
            &project.display().to_string(),
            "--value",
            &format!("api-url=http://{}", api.addr),
            "--value",
            &format!("page-origin={}", page.origin()),
        ],
        &dir,
    );
    assert_ran("spin new", &created);
    let manifest = project.join("spin.toml");
    let gateway_digest = digest_of(&served.dist, "corsgate_p3_prebuilt.wasm");
    assert!(
        std::fs::read_to_string(&manifest)
            .expect("spin.toml")
            .contains(&format!("digest = \"sha256:{gateway_digest}\"")),
        "the project names the released gateway by digest"
    );

    // `spin build` runs the plugin's check and builds nothing else.
    builds_with_the_check(&manifest, &dir);

    let gateway = spin_up(Host::Spin4, &manifest, &[], &dir.join("up"));
    let answer = preflight(&gateway, &page.origin(), "/api/items/7");
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(page.origin())
    );
    assert_eq!(api.count("/api/items/7"), 0, "answered at the edge");
    let forwarded = send(
        gateway.addr,
        &Request::new("GET", "/api/items?mk=prebuilt-template").origin(&page.origin()),
    )
    .expect("GET");
    assert_eq!(forwarded.status, 200, "{}", forwarded.text());
    assert_eq!(
        forwarded.header("access-control-allow-origin"),
        Some(page.origin())
    );
    assert!(api.find("mk=prebuilt-template").is_some(), "forwarded");

    if chromium_runs_here() {
        let read = page_reads(&page, "template", &gateway.url("/api/items/9?mk=chromium"));
        assert_eq!(read["status"], Value::from(200), "{read}");
        assert!(
            read["text"]
                .as_str()
                .unwrap_or_default()
                .contains("mk=chromium"),
            "the page read the API's answer: {read}"
        );
    }
    drop(gateway);

    // A mistake in a policy: `spin build` fails with every diagnostic, through the plugin.
    let policy = project.join("policies/api.toml");
    let valid = std::fs::read_to_string(&policy).expect("the policy");
    let broken = valid
        .replace("allow_origins", "allow_origin")
        .replace("max_age = 600", "max_age = 90000");
    std::fs::write(&policy, &broken).expect("break the policy");
    let from = manifest.display().to_string();
    let refused = spin_run(Host::Spin4, &["build", "--from", &from], &dir);
    std::fs::write(dir.join("spin-build-refused.txt"), text(&refused)).expect("transcript");
    assert!(!refused.status.success(), "{}", text(&refused));
    for diagnostic in [
        "policies/api.toml:9:1: error: unknown key `allow_origin` in `[cors]`",
        "policies/api.toml:12:11: error: `max_age = 90000` is outside 0..=86400 seconds",
    ] {
        assert!(
            text(&refused).contains(diagnostic),
            "{diagnostic}\n{}",
            text(&refused)
        );
    }
    std::fs::write(&policy, valid).expect("restore the policy");

    // A wrong digest: Spin refuses the download before anything serves (a fresh cache: Spin
    // looks a digest up there before it downloads anything).
    let wrong = with_wrong_digest(&manifest, &gateway_digest);
    let output = spin_refuses(Host::Spin4, &wrong, &dir.join("wrong-digest"));
    assert!(
        output.contains("invalid content digest")
            && output.contains(&format!("downloaded sha256:{gateway_digest}")),
        "{output}"
    );
}

/// The README's middleware snippet (the `[[trigger.http]]` block of "Add corsgate to your
/// Spin app" that names the prebuilt middleware), with the release's URL and digest and the
/// user's own source and build in place of the placeholders.
fn readme_middleware_manifest(url: &str, digest: &str, api_source: &str) -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let snippet = readme
        .split("```toml\n")
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("corsgate_middleware_prebuilt.wasm"))
        .expect("the README's middleware snippet");
    let snippet: String = snippet
        .lines()
        .map(|line| line.strip_prefix("   ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(snippet.contains("inherit_configuration = [\"files\", \"environment\"]"));
    let manifest = snippet
        .replace("<release>", url)
        .replace("<from SHA256SUMS>", digest)
        .replace("target/wasm32-wasip2/release/api.wasm", api_source)
        .replace("<your build command>", "true");
    assert!(
        !manifest.contains('<'),
        "a placeholder is left:\n{manifest}"
    );
    format!("spin_manifest_version = 2\n\n[application]\nname = \"existing-app\"\n\n{manifest}\n")
}

#[test]
fn the_prebuilt_middleware_guards_an_existing_app() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let served = release();
    let dir = work_dir("spin-prebuilt").join("middleware");
    with_plugin(&dir);
    let page = PageServer::start();

    // The user's existing WASIp3 app, and their policy folder beside its manifest.
    let app = dir.join("existing-app");
    std::fs::create_dir_all(&app).expect("create the app");
    Component::package("example-p3-api").build(&app.join("api.wasm"));
    let example =
        std::fs::read_to_string(repo_root().join("examples/spin-middleware/policies/api.toml"))
            .expect("the example's policy");
    let policy = example.replace(
        "allow_origins = [\"https://app.example.com\"]",
        &format!(
            "allow_origins = [\"https://app.example.com\", \"{}\"]",
            page.origin()
        ),
    );
    assert_ne!(policy, example, "the page's origin is allowed");
    std::fs::create_dir_all(app.join("corsgate-policies")).expect("policy folder");
    std::fs::write(app.join("corsgate-policies/api.toml"), policy).expect("write the policy");
    let digest = digest_of(&served.dist, "corsgate_middleware_prebuilt.wasm");
    let manifest = app.join("spin.toml");
    std::fs::write(
        &manifest,
        readme_middleware_manifest(&served.url, &digest, "api.wasm"),
    )
    .expect("write spin.toml");

    builds_with_the_check(&manifest, &dir);

    let server = spin_up(Host::Spin4, &manifest, &[], &dir.join("up"));
    let answer = preflight(&server, &page.origin(), "/api/items");
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert!(
        answer.body.is_empty(),
        "answered by the middleware, not the app"
    );
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(page.origin())
    );
    let items = send(
        server.addr,
        &Request::new("GET", "/api/items?page=2").origin("https://app.example.com"),
    )
    .expect("GET");
    assert!(
        items.text().contains("\"app\":\"example-p3-api\""),
        "the app answered: {}",
        items.text()
    );
    assert_eq!(
        items.head.all("access-control-allow-origin"),
        [b"https://app.example.com".as_slice()],
        "the policy's answer in place of the app's `*`"
    );

    if chromium_runs_here() {
        let read = page_reads(&page, "middleware", &server.url("/api/items/7"));
        assert_eq!(read["status"], Value::from(200), "{read}");
        assert!(
            read["text"]
                .as_str()
                .unwrap_or_default()
                .contains("\"method\":\"PUT\""),
            "the page read the app's answer: {read}"
        );
    }
    drop(server);

    let wrong = with_wrong_digest(&manifest, &digest);
    let output = spin_refuses(Host::Spin4, &wrong, &dir.join("wrong-digest"));
    assert!(
        output.contains("invalid content digest")
            && output.contains(&format!("downloaded sha256:{digest}")),
        "{output}"
    );
}
