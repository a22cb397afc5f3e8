//! The release as users get it (`scripts/release.sh` runs the same tool): the CLI installed
//! offline as a Spin plugin with the real Spin, 4.1 and 3.6, and run as `spin corsgate` from a
//! user's folder; the components and the app pushed to a registry on 127.0.0.1 and pulled back,
//! each digest the one SHA256SUMS lists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use corsgate_testkit::client::{send, Request};
use corsgate_testkit::harness::{repo_root, spin_run, spin_up, work_dir, Host};
use corsgate_testkit::registry::Registry;
use sha2::{Digest, Sha256};

/// The release folder, built once per test binary into the release script's own target
/// folder (its flags differ from a usual build's, so sharing it saves a rebuild).
fn release() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = work_dir("release").join("dist");
        let target = repo_root().join("target/corsgate-release/target");
        let built = tool(&[
            "build".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "--target-dir".as_ref(),
            target.as_os_str(),
        ]);
        assert!(
            built.status.success(),
            "release build failed:\n{}",
            text(&built)
        );
        out
    })
}

fn tool(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsgate-release"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run corsgate-release")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// SHA256SUMS: file name → hex digest.
fn sums(out: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(out.join("SHA256SUMS"))
        .expect("SHA256SUMS")
        .lines()
        .map(|line| {
            let (hex, name) = line.split_once("  ").expect("a sha256sum line");
            (name.to_string(), hex.to_string())
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Installs the plugin from the release's manifest (its tarball's `file://` URL: offline),
/// then runs it as users do, from the repository root with relative paths.
fn plugin_runs_on(host: Host) {
    let out = release();
    // A fresh HOME: nothing installed by an earlier run.
    let dir = work_dir("release").join(host.name());
    let _ = std::fs::remove_dir_all(&dir);
    let manifest = out.join("corsgate-plugin.json").display().to_string();
    let installed = spin_run(
        host,
        &["plugins", "install", "--file", &manifest, "--yes"],
        &dir,
    );
    assert!(
        installed.status.success(),
        "install failed:\n{}",
        text(&installed)
    );

    let valid = spin_run(host, &["corsgate", "check", "policies"], &dir);
    assert!(valid.status.success(), "check policies:\n{}", text(&valid));
    assert!(
        text(&valid).contains("ok: 3 route(s) valid"),
        "{}",
        text(&valid)
    );

    let invalid = spin_run(host, &["corsgate", "check", "tests/invalid-policies"], &dir);
    assert_eq!(invalid.status.code(), Some(1), "{}", text(&invalid));
    assert!(
        text(&invalid).contains("tests/invalid-policies/broken.toml:2:8: error: route path"),
        "file:line:column diagnostics:\n{}",
        text(&invalid)
    );

    let schema = spin_run(host, &["corsgate", "schema"], &dir);
    assert!(schema.status.success(), "{}", text(&schema));
    let shipped = std::fs::read(repo_root().join("deploy/schemas/corsgate-policy.schema.json"))
        .expect("the shipped schema");
    assert_eq!(
        schema.stdout, shipped,
        "the schema the CLI prints is the shipped one"
    );

    // Help names the command the user typed, so its examples can be pasted back.
    let help = spin_run(host, &["corsgate", "check", "--help"], &dir);
    assert!(
        text(&help).contains("Usage: spin corsgate check")
            && text(&help).contains("\n  spin corsgate check deploy/policies"),
        "{}",
        text(&help)
    );
}

#[test]
fn the_plugin_installs_offline_and_runs_on_spin_4_1() {
    if !Host::Spin4.runs_here() {
        return;
    }
    plugin_runs_on(Host::Spin4);
}

#[test]
fn the_plugin_installs_offline_and_runs_on_spin_3_6() {
    if !Host::Spin.runs_here() {
        return;
    }
    plugin_runs_on(Host::Spin);
}

#[test]
fn the_registry_holds_what_sha256sums_lists() {
    if !Host::Spin4.runs_here() {
        return;
    }
    let out = release();
    let registry = Registry::start(&work_dir("release").join("registry"));
    let spin = Host::Spin4.program().expect("spin 4.1");
    let pushed = tool(&[
        "push".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--registry".as_ref(),
        registry.addr.to_string().as_ref(),
        "--spin".as_ref(),
        spin.as_os_str(),
    ]);
    assert!(pushed.status.success(), "push failed:\n{}", text(&pushed));

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str, accept: &str| -> Vec<u8> {
        let url = format!("http://{}/v2/{path}", registry.addr);
        let mut response = agent.get(&url).header("Accept", accept).call().expect(&url);
        assert_eq!(response.status(), 200, "GET {url}");
        response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("body")
    };
    let oci_manifest = "application/vnd.oci.image.manifest.v1+json";
    let version = env!("CARGO_PKG_VERSION");
    let sums = sums(out);

    // Each component: repository corsgate/<package>, one `application/wasm` layer whose bytes
    // are the released file's.
    let components: Vec<(&String, &String)> = sums
        .iter()
        .filter(|(name, _)| name.ends_with(".wasm"))
        .collect();
    assert_eq!(components.len(), 2, "{sums:?}");
    for (file, hex) in components {
        let package = file.trim_end_matches(".wasm").replace('_', "-");
        let manifest: serde_json::Value = serde_json::from_slice(&get(
            &format!("corsgate/{package}/manifests/{version}"),
            oci_manifest,
        ))
        .expect("a JSON manifest");
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.wasm.config.v0+json"
        );
        let layers = manifest["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), 1, "{manifest}");
        assert_eq!(layers[0]["mediaType"], "application/wasm");
        assert_eq!(layers[0]["digest"], format!("sha256:{hex}"), "{file}");
        let blob = get(&format!("corsgate/{package}/blobs/sha256:{hex}"), "*/*");
        assert_eq!(&sha256_hex(&blob), hex, "{file} pulled back");
    }

    // The app: Spin's own layout, one of whose layers is the gateway its manifest names.
    let app_manifest = std::fs::read_to_string(out.join("app/spin.toml")).expect("app manifest");
    let gateway = app_manifest
        .lines()
        .find_map(|l| l.strip_prefix("source = \"../")?.strip_suffix('"'))
        .expect("the gateway's source");
    let manifest: serde_json::Value = serde_json::from_slice(&get(
        &format!("corsgate/app/manifests/{version}"),
        oci_manifest,
    ))
    .expect("a JSON manifest");
    let digests: Vec<&str> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["digest"].as_str())
        .collect();
    assert!(
        digests.contains(&format!("sha256:{}", sums[gateway]).as_str()),
        "the app's layers {digests:?} hold {gateway}"
    );

    // Served from the registry, the prebuilt gateway reads the policies mounted beside it.
    let reference = format!("{}/corsgate/app:{version}", registry.addr);
    let served = spin_up(
        Host::Spin4,
        &reference,
        &["--insecure"],
        &work_dir("release").join("from-registry"),
    );
    let preflight = Request::new("OPTIONS", "/users/42")
        .origin("https://app.example.com")
        .header("Access-Control-Request-Method", "PUT");
    let answer = send(served.addr, &preflight).expect("preflight");
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(
        answer.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
}

#[test]
fn the_templates_name_the_released_gateway() {
    let out = release();
    let bytes = std::fs::read(out.join("corsgate-templates.tar.gz")).expect("templates");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut manifest = String::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").display().to_string();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).expect("text");
        assert!(
            !text.contains("@CORSGATE_"),
            "{path} still has a placeholder"
        );
        if path == "templates/corsgate-prebuilt/content/spin.toml" {
            manifest = text;
        }
    }
    let gateway = sums(out)
        .into_iter()
        .find(|(name, _)| name.contains("p3"))
        .expect("the gateway in SHA256SUMS");
    assert!(
        manifest.contains(&format!(
            "/{}\", digest = \"sha256:{}\"",
            gateway.0, gateway.1
        )),
        "{manifest}"
    );
}
