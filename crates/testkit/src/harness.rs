//! The one harness that builds a component and serves it: a component of the workspace built
//! for `wasm32-wasip2` (the gateway with a policy folder compiled in, or a benchmark reference),
//! served by a host on 127.0.0.1 with an ephemeral port, waited for with a deadline, and stopped
//! by PID when its [`Server`] is dropped, which also happens when a test panics.
//!
//! The host tests, the browser tests, the end-to-end properties, the soak and the benchmark all
//! start their gateways here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::process::{descendants, wait_for_port, ChildGuard};

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// A scratch folder for one test world's builds, policies and logs, apart from the developer's
/// own build: `target/corsgate-e2e/<name>`.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target").join("corsgate-e2e").join(name);
    std::fs::create_dir_all(&dir).expect("create work dir");
    dir
}

/// A component of the workspace, built for `wasm32-wasip2` in release mode.
#[derive(Clone, Debug)]
pub struct Component {
    package: &'static str,
    env: Vec<(String, String)>,
}

impl Component {
    /// The gateway (WASIp2), with the policies of `policies` compiled in.
    pub fn gateway(policies: &Path) -> Component {
        Component::package("corsgate").env("CORSGATE_POLICIES", &policies.display().to_string())
    }

    /// Another component package of the workspace (the benchmark references).
    pub fn package(package: &'static str) -> Component {
        Component {
            package,
            env: Vec::new(),
        }
    }

    /// A build-time environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Component {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs the build and returns cargo's output, whatever it says.
    pub fn cargo_build(&self) -> std::process::Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Command::new(cargo)
            .current_dir(repo_root())
            .args([
                "build",
                "--locked",
                "--release",
                "--target",
                "wasm32-wasip2",
            ])
            .args(["--package", self.package])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "CARGO_TARGET_DIR",
                repo_root().join("target/corsgate-e2e/target"),
            )
            .stdin(Stdio::null())
            .output()
            .expect("run cargo build")
    }

    /// Builds the component and copies it to `dest` (later builds then leave it alone).
    /// Panics with cargo's output when the build fails.
    pub fn build(&self, dest: &Path) -> PathBuf {
        let output = self.cargo_build();
        assert!(
            output.status.success(),
            "building {} failed:\n{}",
            self.package,
            String::from_utf8_lossy(&output.stderr)
        );
        let built = repo_root()
            .join("target/corsgate-e2e/target/wasm32-wasip2/release")
            .join(format!("{}.wasm", self.package.replace('-', "_")));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("create the component's folder");
        }
        std::fs::copy(&built, dest).expect("copy the component");
        dest.to_path_buf()
    }
}

/// The `corsgate` CLI as a user runs it from the repository (`cargo run -p corsgate-cli --`),
/// ready for its arguments.
pub fn corsgate_cli() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "run",
            "--quiet",
            "--locked",
            "--package",
            "corsgate-cli",
            "--",
        ])
        .current_dir(repo_root())
        .env("NO_COLOR", "1");
    command
}

/// A host that serves HTTP components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `wasmtime serve -S cli` from wasmtime-cli 48.0.8.
    Wasmtime,
    /// `spin up` (3.6.3, what SpinKube's shim embeds) on a manifest generated per server.
    Spin,
}

impl Host {
    pub const ALL: [Host; 2] = [Host::Wasmtime, Host::Spin];

