//! Request-path normalization: RFC 3986 §5.2.4 `remove_dot_segments`, with `%2e` read as `.`.
//!
//! Upstream servers disagree on whether `%2e%2e` is `..`; the gateway resolves dot segments
//! itself, so what it routes on is exactly what it forwards, and a path that climbs above the
//! root is refused rather than guessed at.

use std::borrow::Cow;

/// Why a request path cannot be normalized; the gateway answers `400`
/// ([`crate::outcome::Outcome::BadPath`]) and contacts nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Not an origin-form path (`*`, empty, or not starting with `/`).
    NotOriginForm,
    /// `..` would climb above `/`.
    ClimbsAboveRoot,
    /// A raw backslash: not valid in a URI path (RFC 3986 §3.3), and some servers read it as `/`.
    Backslash,
}

/// Normalizes `path` (without its query). Returns it borrowed when it has no dot segments.
pub(crate) fn normalize_path(path: &str) -> Result<Cow<'_, str>, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotOriginForm);
    }
    if path.contains('\\') {
        return Err(PathError::Backslash);
    }
    if !path.split('/').any(|s| dot_kind(s).is_some()) {
        return Ok(Cow::Borrowed(path));
    }
    let mut output: Vec<&str> = Vec::new();
    let mut segments = path[1..].split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match dot_kind(segment) {
            Some(Dot::Current) => {
                // `/a/.` → `/a/`: a final dot segment leaves a trailing slash.
                if last {
                    output.push("");
                }
            }
            Some(Dot::Parent) => {
                if output.pop().is_none() {
                    return Err(PathError::ClimbsAboveRoot);
                }
                if last {
                    output.push("");
                }
            }
            None => output.push(segment),
        }
    }
    let mut normalized = String::with_capacity(path.len());
    for segment in &output {
        normalized.push('/');
        normalized.push_str(segment);
    }
    if normalized.is_empty() {
        normalized.push('/');
    }
    Ok(Cow::Owned(normalized))
}

enum Dot {
    Current,
    Parent,
}

fn dot_kind(segment: &str) -> Option<Dot> {
    // Byte slices: a segment may hold non-ASCII text, which must not be split inside a character.
    fn is_dot(s: &[u8]) -> bool {
        s == b"." || s.eq_ignore_ascii_case(b"%2e")
    }
    let bytes = segment.as_bytes();
    if is_dot(bytes) {
        return Some(Dot::Current);
    }
    let split = match bytes.len() {
        2 => 1,
        4 if bytes[0] == b'.' => 1,
        4 | 6 => 3,
        _ => return None,
    };
    let (a, b) = bytes.split_at(split);
    (is_dot(a) && is_dot(b)).then_some(Dot::Parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_rfc_3986() {
        let cases: &[(&str, &str, Result<&str, PathError>)] = &[
            ("plain path unchanged", "/users/42", Ok("/users/42")),
            ("root", "/", Ok("/")),
            ("percent-encoding kept", "/a%20b/%41", Ok("/a%20b/%41")),
            ("empty segments kept", "/a//b", Ok("/a//b")),
            (
                "double slash host-like kept",
                "//evil.example/x",
                Ok("//evil.example/x"),
            ),
            ("current dot", "/a/./b", Ok("/a/b")),
            ("parent dot", "/a/b/../c", Ok("/a/c")),
            ("trailing parent", "/a/b/..", Ok("/a/")),
            ("trailing current", "/a/.", Ok("/a/")),
            ("encoded dot", "/a/%2e/b", Ok("/a/b")),
            ("encoded parent", "/a/b/%2e%2e/c", Ok("/a/c")),
            ("mixed encoded parent", "/a/b/.%2E/c", Ok("/a/c")),
            ("other mixed parent", "/a/b/%2e./c", Ok("/a/c")),
            ("dots inside a name kept", "/a/..b/c.", Ok("/a/..b/c.")),
            ("three dots kept", "/a/.../b", Ok("/a/.../b")),
            (
                "non-ascii segments",
                "/\u{e9}/\u{e9}\u{e9}/x\u{e9}",
                Ok("/\u{e9}/\u{e9}\u{e9}/x\u{e9}"),
            ),
            ("back to root", "/a/..", Ok("/")),
            ("climb above root", "/..", Err(PathError::ClimbsAboveRoot)),
            (
                "climb above root later",
                "/a/../../b",
                Err(PathError::ClimbsAboveRoot),
            ),
            (
                "encoded climb",
                "/%2e%2e/etc/passwd",
                Err(PathError::ClimbsAboveRoot),
            ),
            ("backslash", "/a\\..\\b", Err(PathError::Backslash)),
            ("asterisk form", "*", Err(PathError::NotOriginForm)),
            ("empty", "", Err(PathError::NotOriginForm)),
            (
                "absolute form",
                "http://evil.example/",
                Err(PathError::NotOriginForm),
            ),
        ];
        for (name, input, expected) in cases {
            let got = normalize_path(input);
            assert_eq!(got.as_deref().map_err(|e| *e), *expected, "case {name}");
        }
    }
}
