//! A real HTTP/1.1 upstream on 127.0.0.1 that records every request and answers as the request's
//! query asks. The gateway forwards the query byte for byte, so a test steers the upstream
//! through the gateway:
//!
//! - `status=N`: answer with status N (default 200);
//! - `header=Name%3AValue` (repeatable): add a response header line;
//! - `bytes=N`: a pattern body of N bytes ([`crate::http::pattern_byte`]) instead of the echo;
//!   with `chunked=1` sent chunked;
//! - `delay_head_ms=N`: wait before the response head; `delay_body_ms=N`: send the head, then
//!   the body in four pieces N ms apart;
//! - `fault=close` (close without answering), `fault=never` (hold the connection open),
//!   `fault=malformed` (a garbage status line), `fault=reset_mid_body` (promise 1 MiB, send
//!   1 KiB, close);
//! - `cacheable=1`: `Cache-Control: public, max-age=600`.
//!
//! Otherwise the body is a JSON echo of what arrived (method, target, headers, body size and
//! SHA-256, and a per-server sequence number).

use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::http::{fill_pattern, read_body, read_head, BodyFraming, Head};

/// One request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub head: Head,
    pub body_len: u64,
    pub body_sha256: String,
    /// Which connection it came on (numbered from 0 in accept order): requests on the same
    /// number came over a reused connection.
    pub connection: u64,
}

#[derive(Debug, Default)]
struct Shared {
    recorded: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
    sequence: AtomicU64,
    connections: AtomicU64,
}

#[derive(Debug)]
pub struct TestUpstream {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TestUpstream {
    /// Starts on an ephemeral loopback port.
    pub fn start() -> TestUpstream {
        TestUpstream::start_on("127.0.0.1:0")
    }

    pub fn start_on(addr: &str) -> TestUpstream {
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn_shared = Arc::clone(&accept_shared);
                let connection = accept_shared.connections.fetch_add(1, Ordering::Relaxed);
                thread::spawn(move || serve_connection(stream, connection, &conn_shared));
            }
        });
        TestUpstream { addr, shared }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().expect("lock").clone()
    }

    /// The request whose target contains `marker`, waiting up to 10 s for it to arrive.
    pub fn find(&self, marker: &str) -> Option<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(r) = self
                .recorded()
                .into_iter()
                .find(|r| r.target.contains(marker))
            {
                return Some(r);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// How many received targets contain `marker` (no waiting).
    pub fn count(&self, marker: &str) -> usize {
        self.recorded()
            .iter()
            .filter(|r| r.target.contains(marker))
            .count()
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve_connection(stream: TcpStream, connection: u64, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = BufWriter::new(write_half);
    loop {
        let Ok(Some(head)) = read_head(&mut reader) else {
            return;
        };
        let mut parts = head.start_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let framing = if head.is_chunked() {
            BodyFraming::Chunked
        } else {
            head.content_length()
                .map_or(BodyFraming::None, BodyFraming::Length)
        };
        let mut hasher = Sha256::new();
        let Ok(body_len) = read_body(&mut reader, framing, |chunk| hasher.update(chunk)) else {
            return;
        };
        let recorded = Recorded {
            method,
            target,
            head,
            body_len,
            body_sha256: hex(&hasher.finalize()),
            connection,
        };
        let sequence = shared.sequence.fetch_add(1, Ordering::Relaxed);
        shared.recorded.lock().expect("lock").push(recorded.clone());
        if respond(&mut writer, &recorded, sequence, shared).is_err() {
            return;
        }
    }
}

fn respond(
    w: &mut BufWriter<TcpStream>,
    req: &Recorded,
    sequence: u64,
    shared: &Shared,
) -> std::io::Result<()> {
    let query = Query::parse(&req.target);
    if let Some(ms) = query.number("delay_head_ms") {
        thread::sleep(Duration::from_millis(ms));
    }
    match query.first("fault") {
        Some("close") => return Err(std::io::ErrorKind::ConnectionAborted.into()),
        Some("never") => {
            while !shared.stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(50));
            }
            return Err(std::io::ErrorKind::ConnectionAborted.into());
        }
        Some("malformed") => {
            w.write_all(b"HTTP/1.1 banana\r\n\x00\x01garbage\r\n\r\n")?;
            w.flush()?;
            return Err(std::io::ErrorKind::ConnectionAborted.into());
        }
        Some("reset_mid_body") => {
            w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1048576\r\n\r\n")?;
            w.write_all(&[b'x'; 1024])?;
            w.flush()?;
            return Err(std::io::ErrorKind::ConnectionAborted.into());
        }
        _ => {}
    }

    let status = query.number("status").unwrap_or(200);
    write!(w, "HTTP/1.1 {status} {}\r\n", reason(status))?;
    for line in query.all("header") {
        write!(w, "{line}\r\n")?;
    }
    if query.first("cacheable") == Some("1") {
        w.write_all(b"cache-control: public, max-age=600\r\n")?;
    }
    let no_body = req.method == "HEAD" || status == 204 || status == 304;
    if let Some(len) = query.number("bytes") {
        let chunked = query.first("chunked") == Some("1");
        if chunked {
            w.write_all(b"transfer-encoding: chunked\r\n\r\n")?;
        } else {
            write!(w, "content-length: {len}\r\n\r\n")?;
        }
        if !no_body {
            write_pattern(w, len, chunked, query.number("delay_body_ms"))?;
        }
    } else {
        let body = echo_json(req, sequence);
        write!(
            w,
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            if no_body { 0 } else { body.len() }
        )?;
        if !no_body {
            if let Some(ms) = query.number("delay_body_ms") {
                w.flush()?;
                for piece in body.as_bytes().chunks(body.len().div_ceil(4).max(1)) {
                    thread::sleep(Duration::from_millis(ms));
                    w.write_all(piece)?;
                    w.flush()?;
                }
            } else {
                w.write_all(body.as_bytes())?;
            }
        }
    }
    w.flush()
}

fn write_pattern(
    w: &mut BufWriter<TcpStream>,
    len: u64,
    chunked: bool,
    delay_ms: Option<u64>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    let piece = delay_ms.map_or(buf.len() as u64, |_| len.div_ceil(4).max(1));
    while offset < len {
        let n = (len - offset).min(piece).min(buf.len() as u64) as usize;
        if let Some(ms) = delay_ms {
            w.flush()?;
            thread::sleep(Duration::from_millis(ms));
        }
        fill_pattern(offset, &mut buf[..n]);
        if chunked {
            write!(w, "{n:x}\r\n")?;
        }
        w.write_all(&buf[..n])?;
        if chunked {
            w.write_all(b"\r\n")?;
        }
        offset += n as u64;
    }
    if chunked {
        w.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

fn reason(status: u64) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn echo_json(req: &Recorded, sequence: u64) -> String {
    let headers: Vec<String> = req
        .head
        .headers
        .iter()
        .map(|(n, v)| {
            format!(
                "[{},{}]",
                json_string(n),
                json_string(&String::from_utf8_lossy(v))
            )
        })
        .collect();
    format!(
        "{{\"method\":{},\"target\":{},\"headers\":[{}],\"body_bytes\":{},\"body_sha256\":\"{}\",\"seq\":{sequence}}}",
        json_string(&req.method),
        json_string(&req.target),
        headers.join(","),
        req.body_len,
        req.body_sha256
    )
}

pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The query parameters of a target, `%XX`-decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(target: &str) -> Query {
        let query = target.split_once('?').map_or("", |(_, q)| q);
        Query(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                .collect(),
        )
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.first(key).and_then(|v| v.parse().ok())
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(digits, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
