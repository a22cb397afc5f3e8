//! The prebuilt WASIp3 gateway (`corsgate-p3-prebuilt`) when its policy folder cannot serve:
//! missing, empty or invalid. On both hosts it fails closed: every diagnostic logged once per
//! instance, exactly as the engine's validator words it (the one `corsgate check` and the
//! compiled-in builds use), and every request, preflights included, answered `503` with no CORS
//! header and a body that points at the log without echoing the policy. (With a valid folder,
//! the host suite runs every case on it: `prebuilt-wasmtime::…`, `prebuilt-spin4::…`.)

use std::path::Path;

use corsgate_core::config::load_policy_folder;
use corsgate_core::decision::is_access_control_header;
use corsgate_testkit::client::{Request, Response};
use corsgate_testkit::expect::{answered, APP};
use corsgate_testkit::harness::{
    repo_root, work_dir, Artifact, Component, Host, ServeOptions, Server, Target, POLICY_MOUNT,
};
use corsgate_testkit::world::{policy_files, write_policies};

/// The prebuilt gateway's hosts.
const HOSTS: [Host; 2] = [Host::Wasmtime, Host::Spin4];

/// How many requests each test sends one after another: an instance logs its diagnostics on
/// the first and never again.
const REQUESTS: usize = 4;

/// The prebuilt gateway on `host`, serving `folder` (if any) from its files mount.
fn serve(host: Host, name: &str, folder: Option<&Path>) -> Server {
    let dir = work_dir(&format!("prebuilt-{name}-{host}"));
    let wasm = Component::package("corsgate-p3-prebuilt").build(&dir.join("prebuilt.wasm"));
    let options = match folder {
        Some(folder) => ServeOptions::default().policy_folder(folder),
        None => ServeOptions::default(),
    };
    Target::prebuilt(host).serve(&wasm, &dir, &options)
}

/// A preflight and an actual request, each sent [`REQUESTS`] / 2 times: all `503` with the
/// engine's body and not one CORS header.
fn assert_closed(gateway: &Server, policy_text: &[String]) {
    let preflight = || {
        Request::new("OPTIONS", "/api/items")
            .origin(APP)
            .header("Access-Control-Request-Method", "PUT")
            .header("Access-Control-Request-Headers", "content-type")
    };
    let get = || Request::new("GET", "/users/7").origin(APP);
    for request in (0..REQUESTS / 2).flat_map(|_| [preflight(), get()]) {
        let what = request.describe();
        let response: Response = answered(gateway, request);
        assert_eq!(response.status, 503, "{what}: {}", response.text());
        let cors = response.head.names_starting_with("access-control-");
        assert!(cors.is_empty(), "{what}: no CORS header, got {cors:?}");
        let body = response.text();
        assert!(
            body.contains("no valid CORS policy loaded") && body.contains("file:line:column"),
            "{what}: the body says why and where to look: {body}"
        );
        for line in policy_text.iter().filter(|l| !l.trim().is_empty()) {
            assert!(
                !body.contains(line.as_str()),
                "{what}: echoes the policy ({line})"
            );
        }
    }
    let log = gateway.log();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("decision=policy_unavailable") && l.contains("status=503"))
            .count(),
        REQUESTS,
        "each request logged as refused for want of a policy:\n{log}"
    );
    assert!(!log.contains("panicked"), "never a panic:\n{log}");
}

/// Each of `diagnostics` is in the log exactly once, however many requests the instance served.
fn assert_logged_once(gateway: &Server, diagnostics: &[String]) {
    let log = gateway.log();
    assert!(!diagnostics.is_empty());
    for diagnostic in diagnostics {
        assert_eq!(
            log.matches(diagnostic.as_str()).count(),
            1,
            "logged once: {diagnostic}\n--- log ---\n{log}"
        );
    }
}

/// What the engine's validator says about `folder`, as the guest names the files: under the
/// mount.
fn diagnostics_of(folder: &Path) -> Vec<String> {
    let errors = load_policy_folder(folder).expect_err("an invalid folder");
    errors
        .iter()
        .map(|e| {
            e.to_string()
                .replace(&folder.display().to_string(), POLICY_MOUNT)
        })
        .collect()
}

