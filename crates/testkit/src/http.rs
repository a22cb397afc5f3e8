//! Minimal HTTP/1.1 message reading shared by the test upstream and client. Header lines are
//! kept as sent (duplicates, order, raw bytes), which is the point: tests look at exactly what
//! crossed the wire.

use std::io::{self, BufRead};

#[derive(Clone, Debug, Default)]
pub struct Head {
    /// Request line or status line.
    pub start_line: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// Every value of `name` (case-insensitive), as sent.
    pub fn all(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// The names of the header lines whose name starts with `prefix` (case-insensitive), as
    /// sent.
    pub fn names_starting_with(&self, prefix: &str) -> Vec<&String> {
        self.headers
            .iter()
            .map(|(n, _)| n)
            .filter(|n| {
                n.get(..prefix.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
            })
            .collect()
    }

    /// The only value of `name` as text; `None` when absent. Panics when sent more than once.
    pub fn get(&self, name: &str) -> Option<String> {
        let all = self.all(name);
        assert!(
            all.len() <= 1,
            "header {name} sent {} times: {all:?}",
            all.len()
        );
        all.first().map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub fn content_length(&self) -> Option<u64> {
        self.get("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    pub fn is_chunked(&self) -> bool {
        self.all("transfer-encoding").iter().any(|v| {
            String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("chunked")
        })
    }
}

/// Reads a head (start line + header lines). `Ok(None)` on a clean end of stream before it.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut start_line = Vec::new();
    if reader.read_until(b'\n', &mut start_line)? == 0 {
        return Ok(None);
    }
    let mut head = Head {
        start_line: String::from_utf8_lossy(trim_crlf(&start_line)).into_owned(),
        headers: Vec::new(),
    };
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "end of stream inside a head",
            ));
        }
        let line = trim_crlf(&line);
        if line.is_empty() {
            return Ok(Some(head));
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "header line without a colon")
        })?;
        let name = String::from_utf8_lossy(&line[..colon]).into_owned();
        head.headers
            .push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
}

fn trim_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// Reads a body in pieces, handing each to `sink`; returns the total.
pub fn read_body(
    reader: &mut impl BufRead,
    framing: BodyFraming,
    mut sink: impl FnMut(&[u8]),
) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    match framing {
        BodyFraming::None => {}
        BodyFraming::Length(mut left) => {
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = reader.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("body ended {left} bytes early"),
                    ));
                }
                sink(&buf[..n]);
                total += n as u64;
                left -= n as u64;
            }
        }
        BodyFraming::UntilClose => loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sink(&buf[..n]);
            total += n as u64;
        },
        BodyFraming::Chunked => loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size_text = size_line.trim().split(';').next().unwrap_or("");
            let mut left = u64::from_str_radix(size_text, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad chunk size {size_line:?}"),
                )
            })?;
            if left == 0 {
                // Trailer section, then the final empty line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = reader.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "chunk ended early",
                    ));
                }
                sink(&buf[..n]);
                total += n as u64;
                left -= n as u64;
            }
            let mut crlf = String::new();
            reader.read_line(&mut crlf)?;
        },
    }
    Ok(total)
}

/// Deterministic body bytes: byte `i` of a pattern body is `pattern_byte(i)`, so both ends can
/// hash it without storing it.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

pub fn fill_pattern(offset: u64, buf: &mut [u8]) {
    for (k, b) in buf.iter_mut().enumerate() {
        *b = pattern_byte(offset + k as u64);
    }
}
