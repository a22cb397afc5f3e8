//! The Spin template (templates/corsgate-gateway), as a new user takes it, offline with the
//! real Spin: `spin templates install --dir <repo>`, `spin new -t corsgate-gateway`, then the
//! generated project passes `corsgate check`, builds with `spin build` and serves with
//! `spin up` in front of an API.

use std::process::Output;

use corsgate_testkit::client::{send, Request};
use corsgate_testkit::expect::{self, APP};
use corsgate_testkit::harness::{corsgate_cli, repo_root, spin_run, spin_up, work_dir, Host};
use corsgate_testkit::upstream::TestUpstream;

fn assert_ran(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_new_gateway_project_builds_checks_and_serves() {
    if !Host::Spin.runs_here() {
        return;
    }
    let api = TestUpstream::start();
    let dir = work_dir("spin-template");
    let project = dir.join("my-gateway");
    let _ = std::fs::remove_dir_all(&project);
    let repo = repo_root();
    let installed = spin_run(
        Host::Spin,
        &[
            "templates",
            "install",
            "--dir",
            &repo.display().to_string(),
            "--upgrade",
        ],
        &dir,
    );
    assert_ran("spin templates install", &installed);
    let api_url = format!("http://{}", api.addr);
    let created = spin_run(
        Host::Spin,
        &[
            "new",
            "-t",
            "corsgate-gateway",
            "my-gateway",
            "--accept-defaults",
            "--output",
            &project.display().to_string(),
            "--value",
            &format!("corsgate-source={}", repo.display()),
            "--value",
            &format!("api-url={api_url}"),
            "--value",
            "page-origin=https://app.example.com",
        ],
        &dir,
    );
    assert_ran("spin new", &created);
    for file in ["spin.toml", "policies/api.toml", "README.md"] {
        assert!(project.join(file).is_file(), "spin new made no {file}");
    }

    let checked = corsgate_cli()
        .arg("check")
        .arg(project.join("policies"))
        .output()
        .expect("run corsgate check");
    assert_ran("corsgate check", &checked);
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("ok: 1 route(s) valid, 0 warning(s)"),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );

    let manifest = project.join("spin.toml");
    let built = spin_run(
        Host::Spin,
        &["build", "--from", &manifest.display().to_string()],
        &dir,
    );
    assert_ran("spin build", &built);
    let gateway = spin_up(Host::Spin, &manifest, &[], &dir);
    let preflight = send(
        gateway.addr,
        &Request::new("OPTIONS", "/api/users")
            .origin("https://app.example.com")
            .header("Access-Control-Request-Method", "PUT"),
    )
    .expect("preflight");
    assert_eq!(preflight.status, 204, "{}", preflight.text());
    let actual = send(
        gateway.addr,
        &Request::new("GET", "/api/users?mk=template").origin("https://app.example.com"),
    )
    .expect("actual request");
    assert_eq!(actual.status, 200, "{}", actual.text());
    expect::allows_origin(&actual, APP);
    assert_eq!(
        api.find("mk=template").expect("forwarded").target,
        "/api/users?mk=template"
    );
}
