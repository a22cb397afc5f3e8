//! An OCI registry on 127.0.0.1 (Debian's `docker-registry`, the CNCF distribution registry),
//! for publishing the gateway the way SpinKube takes it. Plain HTTP on loopback; stopped by PID
//! when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, wait_for_port, ChildGuard};

#[derive(Debug)]
pub struct Registry {
    pub addr: SocketAddr,
    _guard: ChildGuard,
}

impl Registry {
    /// Starts a registry storing its blobs in `dir`.
    pub fn start(dir: &Path) -> Registry {
        let _ = std::fs::remove_dir_all(dir.join("data"));
        std::fs::create_dir_all(dir).expect("registry dir");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("address");
        let config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\nlog:\n  level: error\n",
            dir.join("data").display()
        );
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).expect("write the registry config");
        let log = std::fs::File::create(dir.join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry (scripts/setup.sh --tests installs it)");
        let mut guard = ChildGuard::new("docker-registry", child);
        wait_for_port(addr, Duration::from_secs(30), &mut guard);
        Registry {
            addr,
            _guard: guard,
        }
    }
}
