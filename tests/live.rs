//! Live origin lists on real hosts (CONTRACT.md §7): a route's origins changed at run time with
//! `corsgate live`, with no redeploy, inside the ceiling its policy file sets.
//!
//! On `wasmtime serve`, through the file channel (`--dir <folder>::/corsgate/live`), for the
//! compiled-in and the prebuilt WASIp3 gateway: an added origin is allowed and a revoked one
//! refused within the TTL and a second, over 20 rounds (the worst time printed); values written
//! past the CLI (cut short, a bad hash, outside the ceiling, 2 MB, made for another build, an
//! older generation) change no decision and are logged once each; an unreadable list keeps a
//! warm instance on its last-known-good list and puts a cold one on its route's
//! `when_unreadable` choice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corsgate_testkit::client::{send, Request, Response};
use corsgate_testkit::harness::{
    corsgate_cli, work_dir, Artifact, Component, Host, ServeOptions, Server, Target,
};
use corsgate_testkit::live::rehashed;

/// The TTL the gateways run with: a change must show within it and a second.
const TTL: Duration = Duration::from_secs(1);

/// How many times an origin is added and revoked.
const ROUNDS: usize = 20;

const APP: &str = "https://app.example.com";
const PARTNER: &str = "https://a.partner.example";
/// Outside the ceiling, and sorted where the partner was (a forged list stays canonical).
const FORGED: &str = "https://a.partner.evil";

/// The users route, with a baseline of the app alone and a ceiling that holds partners; the
/// gateway answers its preflights at the edge, so the upstream is never called.
fn users_policy(when_unreadable: &str) -> String {
    format!(
        "[route]\npath = \"/users/...\"\nupstream = \"http://127.0.0.1:9\"\n[cors]\nallow_origins = [\"{APP}\"]\nallow_methods = [\"GET\", \"PUT\"]\nallow_credentials = true\nmax_age = 5\n[live]\nceiling = [\"{APP}\", \"https://*.partner.example\"]\nwhen_unreadable = \"{when_unreadable}\"\n"
    )
}

/// A scratch folder with `policies/users.toml` and an empty `live/`.
fn folder(name: &str, when_unreadable: &str) -> PathBuf {
    let dir = work_dir(&format!("live-{name}"));
    let _ = std::fs::remove_dir_all(dir.join("live"));
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::create_dir_all(dir.join("live")).unwrap();
    std::fs::write(
        dir.join("policies/users.toml"),
        users_policy(when_unreadable),
    )
    .unwrap();
    dir
}

/// `artifact` on `wasmtime serve`, reading `dir/live` as its live folder, with one instance
/// reused for every request (so "logged once per instance" is "logged once").
fn serve(artifact: Artifact, dir: &Path) -> Server {
    let policies = dir.join("policies");
    let wasm = Component::artifact(artifact, &policies)
        .build(&dir.join(format!("{}.wasm", artifact.package())));
    let mut options = ServeOptions::default()
        .env("CORSGATE_LIVE_TTL", &TTL.as_secs().to_string())
        .host_args(&[
            "--dir",
            &format!("{}::/corsgate/live", dir.join("live").display()),
            "--max-instance-reuse-count",
            "100000000",
        ]);
    if artifact.is_prebuilt() {
        options = options.policy_folder(&policies);
    }
    Target {
        artifact,
        host: Host::Wasmtime,
    }
    .serve(&wasm, &dir.join(artifact.package()), &options)
}

