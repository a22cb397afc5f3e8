//! A static file server on 127.0.0.1: a release folder served over HTTP, as a user's download
//! site would serve it, for Spin to fetch components (`source = { url, digest }`), plugin
//! tarballs and template archives from.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::thread;

use crate::http::read_head;

#[derive(Debug, Clone)]
pub struct FileServer {
    pub addr: SocketAddr,
}

impl FileServer {
    /// Serves the files under `root` (read on each request, so files written after the start
    /// are served too); `404` for anything else, a path that climbs out of `root` included.
    pub fn start(root: &Path) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind file server");
        let addr = listener.local_addr().expect("addr");
        let root = root.to_path_buf();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let root = root.clone();
                thread::spawn(move || {
                    let Ok(read_half) = stream.try_clone() else {
                        return;
                    };
                    let Ok(Some(head)) = read_head(&mut BufReader::new(read_half)) else {
                        return;
                    };
                    let target = head.start_line.split(' ').nth(1).unwrap_or("/");
                    let (status, body) = match file_under(&root, target).map(std::fs::read) {
                        Some(Ok(bytes)) => ("200 OK", bytes),
                        _ => ("404 Not Found", b"no such file".to_vec()),
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                });
            }
        });
        FileServer { addr }
    }

    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The file a request target names under `root`: plain path segments only.
fn file_under(root: &Path, target: &str) -> Option<PathBuf> {
    let path = Path::new(target.split('?').next()?.strip_prefix('/')?);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(path))
}
