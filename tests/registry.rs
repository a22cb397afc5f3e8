//! Shipped the way SpinKube takes it: the gateway published as an OCI artifact with
//! `spin registry push` to a registry on 127.0.0.1, then served from it with
//! `spin up --from <registry>/<name>:<tag>`, and answering as it does from a local build.

use corsgate_testkit::client::{send, Request};
use corsgate_testkit::harness::{spin_run, spin_up, Host};
use corsgate_testkit::registry::Registry;
use corsgate_testkit::world::Gateway;

#[test]
fn the_gateway_pushed_to_a_registry_serves_from_it() {
    if !Host::Spin.runs_here() {
        return;
    }
    // The test world writes the manifest Spin serves; the same app is pushed.
    let local = Gateway::start(
        Host::Spin,
        "registry",
        ["http://127.0.0.1:1", "http://127.0.0.1:2"],
    );
    let dir = local
        .log_path
        .parent()
        .expect("the world's folder")
        .to_path_buf();
    let registry = Registry::start(&dir.join("registry"));
    let reference = format!("{}/corsgate/gateway:0.1.0", registry.addr);
    let manifest = dir.join("spin.toml").display().to_string();
    // Plain HTTP on loopback: `--insecure`.
    let pushed = spin_run(
        Host::Spin,
        &[
            "registry",
            "push",
            "--insecure",
            "--from",
            &manifest,
            &reference,
        ],
        &dir,
    );
    assert!(
        pushed.status.success(),
        "spin registry push failed:\n{}\n{}",
        String::from_utf8_lossy(&pushed.stdout),
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert!(String::from_utf8_lossy(&pushed.stdout).contains("Pushed with digest sha256:"));

    let served = spin_up(
        Host::Spin,
        &reference,
        &["--insecure"],
        &dir.join("from-registry"),
    );
    let preflight = Request::new("OPTIONS", "/api/x")
        .origin("https://app.example.com")
        .header("Access-Control-Request-Method", "PUT");
    let from_registry = send(served.addr, &preflight).expect("preflight");
    let from_local = send(local.addr, &preflight).expect("preflight");
    assert_eq!(from_registry.status, 204);
    let cors = |r: &corsgate_testkit::client::Response| -> Vec<(String, Vec<u8>)> {
        r.head
            .headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect()
    };
    assert_eq!(cors(&from_registry), cors(&from_local), "the same answer");
    let actual = send(
        served.addr,
        &Request::new("GET", "/api/x?mk=oci").origin("https://app.example.com"),
    )
    .expect("actual request");
    assert_eq!(actual.status, 200, "{}", actual.text());
    assert!(
        local.echo.find("mk=oci").is_some(),
        "forwarded by the pulled gateway"
    );
}