    pub fn name(self) -> &'static str {
        match self {
            Host::Wasmtime => "wasmtime",
            Host::Spin => "spin",
        }
    }

    /// What the gateway puts in `X-Forwarded-For` for a client on loopback: Spin reports the
    /// client's address (`spin-client-addr`), `wasmtime serve` does not.
    pub fn forwarded_client(self) -> &'static str {
        match self {
            Host::Wasmtime => "unknown",
            Host::Spin => "127.0.0.1",
        }
    }

    /// Whether this host's tests run here: always in CI, where a missing host must fail the
    /// run; elsewhere only when the host is installed (saying so when it is not).
    pub fn runs_here(self) -> bool {
        match self.program() {
            Ok(_) => true,
            Err(_) if std::env::var_os("CI").is_some() => true,
            Err(why) => {
                eprintln!("note: the {self} tests are skipped: {why}");
                false
            }
        }
    }

    /// The host's own program, or why it cannot be found.
    pub fn program(self) -> Result<PathBuf, String> {
        match self {
            Host::Wasmtime => Ok(wasmtime()),
            Host::Spin => spin(),
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a host serves a component.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// The component's environment variables.
    pub env: Vec<(String, String)>,
    /// Further arguments for the host (`--max-instance-reuse-count 128`, ...).
    pub host_args: Vec<String>,
    /// Pin the host to this CPU (`taskset`), for benchmarks.
    pub cpu: Option<usize>,
    /// `scheme://host:port` the component may call (Spin enforces them; wasmtime does not).
    pub allowed_outbound_hosts: Vec<String>,
}

impl ServeOptions {
    pub fn env(mut self, name: &str, value: &str) -> ServeOptions {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn host_args(mut self, args: &[&str]) -> ServeOptions {
        self.host_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn cpu(mut self, cpu: Option<usize>) -> ServeOptions {
        self.cpu = cpu;
        self
    }

    pub fn allow_outbound(mut self, hosts: impl IntoIterator<Item = String>) -> ServeOptions {
        self.allowed_outbound_hosts.extend(hosts);
        self
    }
}

/// A running host, stopped by PID when dropped.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    /// The host's output, the component's log lines among it.
    pub log_path: PathBuf,
    /// From spawning the host to its port accepting connections.
    pub ready_after: Duration,
    guard: ChildGuard,
}

/// How long a host may take to start serving.
const READY_DEADLINE: Duration = Duration::from_secs(60);

impl Host {
    /// Serves `wasm` on 127.0.0.1 with an ephemeral port; the log goes to `dir`.
    pub fn serve(self, wasm: &Path, dir: &Path, options: &ServeOptions) -> Server {
        std::fs::create_dir_all(dir).expect("create the server's folder");
        let command = match self {
            Host::Wasmtime => wasmtime_command(wasm, options),
            Host::Spin => {
                let manifest = spin_manifest(wasm, dir, options);
                spin_command(manifest.as_os_str(), dir, options)
            }
        };
        launch(self, command, dir)
    }
}

/// A Spin app served by `spin up --from <from>` (its own manifest, with several components and
/// private routes, or a registry reference) on 127.0.0.1 with an ephemeral port, with further
/// `spin up` arguments; the log goes to `dir`.
pub fn spin_up(from: impl AsRef<std::ffi::OsStr>, args: &[&str], dir: &Path) -> Server {
    std::fs::create_dir_all(dir).expect("create the server's folder");
    let options = ServeOptions::default().host_args(args);
    let command = spin_command(from.as_ref(), dir, &options);
    launch(Host::Spin, command, dir)
}

/// Starts `command` in a process group of its own, its output in `dir/<host>.log`, and waits
/// until it serves.
fn launch(host: Host, mut command: Command, dir: &Path) -> Server {
    let started = Instant::now();
    let log_path = dir.join(format!("{host}.log"));
    let log = std::fs::File::create(&log_path).expect("create log");
    // As in production: with a backtrace setting, the host captures one for every error value
    // it makes, 10-15 % of a request (BENCHMARKS.md).
    let child = command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {host} (run scripts/setup.sh): {e}"));
    let mut guard = ChildGuard::group(host.name(), child);
    // Both bind an ephemeral port for port 0 and print it.
    let (marker, end) = match host {
        Host::Wasmtime => ("Serving HTTP on http://", '/'),
        Host::Spin => ("Serving http://", '\n'),
    };
    let addr = wait_for_line(&log_path, &mut guard, marker, |rest| {
        rest.split(end).next()?.trim().parse().ok()
    });
    wait_for_port(addr, READY_DEADLINE, &mut guard);
    Server {
        addr,
        log_path,
        ready_after: started.elapsed(),
        guard,
    }
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

/// A command, pinned to `cpu` when asked and the machine has `taskset`.
pub fn on_cpu(cpu: Option<usize>, program: impl AsRef<std::ffi::OsStr>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpu.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn wasmtime_command(wasm: &Path, options: &ServeOptions) -> Command {
    let mut command = on_cpu(options.cpu, wasmtime());
    command
        .args(["serve", "-S", "cli", "--addr", "127.0.0.1:0"])
        .args(&options.host_args);
    for (name, value) in &options.env {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    command.arg(wasm);
    command
}

/// `spin` from cargo's bin folder (where scripts/setup.sh puts it), from PATH, or the binary
/// kept beside the repository in `../shared/tools/spin/`.
pub fn spin() -> Result<PathBuf, String> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("spin"));
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("spin"))
        .collect::<Vec<_>>();
    let shared = repo_root().join("../shared/tools/spin/3.6.3/spin");
    cargo_bin
        .into_iter()
        .chain(on_path)
        .chain([shared])
        .find(|p| p.is_file())
        .ok_or_else(|| "spin is not installed: run scripts/setup.sh (or Spin's installer)".into())
}

/// A manifest for one component, written into `dir`: the component on the catch-all route, its
/// environment and its `allowed_outbound_hosts`.
fn spin_manifest(wasm: &Path, dir: &Path, options: &ServeOptions) -> PathBuf {
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // As the shipped spin.toml says: the client address is Spin's to report.
    let mut env: Vec<String> = vec!["CORSGATE_CLIENT_ADDRESS = \"spin\"".into()];
    env.extend(
        options
            .env
            .iter()
            .filter(|(k, _)| k != "CORSGATE_CLIENT_ADDRESS")
            .map(|(k, v)| format!("{k} = {v:?}")),
    );
    let manifest = format!(
        "spin_manifest_version = 2\n\n[application]\nname = \"corsgate-test\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"gateway\"\n\n[component.gateway]\nsource = {:?}\nallowed_outbound_hosts = [{}]\nenvironment = {{ {} }}\n",
        wasm.display().to_string(),
        quoted(&options.allowed_outbound_hosts),
        env.join(", ")
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).expect("write spin.toml");
    path
}

/// `spin up --from <from>`. `HOME` is a scratch folder in `dir`, so Spin's plugin and template
/// state stays out of the user's home.
fn spin_command(from: &std::ffi::OsStr, dir: &Path, options: &ServeOptions) -> Command {
    let mut command = on_cpu(options.cpu, spin().unwrap_or_else(|e| panic!("{e}")));
    command
        .arg("up")
        .arg("--from")
        .arg(from)
        .args(["--listen", "127.0.0.1:0"])
        .args(&options.host_args)
        .env("HOME", scratch_home(dir));
    command
}

/// A scratch `HOME` in `dir` for Spin; cargo and rustup keep finding their own folders.
pub fn scratch_home(dir: &Path) -> PathBuf {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("spin home");
    home
}

/// `spin <args>` as a user runs it, from the repository root, with a scratch `HOME` in `dir`
/// (cargo and rustup still find their own folders). Returns its output.
pub fn spin_run(args: &[&str], dir: &Path) -> std::process::Output {
    let user_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let keep = |name: &str, default: &str| {
        std::env::var_os(name).unwrap_or_else(|| user_home.join(default).into_os_string())
    };
    Command::new(spin().unwrap_or_else(|e| panic!("{e}")))
        .args(args)
        .current_dir(repo_root())
        .env("CARGO_HOME", keep("CARGO_HOME", ".cargo"))
        .env("RUSTUP_HOME", keep("RUSTUP_HOME", ".rustup"))
        .env("HOME", scratch_home(dir))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("run spin")
}

/// Waits for `marker` in the host's log and parses what follows it.
fn wait_for_line<T>(
    log_path: &Path,
    guard: &mut ChildGuard,
    marker: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> T {
    let deadline = Instant::now() + READY_DEADLINE;
    loop {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if let Some(found) = log.split(marker).nth(1).and_then(&parse) {
            return found;
        }
        assert!(guard.is_running(), "{} exited:\n{log}", guard.name);
        assert!(
            Instant::now() < deadline,
            "{} did not start within {READY_DEADLINE:?}:\n{log}",
            guard.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The host process started (and stopped by PID).
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// The process that serves the requests, whose memory and CPU are the host's: `spin up`
    /// hands serving to a `spin trigger http` child; `wasmtime serve` serves itself.
    pub fn serving_pid(&self) -> u32 {
        descendants(self.pid())
            .into_iter()
            .next()
            .unwrap_or_else(|| self.pid())
    }

    /// The host's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The first log line containing `marker`, waiting up to 5 s for it.
    pub fn log_line_with(&self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.log().lines().find(|l| l.contains(marker)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {marker}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
