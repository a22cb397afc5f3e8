//! Child processes for tests: started, waited for with a deadline, and stopped by PID when the
//! guard is dropped, which also happens when a test panics.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

/// Kills and reaps the child when dropped, with its whole process group when it leads one.
#[derive(Debug)]
pub struct ChildGuard {
    pub child: Child,
    pub name: String,
    /// The child was started as the leader of its own process group.
    group: bool,
}

impl ChildGuard {
    pub fn new(name: &str, child: Child) -> ChildGuard {
        ChildGuard {
            child,
            name: name.into(),
            group: false,
        }
    }

    /// For a child spawned with `process_group(0)`: dropping the guard kills every process of
    /// the group. `spin up`, for one, serves from a `spin trigger http` child of its own, which
    /// killing `spin up` alone would leave running.
    pub fn group(name: &str, child: Child) -> ChildGuard {
        ChildGuard {
            child,
            name: name.into(),
            group: true,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.group {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(std::process::Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes started by `pid` and by its children, in no particular order (from `/proc`).
pub fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((child, ppid))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// A port that was free a moment ago (for hosts that cannot report the port they bound).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

/// Waits until `addr` accepts connections, or panics after `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration, guard: &mut ChildGuard) {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        assert!(
            guard.is_running(),
            "{} exited before listening on {addr}",
            guard.name
        );
        assert!(
            Instant::now() < deadline,
            "{} did not listen on {addr} within {timeout:?}",
            guard.name
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Resident set size of a process in KiB, from `/proc` (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Peak resident set size of a process in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
