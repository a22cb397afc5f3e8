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
use std::sync::OnceLock;
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
    /// Cargo features of the package (`spin-kv`: the Spin flavor's live channel).
    features: Vec<&'static str>,
    /// The checkout it is built from: this repository, or another revision's worktree.
    checkout: PathBuf,
}

impl Component {
    /// The gateway (WASIp2), with the policies of `policies` compiled in.
    pub fn gateway(policies: &Path) -> Component {
        Component::artifact(Artifact::P2, policies)
    }

    /// A gateway artifact, with the policies of `policies` compiled in (a prebuilt artifact
    /// has none: it reads them from the mount its host gives it, [`ServeOptions::policy_folder`]).
    pub fn artifact(artifact: Artifact, policies: &Path) -> Component {
        let component = Component::package(artifact.package());
        if artifact.is_prebuilt() {
            component
        } else {
            component.env("CORSGATE_POLICIES", &policies.display().to_string())
        }
    }

    /// Another component package of the workspace (the benchmark references).
    pub fn package(package: &'static str) -> Component {
        Component {
            package,
            env: Vec::new(),
            features: Vec::new(),
            checkout: repo_root(),
        }
    }

    /// Built from `checkout`, another checkout of this repository (an earlier revision's
    /// worktree, for a benchmark of before against after), into a target folder of its own.
    pub fn from_checkout(mut self, checkout: &Path) -> Component {
        self.checkout = checkout.to_path_buf();
        self
    }

    /// Where cargo puts what it builds from this component's checkout.
    fn target_dir(&self) -> PathBuf {
        self.checkout.join("target/corsgate-e2e/target")
    }

    /// Built with the package's cargo feature `feature`.
    pub fn feature(mut self, feature: &'static str) -> Component {
        self.features.push(feature);
        self
    }

    /// A build-time environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Component {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs the build and returns cargo's output, whatever it says. The settings' variables
    /// of the caller's environment are not passed on (a build compiles them in as defaults):
    /// only those set with [`Component::env`] reach the build.
    pub fn cargo_build(&self) -> std::process::Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        for name in corsgate_core::settings::Settings::variables() {
            command.env_remove(name);
        }
        command
            .current_dir(&self.checkout)
            .args([
                "build",
                "--locked",
                "--release",
                "--target",
                "wasm32-wasip2",
            ])
            .args(["--package", self.package])
            .args(
                self.features
                    .iter()
                    .flat_map(|feature| ["--features", feature]),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("CARGO_TARGET_DIR", self.target_dir())
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
        let built = self
            .target_dir()
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", self.package.replace('-', "_")));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("create the component's folder");
        }
        std::fs::copy(&built, dest).expect("copy the component");
        dest.to_path_buf()
    }
}

/// The `corsgate` CLI as a user runs it from the repository, ready for its arguments: built
/// once per test binary (`cargo build -p corsgate-cli`), then run directly, so a test that
/// runs it hundreds of times does not pay for cargo each time.
pub fn corsgate_cli() -> Command {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    let binary = BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "build",
                "--locked",
                "--package",
                "corsgate-cli",
                "--message-format=json-render-diagnostics",
            ])
            .current_dir(repo_root())
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build for the corsgate CLI");
        assert!(output.status.success(), "building the corsgate CLI failed");
        // Cargo names each artifact it built in a JSON line; the CLI's carries its path.
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|message| message["target"]["name"] == "corsgate")
            .and_then(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the corsgate executable it built")
    });
    let mut command = Command::new(binary);
    command.current_dir(repo_root()).env("NO_COLOR", "1");
    command
}

/// A host that serves HTTP components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `wasmtime serve -S cli` from wasmtime-cli 48.0.8.
    Wasmtime,
    /// `spin up` (3.6.3, what SpinKube's shim embeds) on a manifest generated per server.
    Spin,
    /// `spin up` from Spin 4.1 (`4.1.0-pre0`): WASIp3 components, reused across requests.
    Spin4,
}

