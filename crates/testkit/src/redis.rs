//! A Redis server on 127.0.0.1 (Debian's `redis-server`): the store behind Spin's key-value API
//! in the live origin list tests. In memory only (no snapshot, no append-only file), on an
//! ephemeral port; stopped by PID when dropped, and stoppable and restartable on the same port
//! to play an outage.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, wait_for_port, ChildGuard};

const REDIS_CLI: &str = "run redis-cli (scripts/setup.sh --tests installs redis-tools)";

#[derive(Debug)]
pub struct Redis {
    pub addr: SocketAddr,
    log: PathBuf,
    guard: Option<ChildGuard>,
}

impl Redis {
    /// Starts a server whose log goes to `dir/redis.log`.
    pub fn start(dir: &Path) -> Redis {
        std::fs::create_dir_all(dir).expect("redis dir");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("address");
        let mut redis = Redis {
            addr,
            log: dir.join("redis.log"),
            guard: None,
        };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:<port>`, as Spin's runtime config and `corsgate live --redis` take it.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// `redis-cli` against this server with `args`: what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = self.redis_cli(args).output().expect(REDIS_CLI);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The value under `key`, byte for byte (empty when there is none).
    pub fn get(&self, key: &str) -> Vec<u8> {
        let output = self
            .redis_cli(&["--raw", "GET", key])
            .output()
            .expect(REDIS_CLI);
        let mut value = output.stdout;
        // `--raw` ends a value with a newline of its own.
        if value.last() == Some(&b'\n') {
            value.pop();
        }
        value
    }

    /// Sets `key` to `value`, byte for byte (`redis-cli -x` reads it from standard input).
    pub fn set(&self, key: &str, value: &[u8]) {
        let mut child = self
            .redis_cli(&["-x", "SET", key])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect(REDIS_CLI);
        child
            .stdin
            .take()
            .expect("redis-cli's standard input")
            .write_all(value)
            .expect("write the value to redis-cli");
        assert!(
            child.wait().expect(REDIS_CLI).success(),
            "redis-cli SET {key}"
        );
    }

    fn redis_cli(&self, args: &[&str]) -> Command {
        let mut command = Command::new("redis-cli");
        command
            .args(["-h", "127.0.0.1", "-p", &self.addr.port().to_string()])
            .args(args);
        command
    }

    /// How many times the server ran `command` (lowercase, as `INFO commandstats` names it)
    /// since it started or its statistics were reset (`CONFIG RESETSTAT`).
    pub fn calls(&self, command: &str) -> u64 {
        let prefix = format!("cmdstat_{command}:calls=");
        self.cli(&["INFO", "commandstats"])
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|rest| rest.split(',').next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server (an outage); its data is gone with it.
    pub fn stop(&mut self) {
        self.guard = None;
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.guard = None;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("redis log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.addr.port().to_string())
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start redis-server (scripts/setup.sh --tests installs it)");
        let mut guard = ChildGuard::new("redis-server", child);
        wait_for_port(self.addr, Duration::from_secs(30), &mut guard);
        self.guard = Some(guard);
    }
}