/// `corsgate live <args>` on the folder's policies and live file; panics unless it succeeds.
fn live(dir: &Path, args: &[&str]) -> String {
    let file = dir.join("live/origins.json");
    let output = corsgate_cli()
        .arg("live")
        .arg(args[0])
        .arg("--policies")
        .arg(dir.join("policies"))
        .arg("--file")
        .arg(&file)
        .args(&args[1..])
        .output()
        .expect("run corsgate live");
    assert!(
        output.status.success(),
        "corsgate live {args:?}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether a preflight from `origin` is granted, and the log's `live=` of its decision.
fn preflight(gateway: &Server, origin: &str) -> bool {
    let request = Request::new("OPTIONS", "/users/1")
        .origin(origin)
        .header("Access-Control-Request-Method", "PUT");
    let response: Response = send(gateway.addr, &request).expect("the gateway answers");
    let granted = response.header("access-control-allow-origin").as_deref() == Some(origin);
    assert_eq!(
        response.status,
        if granted { 204 } else { 403 },
        "a preflight is granted (204) or refused (403), never anything else"
    );
    granted
}

/// How long until a preflight from `origin` is `granted` (or not), asking every 20 ms; panics
/// after the TTL and a second.
fn until(gateway: &Server, origin: &str, granted: bool) -> Duration {
    let started = Instant::now();
    loop {
        if preflight(gateway, origin) == granted {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < TTL + Duration::from_secs(1),
            "{origin} still {} after {:?}",
            if granted { "refused" } else { "allowed" },
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `bytes` as the live file past the CLI (write, then rename, as an editor would).
fn write_live(dir: &Path, bytes: &[u8]) {
    let temporary = dir.join("live/.origins.json.tmp");
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, dir.join("live/origins.json")).unwrap();
}

/// Lines of the log that hold `text`.
fn lines_with(gateway: &Server, text: &str) -> usize {
    gateway.log().lines().filter(|l| l.contains(text)).count()
}

#[test]
fn wasmtime_file_channel_propagates_within_the_ttl_and_refuses_what_it_must() {
    for artifact in [Artifact::P3, Artifact::P3Prebuilt] {
        let dir = folder(&format!("wasmtime-{}", artifact.package()), "deny");
        let gateway = serve(artifact, &dir);
        let name = artifact.package();

        // Nothing published: the baseline.
        assert!(
            preflight(&gateway, APP),
            "{name}: the baseline allows the app"
        );
        assert!(!preflight(&gateway, PARTNER), "{name}: and not the partner");
        assert!(gateway.log().contains("live=baseline"), "{name}");

        let (mut worst_add, mut worst_revoke) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..ROUNDS {
            live(&dir, &["publish", "--add", &format!("users={PARTNER}")]);
            worst_add = worst_add.max(until(&gateway, PARTNER, true));
            live(&dir, &["publish", "--remove", &format!("users={PARTNER}")]);
            worst_revoke = worst_revoke.max(until(&gateway, PARTNER, false));
        }
        eprintln!(
            "{name} on wasmtime, TTL {TTL:?}, {ROUNDS} rounds: worst time to allow {worst_add:?}, to revoke {worst_revoke:?}"
        );
        let generation = 2 * ROUNDS;
        assert!(
            gateway.log().contains(&format!("live={generation} ")),
            "{name}: decisions name the generation they used"
        );

        // The partner again, then values written past the CLI: none changes a decision.
        live(&dir, &["publish", "--add", &format!("users={PARTNER}")]);
        until(&gateway, PARTNER, true);
        let good = std::fs::read(dir.join("live/origins.json")).unwrap();
        let text = String::from_utf8(good.clone()).unwrap();
        let other_build = {
            let other = folder("other-build", "deny");
            std::fs::write(
                other.join("policies/users.toml"),
                users_policy("deny")
                    .replace("https://*.partner.example", "https://*.other.example"),
            )
            .unwrap();
            let printed = corsgate_cli()
                .args([
                    "live",
                    "publish",
                    "--print",
                    "--generation",
                    "999",
                    "--policies",
                ])
                .arg(other.join("policies"))
                .output()
                .unwrap();
            printed.stdout
        };
        let refused: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "cut short",
                good[..good.len() / 2].to_vec(),
                "not a canonical live origin list",
            ),
            (
                "a bad hash",
                text.replacen("a.partner", "a.partnes", 1).into_bytes(),
                "content_sha256 is not the hash of the routes",
            ),
            (
                "outside the ceiling",
                rehashed(&good, PARTNER, FORGED),
                "lies outside the route's ceiling",
            ),
            ("2 MB", vec![b'{'; 2_000_000], "larger than 65536 bytes"),
            (
                "another build's ceilings",
                other_build,
                "made for another build",
            ),
            (
                "an older generation",
                text.replacen(
                    &format!("\"generation\":{}", generation + 1),
                    "\"generation\":1",
                    1,
                )
                .into_bytes(),
                "is older than generation",
            ),
        ];
        for (what, bytes, problem) in refused {
            let before = lines_with(&gateway, problem);
            write_live(&dir, &bytes);
            let settle = Instant::now() + TTL + Duration::from_millis(500);
            while Instant::now() < settle {
                assert!(
                    preflight(&gateway, PARTNER),
                    "{name}, {what}: the partner stays allowed"
                );
                assert!(!preflight(&gateway, FORGED), "{name}, {what}");
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(
                lines_with(&gateway, problem) - before,
                1,
                "{name}, {what}: one problem line:\n{}",
                gateway.log()
            );
        }

        // The list unreadable (a folder where the file was): a warm instance keeps generation
        // 41, and the log says why.
        std::fs::remove_file(dir.join("live/origins.json")).unwrap();
        std::fs::create_dir(dir.join("live/origins.json")).unwrap();
        // Requests keep the instance warm (an idle one is dropped after a second).
        let settle = Instant::now() + TTL + Duration::from_millis(500);
        while Instant::now() < settle {
            assert!(
                preflight(&gateway, PARTNER),
                "{name}: the last-known-good list"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(gateway.log().contains("the store cannot be read"), "{name}");
        assert!(!gateway.log().contains("panicked"), "{name}: never a panic");
    }
}

/// A cold instance that cannot read its list applies its route's choice at once: `deny`
/// allows no origin, `baseline` the route's `allow_origins`; and once the list can be read,
/// within the TTL, the list applies.
#[test]
fn a_cold_instance_applies_when_unreadable_until_the_list_can_be_read() {
    for choice in ["deny", "baseline"] {
        let dir = folder(&format!("cold-{choice}"), choice);
        std::fs::create_dir(dir.join("live/origins.json")).unwrap();
        let gateway = serve(Artifact::P3, &dir);
        let started = Instant::now();
        assert_eq!(preflight(&gateway, APP), choice == "baseline", "{choice}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{choice}: at once, not after a wait: {:?}",
            started.elapsed()
        );
        assert!(
            !preflight(&gateway, PARTNER),
            "{choice}: never beyond the baseline"
        );
        let expected = if choice == "deny" {
            "live=denied"
        } else {
            "live=baseline"
        };
        assert!(
            gateway.log().contains(expected),
            "{choice}:\n{}",
            gateway.log()
        );

        std::fs::remove_dir(dir.join("live/origins.json")).unwrap();
        live(&dir, &["publish", "--add", &format!("users={PARTNER}")]);
        until(&gateway, PARTNER, true);
        assert!(preflight(&gateway, APP), "{choice}: the published list");
    }
}