impl Host {
    /// The hosts of the WASIp2 gateway.
    pub const ALL: [Host; 2] = [Host::Wasmtime, Host::Spin];

    pub fn name(self) -> &'static str {
        match self {
            Host::Wasmtime => "wasmtime",
            Host::Spin => "spin",
            Host::Spin4 => "spin4",
        }
    }

    /// Whether the host is a Spin (whose own HTTP front end answers some requests itself).
    pub fn is_spin(self) -> bool {
        matches!(self, Host::Spin | Host::Spin4)
    }

    /// What the gateway puts in `X-Forwarded-For` for a client on loopback: Spin reports the
    /// client's address (`spin-client-addr`), `wasmtime serve` does not.
    pub fn forwarded_client(self) -> &'static str {
        if self.is_spin() {
            "127.0.0.1"
        } else {
            "unknown"
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
            Host::Spin4 => spin4(),
        }
    }
}

/// Which gateway component: the WASIp2 one (`corsgate`, a fresh instance per request on every
/// host), the WASIp3 one (`corsgate-p3`, `wasi:http/handler@0.3.0`, reused across requests), or
/// the prebuilt WASIp3 one (`corsgate-p3-prebuilt`: no policy compiled in, the policy folder
/// read from its files mount once per instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Artifact {
    P2,
    P3,
    P3Prebuilt,
}

impl Artifact {
    /// Its package in the workspace.
    pub fn package(self) -> &'static str {
        match self {
            Artifact::P2 => "corsgate",
            Artifact::P3 => "corsgate-p3",
            Artifact::P3Prebuilt => "corsgate-p3-prebuilt",
        }
    }

    /// Whether it reads its policies from a files mount instead of compiling them in.
    pub fn is_prebuilt(self) -> bool {
        self == Artifact::P3Prebuilt
    }

    /// Whether it is a WASIp3 component (reused across requests; Spin 4.1 or wasmtime's
    /// WASIp3 support to run it).
    pub fn is_p3(self) -> bool {
        matches!(self, Artifact::P3 | Artifact::P3Prebuilt)
    }
}

/// A gateway artifact on a host that runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub artifact: Artifact,
    pub host: Host,
}

impl Target {
    /// Every artifact on every host that runs it: WASIp2 on wasmtime and Spin 3.6 (SpinKube's),
    /// WASIp3, compiled-in and prebuilt, on wasmtime and Spin 4.1.
    pub const ALL: [Target; 6] = [
        Target::p2(Host::Wasmtime),
        Target::p2(Host::Spin),
        Target::p3(Host::Wasmtime),
        Target::p3(Host::Spin4),
        Target::prebuilt(Host::Wasmtime),
        Target::prebuilt(Host::Spin4),
    ];

    pub const fn p2(host: Host) -> Target {
        Target {
            artifact: Artifact::P2,
            host,
        }
    }

    pub const fn p3(host: Host) -> Target {
        Target {
            artifact: Artifact::P3,
            host,
        }
    }

    pub const fn prebuilt(host: Host) -> Target {
        Target {
            artifact: Artifact::P3Prebuilt,
            host,
        }
    }

    /// Whether the host tells the component the authority the client asked for (its `Host`):
    /// `wasmtime serve` 48 gives a WASIp3 component neither an authority nor a `Host` header,
    /// so there the gateway cannot set `X-Forwarded-Host` nor tell a request without `Host`.
    pub fn reports_authority(self) -> bool {
        !(self.artifact.is_p3() && self.host == Host::Wasmtime)
    }

    /// Serves the artifact `wasm` (see [`Host::serve`]), with what the host needs for it:
    /// `wasmtime serve` runs WASIp3 components only with WASIp3 and async support turned on.
    pub fn serve(self, wasm: &Path, dir: &Path, options: &ServeOptions) -> Server {
        match (self.artifact, self.host) {
            (Artifact::P3 | Artifact::P3Prebuilt, Host::Wasmtime) => {
                let options =
                    options
                        .clone()
                        .host_args(&["-S", "p3", "-W", "component-model-async"]);
                self.host.serve(wasm, dir, &options)
            }
            _ => self.host.serve(wasm, dir, options),
        }
    }
}

