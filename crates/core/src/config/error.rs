//! Configuration errors: typed, located and saying how to fix them.

use std::fmt;
use std::ops::Range;

/// What is wrong. Tests match on this, never on message text. New checks add kinds, so matches
/// outside this crate need a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file is not valid TOML; nothing else is checked in it.
    TomlSyntax,
    /// A table other than `[route]` and `[cors]`, or a key its table does not have (the help
    /// suggests the likely spelling or the table it belongs in).
    UnknownKey,
    /// A key's value (or one element of an array) is not of the type the schema expects, or
    /// `route` or `cors` is not a table.
    WrongType,
    /// A required key is absent; the error points at its table, or the start of the file.
    MissingKey,
    /// `"*"` in `allow_origins`, `allow_methods`, `allow_headers` or `expose_headers` with
    /// `allow_credentials = true`: for credentialed requests browsers refuse a `*` origin and
    /// read the other lists' `*` as a literal name (<https://fetch.spec.whatwg.org/#cors-check>).
    WildcardWithCredentials,
    /// `null` or a `file:` origin: every opaque origin sends `Origin: null`, so allowing it
    /// allows anyone.
    NullOrFileOrigin,
    /// An origin entry that is not `scheme://host[:port]` or that the WHATWG URL parser refuses.
    InvalidOrigin,
    /// An origin entry whose scheme is neither `http` nor `https`, which no request can match.
    UnsupportedOriginScheme,
    /// An origin entry not written as browsers serialize it (case, default port, path, trailing
    /// slash, userinfo), which would never match; the help gives the canonical form.
    NonCanonicalOrigin,
    /// A `*` anywhere but as whole leading labels (`https://*.example.com`) or the port
    /// (`http://localhost:*`), or a subdomain wildcard over an IP address.
    InvalidWildcard,
    /// A plain-http, non-loopback origin with `allow_credentials = true`, without
    /// `dangerously_allow_insecure_origins`.
    InsecureOriginWithCredentials,
    /// A subdomain wildcard over a public suffix (`https://*.co.uk`), without
    /// `dangerously_allow_public_suffix_wildcards`: anyone can register a name under it.
    PublicSuffixWildcard,
    /// An `allow_methods` entry that is not an HTTP token (RFC 9110 §5.6.2).
    InvalidMethod,
    /// A forbidden method (`CONNECT`, `TRACE`, `TRACK`), which browsers never send
    /// (<https://fetch.spec.whatwg.org/#forbidden-method>).
    ForbiddenMethod,
    /// An `allow_headers` or `expose_headers` entry that is not an HTTP token.
    InvalidHeaderName,
    /// A forbidden request header in `allow_headers`, which pages can never set
    /// (<https://fetch.spec.whatwg.org/#forbidden-request-header>).
    ForbiddenRequestHeader,
    /// `Set-Cookie` or `Set-Cookie2` in `expose_headers`, which browsers never expose
    /// (<https://fetch.spec.whatwg.org/#forbidden-response-header-name>).
    SetCookieExposed,
    /// An `Access-Control-*` name in `allow_headers` or `expose_headers`: those headers belong
    /// to the CORS protocol, and the gateway sets them.
    AccessControlHeaderListed,
    /// `max_age` outside 0 to 86400 seconds.
    MaxAgeOutOfRange,
    /// `timeout_ms` that is zero or does not fit in a `u32` of milliseconds.
    InvalidTimeout,
    /// A route `path` that does not start with `/`, holds a query, fragment, `//`, dot segment
    /// or a byte not valid in a URL path, or uses `...` other than as its whole last segment.
    InvalidRoutePath,
    /// An `upstream` that is not an absolute http(s) URL with a host, or that carries
    /// userinfo, a query or a fragment.
    InvalidUpstream,
    /// `preflight` other than `"edge"` or `"forward"`.
    InvalidPreflightMode,
    /// Two files route the same path; reported on the later file, naming the earlier.
    DuplicateRoutePath,
    /// An upstream the Spin manifest's `allowed_outbound_hosts` does not cover.
    OutboundHostNotAllowed,
    /// The policy folder or one of its files could not be read; the location names the path,
    /// with line and column 0.
    Io,
    /// `"*"` in `[live]` `ceiling`: the ceiling is the reviewed limit of live data.
    WildcardCeiling,
    /// An `allow_origins` entry that `[live]` `ceiling` does not cover (or `"*"` with
    /// `[live]`): the baseline must be a list live data could set.
    OutsideCeiling,
    /// `when_unreadable` other than `"deny"` or `"baseline"`.
    InvalidWhenUnreadable,
    /// A route with `[live]` whose name (its file's stem) a live origin list cannot hold:
    /// anything but printable ASCII without `"` and `\`.
    LiveRouteName,
    /// A route with `[live]` built into an artifact that cannot serve it: the WASIp2 gateway,
    /// whose every request is a fresh instance and so would read the store per request.
    LiveNotServed,
    /// A policy folder read at run time (a prebuilt artifact's files mount) holds no policy
    /// file: the mount names the wrong folder, or none. Line and column 0.
    NoPolicyFiles,
}

/// A location in a policy file: byte span plus the 1-based line and column of its start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as errors name it (the folder as given, joined with the file name).
    pub file: String,
    /// 1-based line of the span's start (0 when the error has no place in a text, as for
    /// [`ErrorKind::Io`]).
    pub line: usize,
    /// 1-based column of the span's start, counted in characters, not bytes (0 as for `line`).
    pub column: usize,
    /// Byte offsets into the file's text; `0..0` when the error concerns the whole file or an
    /// absent key.
    pub span: Range<usize>,
}

impl Location {
    /// The location of `span` in `source`, the text of `file`: its line and column computed
    /// from the bytes before it (a start past the end, or inside a character, is moved back).
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

/// One mistake in a policy file; displayed as `file:line:column: message (help)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong, for programs and tests to match on.
    pub kind: ErrorKind,
    /// Where: the offending value when there is one, else its key's table or the file.
    pub location: Location,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// How to fix it, when there is a concrete fix (the canonical origin, the likely key).
    pub help: Option<String>,
}

impl ConfigError {
    /// An error about a file or folder as a whole (`file` as errors name it): line and column
    /// 0, an empty span.
    pub fn whole_file(
        kind: ErrorKind,
        file: String,
        message: String,
        help: Option<String>,
    ) -> Self {
        ConfigError {
            kind,
            location: Location {
                file,
                line: 0,
                column: 0,
                span: 0..0,
            },
            message,
            help,
        }
    }
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
