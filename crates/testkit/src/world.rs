//! A test world: the recording echo upstream, the gateway built with test policies that point
//! at it, and a host serving the gateway. Shared by the host, browser and end-to-end tests.

use std::net::TcpListener;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::harness::{repo_root, work_dir, Component, Host, ServeOptions, Server, Target};
use crate::upstream::TestUpstream;

/// A loopback port where nothing listens (bound, then released): connections are refused.
pub fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Writes `files` (name, text) into a fresh folder `dest`, `{KEY}` placeholders replaced.
pub fn write_policies(dest: &Path, files: &[(String, String)], substitutions: &[(&str, String)]) {
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest).expect("create policy dir");
    for (name, text) in files {
        let mut text = text.clone();
        for (key, value) in substitutions {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        std::fs::write(dest.join(name), text).expect("write policy");
    }
}

/// Writes into a fresh folder `dest` the benchmarks' folder of `routes` routes: that many files
/// of bench/policies/numbered.toml, `r000.toml` at `/r000/...` and on, their upstream
/// `upstream` (`host:port`).
pub fn write_numbered_policies(dest: &Path, routes: usize, upstream: &str) {
    let template = std::fs::read_to_string(repo_root().join("bench/policies/numbered.toml"))
        .expect("bench/policies/numbered.toml");
    let files: Vec<(String, String)> = (0..routes)
        .map(|i| {
            let n = format!("{i:03}");
            (format!("r{n}.toml"), template.replace("{N}", &n))
        })
        .collect();
    write_policies(dest, &files, &[("UPSTREAM", upstream.to_string())]);
}

/// The files of a policy folder of the repository, as (name, text).
pub fn policy_files(folder: &str) -> Vec<(String, String)> {
    let dir = repo_root().join(folder);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&path).expect("read policy"))
        })
        .collect();
    files.sort();
    files
}

/// The gateway on a host, with the echo upstream behind it.
#[derive(Debug)]
pub struct Gateway {
    pub server: Server,
    pub echo: Arc<TestUpstream>,
    /// The artifact served and its host.
    pub target: Target,
    /// The host (`target.host`).
    pub host: Host,
    /// This gateway's own copy of the component (later builds do not change it).
    pub wasm: PathBuf,
    /// The policy folder it was built with (or, prebuilt, mounted), placeholders filled in.
    pub policies: PathBuf,
    /// How it is served: the upstreams it may call.
    options: ServeOptions,
}

impl Deref for Gateway {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Gateway {
    /// The gateway with `tests/policies`, whose placeholders name the echo upstream (`{ECHO}`,
    /// and `{ECHO_PORT}` for a name Spin's manifest leaves out), a refusing port (`{DEAD}`) and
    /// the browser tests' page origins (`{PAGE_ORIGIN}`, `{PAGE_ORIGIN_2}`).
    pub fn start(target: impl Into<Target>, name: &str, page_origins: [&str; 2]) -> Gateway {
        let echo = TestUpstream::start();
        let dead = format!("127.0.0.1:{}", dead_port());
        let substitutions = [
            ("ECHO", echo.addr.to_string()),
            ("ECHO_PORT", echo.addr.port().to_string()),
            ("DEAD", dead.clone()),
            ("PAGE_ORIGIN", page_origins[0].to_string()),
            ("PAGE_ORIGIN_2", page_origins[1].to_string()),
        ];
        let files = policy_files("tests/policies");
        let allowed = [format!("http://{}", echo.addr), format!("http://{dead}")];
        Gateway::build_and_serve(target.into(), echo, name, &files, &substitutions, allowed)
    }

    /// The gateway with `files` (name, text; `{ECHO}` names the echo upstream).
    pub fn start_with_policies(
        target: impl Into<Target>,
        name: &str,
        files: &[(String, String)],
    ) -> Gateway {
        let echo = TestUpstream::start();
        let substitutions = [("ECHO", echo.addr.to_string())];
        let allowed = [format!("http://{}", echo.addr)];
        Gateway::build_and_serve(target.into(), echo, name, files, &substitutions, allowed)
    }

    fn build_and_serve(
        target: Target,
        echo: TestUpstream,
        name: &str,
        files: &[(String, String)],
        substitutions: &[(&str, String)],
        allowed_outbound_hosts: impl IntoIterator<Item = String>,
    ) -> Gateway {
        let dir = work_dir(&format!("{name}-{target}"));
        let policies = dir.join("policies");
        write_policies(&policies, files, substitutions);
        let wasm =
            Component::artifact(target.artifact, &policies).build(&dir.join("corsgate.wasm"));
        let mut options = ServeOptions::default().allow_outbound(allowed_outbound_hosts);
        if target.artifact.is_prebuilt() {
            options = options.policy_folder(&policies);
        }
        let server = target.serve(&wasm, &dir, &options);
        Gateway {
            server,
            echo: Arc::new(echo),
            target,
            host: target.host,
            wasm,
            policies,
            options,
        }
    }

    /// The same component served again with the environment of `env`, with the same upstreams;
    /// its log is its own.
    pub fn serve_again(&self, name: &str, env: &[(&str, &str)]) -> Gateway {
        let options = env
            .iter()
            .fold(self.options.clone(), |options, (k, v)| options.env(k, v));
        Gateway {
            server: self.target.serve(
                &self.wasm,
                &work_dir(&format!("{name}-{}", self.target)),
                &options,
            ),
            echo: Arc::clone(&self.echo),
            target: self.target,
            host: self.host,
            wasm: self.wasm.clone(),
            policies: self.policies.clone(),
            options,
        }
    }
}