impl From<Host> for Target {
    /// The WASIp2 gateway on `host`.
    fn from(host: Host) -> Target {
        Target::p2(host)
    }
}

impl std::fmt::Display for Target {
    /// The WASIp2 gateway's targets are named by their host alone (`wasmtime`, `spin`), the
    /// WASIp3 gateway's `p3-<host>`, the prebuilt one's `prebuilt-<host>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.artifact {
            Artifact::P2 => write!(f, "{}", self.host),
            Artifact::P3 => write!(f, "p3-{}", self.host),
            Artifact::P3Prebuilt => write!(f, "prebuilt-{}", self.host),
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
    /// A program and its arguments that run the host (`valgrind --tool=callgrind`, for the
    /// benchmarks' instruction counts); `wasmtime serve` only.
    pub wrapper: Vec<String>,
    /// `scheme://host:port` the component may call (Spin enforces them; wasmtime does not).
    pub allowed_outbound_hosts: Vec<String>,
    /// A WASIp3 middleware in front of the component (which is then the app): composed with it
    /// by `wac plug` for `wasmtime serve`, chained by Spin 4.1 (`dependencies.middleware`).
    pub middleware: Option<PathBuf>,
    /// A policy folder mounted where the prebuilt artifacts read it (`/corsgate/policies`):
    /// `wasmtime serve --dir`; Spin's `files` on the component, which a middleware in front of
    /// it inherits (`inherit_configuration = ["files", "environment"]`).
    pub policy_folder: Option<PathBuf>,
    /// A Redis URL behind the component's key-value store `corsgate` (Spin only: the manifest's
    /// `key_value_stores`, a runtime config file of type `redis`), where the Spin flavor reads
    /// its live origin lists.
    pub live_redis: Option<String>,
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

    pub fn under(mut self, wrapper: &[&str]) -> ServeOptions {
        self.wrapper = wrapper.iter().map(|a| a.to_string()).collect();
        self
    }

    pub fn allow_outbound(mut self, hosts: impl IntoIterator<Item = String>) -> ServeOptions {
        self.allowed_outbound_hosts.extend(hosts);
        self
    }

    pub fn middleware(mut self, middleware: &Path) -> ServeOptions {
        self.middleware = Some(middleware.to_path_buf());
        self
    }

    pub fn policy_folder(mut self, folder: &Path) -> ServeOptions {
        self.policy_folder = Some(folder.to_path_buf());
        self
    }

