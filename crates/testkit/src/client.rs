//! A raw HTTP/1.1 client: it sends exactly the bytes a test asks for (duplicate headers,
//! non-UTF-8 values, no `Host`, absolute-form targets), which no ordinary client allows.

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::http::{fill_pattern, read_body, read_head, BodyFraming, Head};
use crate::upstream::hex;

#[derive(Clone, Debug)]
pub struct Response {
    /// The request this answers, as [`Request::describe`] puts it (for failure messages).
    pub request: String,
    pub status: u16,
    pub head: Head,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.get(name)
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.head.all(name).len()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What to send as a request body.
#[derive(Clone, Debug, Default)]
pub enum Body {
    #[default]
    Empty,
    Bytes(Vec<u8>),
    /// `len` pattern bytes, sent with `Content-Length` without holding them in memory.
    Pattern(u64),
    /// `pieces` pieces of `size` pattern bytes with `pause_ms` between them: a slow uploader.
    Trickle {
        pieces: u64,
        size: u64,
        pause_ms: u64,
    },
    /// These bytes sent with `Transfer-Encoding: chunked`, one chunk each.
    Chunked(Vec<Vec<u8>>),
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// `None`: no `Host` header at all.
    pub host: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Body,
}

impl Request {
    pub fn new(method: &str, target: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            host: Some("gateway.test".into()),
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Request {
        self.headers.push((name.into(), value.as_ref().to_vec()));
        self
    }

    pub fn origin(self, origin: &str) -> Request {
        self.header("Origin", origin)
    }

    pub fn body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }

    pub fn without_host(mut self) -> Request {
        self.host = None;
        self
    }

    /// `METHOD target` and the request's CORS lines (`Origin`, `Access-Control-Request-*`),
    /// each value cut to 80 characters: what a failure message needs to name the request.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.method, self.target);
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if lower == "origin" || lower.starts_with("access-control-request-") {
                let value: String = String::from_utf8_lossy(value).chars().take(80).collect();
                text.push_str(&format!(" [{name}: {value}]"));
            }
        }
        text
    }
}

/// Body of a streamed response: its length and SHA-256, never held in memory.
#[derive(Clone, Debug)]
pub struct StreamedBody {
    pub len: u64,
    pub sha256: String,
    /// Whether the body ended as its framing promised (false: cut short).
    pub complete: bool,
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn write_request(stream: &mut TcpStream, request: &Request) -> io::Result<()> {
    let mut head = Vec::new();
    write!(head, "{} {} HTTP/1.1\r\n", request.method, request.target)?;
    if let Some(host) = &request.host {
        write!(head, "Host: {host}\r\n")?;
    }
    for (name, value) in &request.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    match &request.body {
        Body::Empty => {}
        Body::Bytes(bytes) => write!(head, "Content-Length: {}\r\n", bytes.len())?,
        Body::Pattern(len) => write!(head, "Content-Length: {len}\r\n")?,
        Body::Trickle { pieces, size, .. } => {
            write!(head, "Content-Length: {}\r\n", pieces * size)?
        }
        Body::Chunked(_) => head.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    stream.write_all(&head)?;
    match &request.body {
        Body::Empty => {}
        Body::Bytes(bytes) => stream.write_all(bytes)?,
        Body::Chunked(chunks) => {
            for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                write!(stream, "{:x}\r\n", chunk.len())?;
                stream.write_all(chunk)?;
                stream.write_all(b"\r\n")?;
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
        Body::Trickle {
            pieces,
            size,
            pause_ms,
        } => {
            let mut buf = vec![0u8; *size as usize];
            for piece in 0..*pieces {
                std::thread::sleep(Duration::from_millis(*pause_ms));
                fill_pattern(piece * size, &mut buf);
                stream.write_all(&buf)?;
                stream.flush()?;
            }
        }
        Body::Pattern(len) => {
            let mut buf = vec![0u8; 64 * 1024];
            let mut offset = 0;
            while offset < *len {
                let n = (len - offset).min(buf.len() as u64) as usize;
                fill_pattern(offset, &mut buf[..n]);
                stream.write_all(&buf[..n])?;
                offset += n as u64;
            }
        }
    }
    stream.flush()
}

fn framing(method: &str, status: u16, head: &Head) -> BodyFraming {
    if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        BodyFraming::None
    } else if head.is_chunked() {
        BodyFraming::Chunked
    } else {
        head.content_length()
            .map_or(BodyFraming::UntilClose, BodyFraming::Length)
    }
}

fn read_status(head: &Head) -> io::Result<u16> {
    head.start_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {:?}", head.start_line),
            )
        })
}

/// Sends `request` and reads the whole response.
pub fn send(addr: SocketAddr, request: &Request) -> io::Result<Response> {
    let mut stream = connect(addr)?;
    write_request(&mut stream, request)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let status = read_status(&head)?;
    let mut body = Vec::new();
    read_body(
        &mut reader,
        framing(&request.method, status, &head),
        |chunk| body.extend_from_slice(chunk),
    )?;
    Ok(Response {
        request: request.describe(),
        status,
        head,
        body,
    })
}

/// Sends raw bytes as they are and reads the whole response.
pub fn send_raw(addr: SocketAddr, raw: &[u8]) -> io::Result<Response> {
    let mut stream = connect(addr)?;
    stream.write_all(raw)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let status = read_status(&head)?;
    let mut body = Vec::new();
    read_body(&mut reader, framing("GET", status, &head), |chunk| {
        body.extend_from_slice(chunk)
    })?;
    // Raw bytes have no structure to describe beyond their request line.
    let request_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(Response {
        request: String::from_utf8_lossy(request_line)
            .trim_end()
            .chars()
            .take(200)
            .collect(),
        status,
        head,
        body,
    })
}

/// Sends `request` and hashes the response body as it streams in.
pub fn send_streaming(
    addr: SocketAddr,
    request: &Request,
) -> io::Result<(u16, Head, StreamedBody)> {
    let mut stream = connect(addr)?;
    write_request(&mut stream, request)?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let head = read_head(&mut reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let status = read_status(&head)?;
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let complete = read_body(
        &mut reader,
        framing(&request.method, status, &head),
        |chunk| {
            hasher.update(chunk);
            len += chunk.len() as u64;
        },
    )
    .is_ok();
    Ok((
        status,
        head,
        StreamedBody {
            len,
            sha256: hex(&hasher.finalize()),
            complete,
        },
    ))
}

/// SHA-256 of `len` pattern bytes, what [`Body::Pattern`] and the upstream's `bytes=N` send.
pub fn pattern_sha256(len: u64) -> String {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0;
    while offset < len {
        let n = (len - offset).min(buf.len() as u64) as usize;
        fill_pattern(offset, &mut buf[..n]);
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
    hex(&hasher.finalize())
}

/// Opens a connection, sends the head of a GET and reads only `bytes` of the body before
/// dropping the connection: a client that aborts a download.
pub fn abort_after(addr: SocketAddr, request: &Request, bytes: usize) -> io::Result<u16> {
    let mut stream = connect(addr)?;
    write_request(&mut stream, request)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let mut buf = vec![0u8; bytes];
    reader.read_exact(&mut buf)?;
    read_status(&head)
}
