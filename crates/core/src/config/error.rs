//! Configuration errors: typed, located and saying how to fix them.

use std::fmt;
use std::ops::Range;

/// What is wrong. Tests match on this, never on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    TomlSyntax,
    UnknownKey,
    WrongType,
    MissingKey,
    WildcardWithCredentials,
    NullOrFileOrigin,
    InvalidOrigin,
    UnsupportedOriginScheme,
    NonCanonicalOrigin,
    InvalidWildcard,
    InsecureOriginWithCredentials,
    PublicSuffixWildcard,
    InvalidMethod,
    ForbiddenMethod,
    InvalidHeaderName,
    ForbiddenRequestHeader,
    SetCookieExposed,
    AccessControlHeaderListed,
    MaxAgeOutOfRange,
    InvalidTimeout,
    InvalidRoutePath,
    InvalidUpstream,
    InvalidPreflightMode,
    DuplicateRoutePath,
    /// An upstream the Spin manifest's `allowed_outbound_hosts` does not cover.
    OutboundHostNotAllowed,
    Io,
}

/// A location in a policy file: byte span plus the 1-based line and column of its start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub span: Range<usize>,
}

impl Location {
    pub fn new(file: &str, source: &str, span: Range<usize>) -> Location {
        let start = span.start.min(source.len());
        let before = &source[..floor_char_boundary(source, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_string(),
            line,
            column,
            span,
        }
    }
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub kind: ErrorKind,
    pub location: Location,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// How to fix it, when there is a concrete fix (the canonical origin, the likely key).
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