    pub fn live_redis(mut self, url: &str) -> ServeOptions {
        self.live_redis = Some(url.to_string());
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

/// Where the prebuilt artifacts read their policy folder (`corsgate_wasi_p3::policy_folder`,
/// CONTRACT.md).
pub const POLICY_MOUNT: &str = "/corsgate/policies";

/// How long a host may take to start serving.
const READY_DEADLINE: Duration = Duration::from_secs(60);

impl Host {
    /// Serves `wasm` on 127.0.0.1 with an ephemeral port; the log goes to `dir`.
    pub fn serve(self, wasm: &Path, dir: &Path, options: &ServeOptions) -> Server {
        std::fs::create_dir_all(dir).expect("create the server's folder");
        let command = match self {
            Host::Wasmtime => match &options.middleware {
                Some(middleware) => {
                    let composed = wac_plug(middleware, wasm, &dir.join("composed.wasm"));
                    wasmtime_command(&composed, options)
                }
                None => wasmtime_command(wasm, options),
            },
            Host::Spin if options.middleware.is_some() => {
                panic!("HTTP middleware needs Spin 4.1 or later (Host::Spin4)")
            }
            Host::Spin | Host::Spin4 => {
                let manifest = spin_manifest(wasm, dir, options);
                let mut command = spin_command(self, manifest.as_os_str(), dir, options);
                if let Some(url) = &options.live_redis {
                    let config = dir.join("runtime-config.toml");
                    std::fs::write(
                        &config,
                        format!("[key_value_store.corsgate]\ntype = \"redis\"\nurl = {url:?}\n"),
                    )
                    .expect("write the runtime config");
                    command
                        .arg("--runtime-config-file")
                        .arg(config)
                        .arg("--state-dir")
                        .arg(dir.join("state"));
                }
                command
            }
        };
        launch(self, command, dir)
    }
}

/// A Spin app served by `spin up --from <from>` (its own manifest, with several components and
/// private routes, or a registry reference) with `spin` (a Spin host) on 127.0.0.1 with an
/// ephemeral port, with further `spin up` arguments; the log goes to `dir`.
pub fn spin_up(spin: Host, from: impl AsRef<std::ffi::OsStr>, args: &[&str], dir: &Path) -> Server {
    assert!(spin.is_spin(), "spin_up runs Spin, not {spin}");
    std::fs::create_dir_all(dir).expect("create the server's folder");
    let options = ServeOptions::default().host_args(args);
    let command = spin_command(spin, from.as_ref(), dir, &options);
    launch(spin, command, dir)
}

/// Starts `command` in a process group of its own, its output in `dir/<host>.log`, and waits
/// until it serves.
fn launch(host: Host, command: Command, dir: &Path) -> Server {
    let started = Instant::now();
    let log_path = dir.join(format!("{host}.log"));
    let mut guard = start_logged(host, command, &log_path);
    // Both bind an ephemeral port for port 0 and print it.
    let (marker, end) = match host {
        Host::Wasmtime => ("Serving HTTP on http://", '/'),
        Host::Spin | Host::Spin4 => ("Serving http://", '\n'),
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

/// Starts `host`'s `command` in a process group of its own (stopped by PID when the guard
/// drops), its output in `log_path`.
fn start_logged(host: Host, mut command: Command, log_path: &Path) -> ChildGuard {
    let log = std::fs::File::create(log_path).expect("create log");
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
    ChildGuard::group(host.name(), child)
}

/// `wasmtime` from cargo's bin folder, where `cargo install` puts it, or PATH.
pub fn wasmtime() -> PathBuf {
    cargo_installed("wasmtime")
}

/// `wac` (the WebAssembly composition tool, `cargo install wac-cli`), from cargo's bin folder
/// or PATH.
fn wac() -> PathBuf {
    cargo_installed("wac")
}

/// Composes `socket` (a component importing `wasi:http/handler`, the middleware) with `plug`
/// (one exporting it, the app) into `out` with `wac plug`; panics with wac's output on failure.
pub fn wac_plug(socket: &Path, plug: &Path, out: &Path) -> PathBuf {
    let output = Command::new(wac())
        .arg("plug")
        .arg(socket)
        .arg("--plug")
        .arg(plug)
        .arg("-o")
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .expect("run wac (cargo install wac-cli; scripts/setup.sh --tests)");
    assert!(
        output.status.success(),
        "wac plug failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.to_path_buf()
}

/// A program `cargo install` put in cargo's bin folder, else the one on PATH.
fn cargo_installed(program: &str) -> PathBuf {
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join(program));
    match in_cargo_home {
        Some(path) if path.exists() => path,
        _ => PathBuf::from(program),
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
    let mut command = match options.wrapper.split_first() {
        Some((program, args)) => {
            let mut command = on_cpu(options.cpu, program);
            command.args(args).arg(wasmtime());
            command
        }
        None => on_cpu(options.cpu, wasmtime()),
    };
    command
        .args(["serve", "-S", "cli", "--addr", "127.0.0.1:0"])
        .args(&options.host_args);
    for (name, value) in &options.env {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    if let Some(folder) = &options.policy_folder {
        command
            .arg("--dir")
            .arg(format!("{}::{POLICY_MOUNT}", folder.display()));
    }
    command.arg(wasm);
    command
}

/// Every `spin` a user could mean, in order: cargo's bin folder (where scripts/setup.sh puts
/// it), PATH, then `version`'s binary kept beside the repository in `../shared/tools/spin/`.
fn spin_candidates(version: &str) -> Vec<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("spin"));
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("spin"))
        .collect::<Vec<_>>();
    let shared = repo_root().join(format!("../shared/tools/spin/{version}/spin"));
    cargo_bin
        .into_iter()
        .chain(on_path)
        .chain([shared])
        .filter(|p| p.is_file())
        .collect()
}

/// `spin` for the WASIp2 gateway (3.6.3 beside the repository when none is installed).
pub fn spin() -> Result<PathBuf, String> {
    spin_candidates("3.6.3")
        .into_iter()
        .next()
        .ok_or_else(|| "spin is not installed: run scripts/setup.sh (or Spin's installer)".into())
}

/// A `spin` of version 4.1 or later, for the WASIp3 gateway: the first such among
/// [`spin_candidates`] (the one installed, when it is recent enough), else none.
pub fn spin4() -> Result<PathBuf, String> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            spin_candidates("4.1.0-pre0").into_iter().find(|spin| {
                let Ok(out) = Command::new(spin).arg("--version").output() else {
                    return false;
                };
                // `spin 4.1.0-pre0 (94a8fc8a 2026-08-21)`
                let version = String::from_utf8_lossy(&out.stdout);
                let mut numbers = version
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .split(['.', '-'])
                    .map(|n| n.parse::<u32>().unwrap_or(0));
                let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
                (major, minor) >= (4, 1)
            })
        })
        .clone()
        .ok_or_else(|| "Spin 4.1 or later is not installed: run scripts/setup.sh".into())
}