#[test]
fn an_invalid_policy_folder_fails_closed_with_every_diagnostic_logged_once() {
    for host in HOSTS.into_iter().filter(|h| h.runs_here()) {
        let dir = work_dir(&format!("prebuilt-invalid-{host}"));
        let folder = dir.join("policies");
        let files = policy_files("tests/invalid-policies");
        write_policies(&folder, &files, &[]);
        let diagnostics = diagnostics_of(&folder);
        assert!(
            diagnostics.len() >= 5,
            "tests/invalid-policies holds many mistakes: {diagnostics:#?}"
        );
        let gateway = serve(host, "invalid", Some(&folder));
        let policy_text: Vec<String> = files
            .iter()
            .flat_map(|(_, text)| text.lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        assert_closed(&gateway, &policy_text);
        assert_logged_once(&gateway, &diagnostics);
        let summary = format!(
            "corsgate: no valid policy in {POLICY_MOUNT} ({} error(s)); every request is answered 503, with no CORS header",
            diagnostics.len()
        );
        assert_logged_once(&gateway, &[summary]);
    }
}

#[test]
fn a_missing_or_empty_policy_folder_fails_closed() {
    for host in HOSTS.into_iter().filter(|h| h.runs_here()) {
        let missing = serve(host, "missing", None);
        assert_closed(&missing, &[]);
        let log = missing.log();
        assert_eq!(
            log.matches(&format!("{POLICY_MOUNT}:0:0: cannot read:"))
                .count(),
            1,
            "{host}: the missing mount, named once:\n{log}"
        );

        let dir = work_dir(&format!("prebuilt-empty-{host}"));
        let empty = dir.join("policies");
        write_policies(&empty, &[("README.md".into(), "not a policy".into())], &[]);
        let gateway = serve(host, "empty", Some(&empty));
        assert_closed(&gateway, &[]);
        assert_logged_once(
            &gateway,
            &[format!(
                "{POLICY_MOUNT}:0:0: no policy files (*.toml) in this folder (mount the folder of your policy files at {POLICY_MOUNT})"
            )],
        );
    }
}

/// The shipped policies, served by the prebuilt gateway, answer as the compiled-in gateway does
/// (the host suite covers the test policies case by case): the same preflight, byte for byte in
/// its CORS headers.
#[test]
fn the_shipped_policies_mounted_answer_as_compiled_in() {
    for host in HOSTS.into_iter().filter(|h| h.runs_here()) {
        let dir = work_dir(&format!("prebuilt-shipped-{host}"));
        let folder = repo_root().join("policies");
        let prebuilt = serve(host, "shipped", Some(&folder));
        let compiled_wasm =
            Component::artifact(Artifact::P3, &folder).build(&dir.join("compiled.wasm"));
        let compiled = Target::p3(host).serve(
            &compiled_wasm,
            &dir.join("compiled"),
            &ServeOptions::default(),
        );
        for (origin, path) in [
            ("https://app.example.com", "/users/1"),
            ("https://evil.example", "/users/1"),
            ("https://app.example.com", "/catalog/x"),
        ] {
            let request = || {
                Request::new("OPTIONS", path)
                    .origin(origin)
                    .header("Access-Control-Request-Method", "PUT")
                    .header(
                        "Access-Control-Request-Headers",
                        "content-type, x-request-id",
                    )
            };
            let (a, b) = (
                answered(&prebuilt, request()),
                answered(&compiled, request()),
            );
            assert_eq!(a.status, b.status, "{host} {origin} {path}");
            let cors = |r: &Response| {
                let mut lines: Vec<(String, Vec<u8>)> = r
                    .head
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                    .filter(|(n, _)| is_access_control_header(n) || n == "vary")
                    .collect();
                lines.sort();
                lines
            };
            assert_eq!(cors(&a), cors(&b), "{host} {origin} {path}");
        }
    }
}

/// A file too large to be a policy (a mount of the wrong folder: a log, an image) is refused
/// whole, not read into the instance's memory: the folder fails closed, naming the file.
#[test]
fn a_file_over_one_mib_fails_closed() {
    for host in HOSTS.into_iter().filter(|h| h.runs_here()) {
        let dir = work_dir(&format!("prebuilt-huge-{host}"));
        let folder = dir.join("policies");
        let mut files = policy_files("policies");
        files.push(("huge.toml".into(), "#".repeat((1 << 20) + 1)));
        write_policies(&folder, &files, &[]);
        let gateway = serve(host, "huge", Some(&folder));
        assert_closed(&gateway, &[]);
        assert_logged_once(
            &gateway,
            &[format!(
                "{POLICY_MOUNT}/huge.toml:0:0: larger than 1048576 bytes: not a policy file"
            )],
        );
    }
}
