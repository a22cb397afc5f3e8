//! The logs an audit reads, as a stream of lines with flat memory: files, standard input (`-`
//! or no file), gzip-compressed or not (told by the magic bytes, not the name), any mix of the
//! gateway's lines and the host's other output.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::CliError;

/// Longest line read whole. A gateway line is at most a few KiB (every request-supplied value
/// is capped at 256 bytes); a longer line is counted and skipped without being held.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// The read buffer: large enough that the per-call cost of reading disappears next to parsing.
const BUFFER_BYTES: usize = 256 * 1024;

/// One line of a log, without its newline.
pub(crate) enum Line<'a> {
    /// A line of at most [`MAX_LINE_BYTES`].
    Text(&'a [u8]),
    /// A longer line, skipped.
    TooLong,
}

/// Where lines come from: a file by name, or standard input.
pub(crate) enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The inputs of the command line: none or `-` is standard input.
    pub(crate) fn all(paths: &[PathBuf]) -> Vec<Input> {
        if paths.is_empty() {
            return vec![Input::Stdin];
        }
        paths
            .iter()
            .map(|p| {
                if p == Path::new("-") {
                    Input::Stdin
                } else {
                    Input::File(p.clone())
                }
            })
            .collect()
    }

    /// How errors name it.
    pub(crate) fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "standard input".into(),
        }
    }

    /// Its lines, decompressed when it starts with gzip's magic bytes.
    pub(crate) fn open(&self) -> Result<Box<dyn BufRead>, CliError> {
        let raw: Box<dyn Read> = match self {
            Input::File(path) => Box::new(
                File::open(path)
                    .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?,
            ),
            Input::Stdin => Box::new(io::stdin().lock()),
        };
        let mut buffered = BufReader::with_capacity(BUFFER_BYTES, raw);
        let gzip = buffered
            .fill_buf()
            .map_err(|e| CliError::Io(format!("cannot read {}: {e}", self.name())))?
            .starts_with(&[0x1f, 0x8b]);
        Ok(if gzip {
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        })
    }
}

/// Calls `each` with every line of `reader`, the last one even without a newline. A line that
/// fits the buffer is handed over where it lies; one split across reads is gathered in a buffer
/// of at most [`MAX_LINE_BYTES`].
pub(crate) fn for_each_line(
    reader: &mut dyn BufRead,
    mut each: impl FnMut(Line<'_>),
) -> io::Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    let mut skipping = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            if skipping {
                each(Line::TooLong);
            } else if !pending.is_empty() {
                each(Line::Text(&pending));
            }
            return Ok(());
        }
        let (used, ended) = match memchr::memchr(b'\n', available) {
            Some(end) => (end + 1, Some(end)),
            None => (available.len(), None),
        };
        let piece = &available[..ended.unwrap_or(used)];
        if !skipping && pending.len() + piece.len() > MAX_LINE_BYTES {
            skipping = true;
            pending.clear();
        }
        match (ended, skipping) {
            (Some(_), true) => {
                each(Line::TooLong);
                skipping = false;
            }
            (Some(_), false) if pending.is_empty() => each(Line::Text(piece)),
            (Some(_), false) => {
                pending.extend_from_slice(piece);
                each(Line::Text(&pending));
                pending.clear();
            }
            (None, true) => {}
            (None, false) => pending.extend_from_slice(piece),
        }
        reader.consume(used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_reads_and_too_long_ones() {
        struct Case {
            name: &'static str,
            input: Vec<u8>,
            /// The lines read (`None`: too long).
            expected: Vec<Option<Vec<u8>>>,
        }
        let long = vec![b'a'; MAX_LINE_BYTES + 1];
        let cases = [
            Case {
                name: "two lines, the last without a newline",
                input: b"one\ntwo".to_vec(),
                expected: vec![Some(b"one".to_vec()), Some(b"two".to_vec())],
            },
            Case {
                name: "an empty line",
                input: b"\n\nx\n".to_vec(),
                expected: vec![Some(vec![]), Some(vec![]), Some(b"x".to_vec())],
            },
            Case {
                name: "a line over the limit is skipped, the next one read",
                input: [&long[..], b"\nnext\n"].concat(),
                expected: vec![None, Some(b"next".to_vec())],
            },
            Case {
                name: "a line over the limit at the end",
                input: long.clone(),
                expected: vec![None],
            },
            Case {
                name: "a line exactly at the limit",
                input: [&long[1..], b"\n"].concat(),
                expected: vec![Some(long[1..].to_vec())],
            },
        ];
        for case in cases {
            // A reader that hands over 7 bytes at a time, so lines are split across reads.
            let mut reader = BufReader::with_capacity(7, &case.input[..]);
            let mut got = Vec::new();
            for_each_line(&mut reader, |line| {
                got.push(match line {
                    Line::Text(text) => Some(text.to_vec()),
                    Line::TooLong => None,
                })
            })
            .unwrap();
            assert_eq!(got, case.expected, "{}", case.name);
        }
    }
}