/// A manifest for one component, written into `dir`: the component on the catch-all route, its
/// environment, its `allowed_outbound_hosts` and its policy folder's mount, if any; with the
/// middleware, if any, in front of it. A dependency may have no configuration of its own: with a
/// policy folder, the middleware inherits the component's files and environment (as a user of
/// the prebuilt middleware writes it), else it runs on its built-in settings.
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
    let mut manifest = String::from(
        "spin_manifest_version = 2\n\n[application]\nname = \"corsgate-test\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"gateway\"\n",
    );
    let mut inherited = Vec::new();
    if options.policy_folder.is_some() {
        inherited.extend(["files".to_string(), "environment".to_string()]);
    }
    if options.live_redis.is_some() {
        inherited.push("key_value_stores".to_string());
    }
    match (&options.middleware, inherited.is_empty()) {
        (Some(_), false) => manifest.push_str(&format!(
            "dependencies.middleware = [{{ component = \"middleware\", inherit_configuration = [{}] }}]\n",
            quoted(&inherited)
        )),
        (Some(_), true) => {
            manifest.push_str("dependencies.middleware = [{ component = \"middleware\" }]\n")
        }
        (None, _) => {}
    }
    manifest.push_str(&format!(
        "\n[component.gateway]\nsource = {:?}\nallowed_outbound_hosts = [{}]\nenvironment = {{ {} }}\n",
        wasm.display().to_string(),
        quoted(&options.allowed_outbound_hosts),
        env.join(", ")
    ));
    if options.live_redis.is_some() {
        manifest.push_str("key_value_stores = [\"corsgate\"]\n");
    }
    if let Some(folder) = &options.policy_folder {
        manifest.push_str(&format!(
            "files = [{{ source = {:?}, destination = {POLICY_MOUNT:?} }}]\n",
            within_app(folder, dir).display().to_string()
        ));
    }
    if let Some(middleware) = &options.middleware {
        manifest.push_str(&format!(
            "\n[component.middleware]\nsource = {:?}\n",
            middleware.display().to_string()
        ));
    }
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).expect("write spin.toml");
    path
}

