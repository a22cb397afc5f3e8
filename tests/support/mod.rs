//! Shared by the host and browser tests: test upstreams on ephemeral ports, the component built
//! with the test policies pointing at them, and `wasmtime serve` running it, stopped by PID when
//! the [`Gateway`] is dropped.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsgate_testkit::process::{wait_for_port, ChildGuard};
use corsgate_testkit::upstream::TestUpstream;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the end-to-end builds and logs go (kept apart from the developer's own build).
pub fn work_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target").join("corsgate-e2e").join(name);
    std::fs::create_dir_all(&dir).expect("create work dir");
    dir
}

/// `wasmtime` from PATH, or cargo's bin folder where `cargo install` puts it.
pub fn wasmtime() -> PathBuf {
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("wasmtime"));
    match in_cargo_home {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("wasmtime"),
    }
}

/// Runs `cargo build --release --target wasm32-wasip2` with `CORSGATE_POLICIES=policies`.
pub fn cargo_build_component(policies: &Path) -> std::process::Output {
    Command::new(env!("CARGO"))
        .current_dir(repo_root())
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--package",
            "corsgate",
        ])
        .env("CORSGATE_POLICIES", policies)
        .env(
            "CARGO_TARGET_DIR",
            repo_root()
                .join("target")
                .join("corsgate-e2e")
                .join("target"),
        )
        .stdin(Stdio::null())
        .output()
        .expect("run cargo build")
}

/// Copies the test policies with `{KEY}` placeholders replaced.
pub fn write_policies(dest: &Path, substitutions: &[(&str, String)]) {
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest).expect("create policy dir");
    for entry in std::fs::read_dir(repo_root().join("tests/policies")).expect("tests/policies") {
        let path = entry.expect("entry").path();
        let mut text = std::fs::read_to_string(&path).expect("read policy");
        for (key, value) in substitutions {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        std::fs::write(dest.join(path.file_name().expect("name")), text).expect("write policy");
    }
}

/// A test case by name, run against the shared world of its test binary.
pub type NamedCase<W> = (&'static str, fn(&W));

/// Runs each named case as a test against one shared world (custom harness): parses the
/// arguments, starts the world with `start_world` (not when only listing), drops it after the
/// last case, failures included, which stops its processes by PID, then exits with the result.
///
/// The arguments come first because a bad one exits the process on the spot, and processes
/// started before that would outlive the test run.
pub fn run_cases<W: Send + Sync + 'static>(
    start_world: impl FnOnce() -> W,
    cases: Vec<NamedCase<W>>,
) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let world = Arc::new((!args.list).then(start_world));
    let trials = cases
        .into_iter()
        .map(|(name, case)| {
            let world = Arc::clone(&world);
            libtest_mimic::Trial::test(name, move || {
                case(world.as_ref().as_ref().expect("started unless listing"));
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(world);
    conclusion.exit()
}

/// A loopback port where nothing listens (bound, then released): connections are refused.
pub fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Waits for `Serving HTTP on http://ADDR/` in the host's output (60 s at most).
fn wait_for_serving_line(log_path: &Path, guard: &mut ChildGuard) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if let Some(rest) = log.split("Serving HTTP on http://").nth(1) {
            if let Some(addr) = rest.split('/').next().and_then(|a| a.parse().ok()) {
                return addr;
            }
        }
        assert!(guard.is_running(), "wasmtime serve exited:\n{log}");
        assert!(
            Instant::now() < deadline,
            "wasmtime serve did not start within 60 s:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug)]
pub struct Gateway {
    pub addr: SocketAddr,
    pub echo: Arc<TestUpstream>,
    pub log_path: PathBuf,
    /// This gateway's own copy of the component (later builds do not change it).
    wasm: PathBuf,
    guard: ChildGuard,
}

impl Gateway {
    /// Starts the echo upstream, builds the component with the test policies and serves it.
    /// `page_origins` fill the `{PAGE_ORIGIN}` and `{PAGE_ORIGIN_2}` placeholders.
    pub fn start(name: &str, page_origins: [&str; 2]) -> Gateway {
        let echo = TestUpstream::start();
        let dir = work_dir(name);
        let policies = dir.join("policies");
        write_policies(
            &policies,
            &[
                ("ECHO", echo.addr.to_string()),
                ("DEAD", format!("127.0.0.1:{}", dead_port())),
                ("PAGE_ORIGIN", page_origins[0].to_string()),
                ("PAGE_ORIGIN_2", page_origins[1].to_string()),
            ],
        );
        Gateway::build_and_serve(echo, &dir, &policies)
    }

    /// Builds the component from `files` (name, text; `{ECHO}` replaced by the echo upstream's
    /// address) and serves it.
    pub fn start_with_policies(name: &str, files: &[(String, String)]) -> Gateway {
        let echo = TestUpstream::start();
        let dir = work_dir(name);
        let policies = dir.join("policies");
        let _ = std::fs::remove_dir_all(&policies);
        std::fs::create_dir_all(&policies).expect("create policy dir");
        for (file, text) in files {
            std::fs::write(
                policies.join(file),
                text.replace("{ECHO}", &echo.addr.to_string()),
            )
            .expect("write policy");
        }
        Gateway::build_and_serve(echo, &dir, &policies)
    }

    fn build_and_serve(echo: TestUpstream, dir: &Path, policies: &Path) -> Gateway {
        let build = cargo_build_component(policies);
        assert!(
            build.status.success(),
            "building the component failed:\n{}",
            String::from_utf8_lossy(&build.stderr)
        );
        let wasm =
            repo_root().join("target/corsgate-e2e/target/wasm32-wasip2/release/corsgate.wasm");
        let copy = dir.join("corsgate.wasm");
        std::fs::copy(&wasm, &copy).expect("copy the component");
        Gateway::serve(copy, Arc::new(echo), dir, &[])
    }

    /// The same component served by a second host with `extra` arguments for `wasmtime serve`
    /// (`--env NAME=VALUE`, ...), with the same upstreams; its log is its own.
    pub fn serve_again(&self, name: &str, extra: &[&str]) -> Gateway {
        Gateway::serve(
            self.wasm.clone(),
            Arc::clone(&self.echo),
            &work_dir(name),
            extra,
        )
    }

    fn serve(wasm: PathBuf, echo: Arc<TestUpstream>, dir: &Path, extra: &[&str]) -> Gateway {
        let log_path = dir.join("wasmtime.log");
        let log = std::fs::File::create(&log_path).expect("create log");
        // Port 0: the host binds an ephemeral port and prints it.
        let child = Command::new(wasmtime())
            .args(["serve", "-S", "cli", "--addr", "127.0.0.1:0"])
            .args(extra)
            .arg(&wasm)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start wasmtime serve (is wasmtime-cli 48.0.8 installed? run scripts/test.sh)");
        let mut guard = ChildGuard::new("wasmtime serve", child);
        let addr = wait_for_serving_line(&log_path, &mut guard);
        wait_for_port(addr, Duration::from_secs(10), &mut guard);
        Gateway {
            addr,
            echo,
            log_path,
            wasm,
            guard,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// The host's output so far: the component's log lines among it.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}