/// `folder` as a Spin manifest in `dir` may mount it: Spin maps files from within the app's
/// folder only, so a folder elsewhere is copied into `dir/policies` first.
fn within_app(folder: &Path, dir: &Path) -> PathBuf {
    if folder.starts_with(dir) {
        return folder.to_path_buf();
    }
    let copy = dir.join("policies");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).expect("create the mounted policy folder");
    for entry in std::fs::read_dir(folder).expect("read the policy folder") {
        let path = entry.expect("policy folder entry").path();
        if path.is_file() {
            std::fs::copy(&path, copy.join(path.file_name().expect("file name")))
                .expect("copy a policy file");
        }
    }
    copy
}

/// `spin up --from <from>`. `HOME` is a scratch folder in `dir`, so Spin's plugin and template
/// state stays out of the user's home, and so is `TMPDIR`: a `spin up` stopped by a kill leaves
/// its copy of the app (`spinup-*`) behind, in `dir` rather than in the machine's `/tmp`.
fn spin_command(host: Host, from: &std::ffi::OsStr, dir: &Path, options: &ServeOptions) -> Command {
    assert!(
        options.wrapper.is_empty(),
        "a wrapper runs `wasmtime serve` only"
    );
    let mut command = on_cpu(
        options.cpu,
        host.program().unwrap_or_else(|e| panic!("{e}")),
    );
    command
        .arg("up")
        .arg("--from")
        .arg(from)
        .args(["--listen", "127.0.0.1:0"])
        .args(&options.host_args)
        .env("HOME", scratch_home(dir))
        .env("TMPDIR", scratch_folder(dir, "tmp"));
    command
}

/// A scratch `HOME` in `dir` for Spin; cargo and rustup keep finding their own folders.
pub fn scratch_home(dir: &Path) -> PathBuf {
    scratch_folder(dir, "home")
}

fn scratch_folder(dir: &Path, name: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    folder
}

/// `spin <args>` as a user runs it (`spin`: which Spin host), from the repository root, with a
/// scratch `HOME` in `dir` (cargo and rustup still find their own folders). Returns its output.
pub fn spin_run(spin: Host, args: &[&str], dir: &Path) -> std::process::Output {
    let user_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let keep = |name: &str, default: &str| {
        std::env::var_os(name).unwrap_or_else(|| user_home.join(default).into_os_string())
    };
    let program = spin.program().unwrap_or_else(|e| panic!("{e}"));
    Command::new(&program)
        .args(args)
        .current_dir(repo_root())
        .env("CARGO_HOME", keep("CARGO_HOME", ".cargo"))
        .env("RUSTUP_HOME", keep("RUSTUP_HOME", ".rustup"))
        .env("HOME", scratch_home(dir))
        .env("PATH", path_with_spin(&program))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("run spin")
}

/// `PATH` with `spin`'s folder first: the `spin` a build command runs (`spin corsgate check`)
/// is the one the user ran, as in a user's shell.
fn path_with_spin(spin: &Path) -> std::ffi::OsString {
    let folder = spin.parent().map(Path::to_path_buf).unwrap_or_default();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(folder).chain(std::env::split_paths(&rest)))
        .expect("a PATH")
}

/// `spin up --from <from>` that must fail to start (a component refused at load: a wrong
/// digest, say): returns Spin's output once it exits, and panics if it serves instead or is
/// still loading after the start deadline.
pub fn spin_refuses(spin: Host, from: &Path, dir: &Path) -> String {
    std::fs::create_dir_all(dir).expect("create the folder");
    let log_path = dir.join(format!("{spin}-refused.log"));
    let command = spin_command(spin, from.as_os_str(), dir, &ServeOptions::default());
    let mut guard = start_logged(spin, command, &log_path);
    let deadline = Instant::now() + READY_DEADLINE;
    loop {
        let output = std::fs::read_to_string(&log_path).unwrap_or_default();
        assert!(
            !output.contains("Serving http://"),
            "{spin} served {} instead of refusing it:\n{output}",
            from.display()
        );
        if !guard.is_running() {
            return std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "{spin} neither served nor refused within {READY_DEADLINE:?}:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
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
