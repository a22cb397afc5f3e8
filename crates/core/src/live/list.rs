//! The value a live store holds: one canonical JSON object (RFC 8785 key order, no whitespace)
//! of at most [`MAX_VALUE_BYTES`],
//!
//! ```json
//! {"ceilings_sha256":"…","content_sha256":"…","generation":7,"routes":{"users":["https://*.preview.example.com","https://app.example.com"]},"version":1}
//! ```
//!
//! `ceilings_sha256` names the build the list was made for ([`ceilings_sha256`] of its route
//! table), `content_sha256` is the SHA-256 of the `routes` object's text as written, and
//! `generation` only grows. Each route's origins are sorted and distinct, each an exact origin
//! as browsers serialize it or a pattern as a policy file writes it.
//!
//! The reader is strict: anything but the canonical form (and one newline after it) is refused
//! with where it went wrong, never repaired, so the CLI that writes the value
//! ([`ListDocument::canonical`]) and every instance that reads it agree byte for byte, and the
//! CLI checks a value by reading it back with [`LiveList::accept`], exactly as the guest will.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::origin_set::OriginSet;
use crate::origins::{AllowedOrigins, OriginPattern};
use crate::request_origin::{RequestOrigin, MAX_ORIGIN_LEN};
use crate::route::RouteTable;
use crate::text::Text;

/// The key a store keeps the list under, unless told otherwise: the WASIp3 artifacts read it
/// from their key-value store, `corsgate live` writes it.
pub const STORE_KEY: &str = "corsgate-live-origins";

/// The only format this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// The largest value read: a list of about 1,500 origins. A store value over it is refused
/// before it is parsed, so an instance's memory and time per refresh stay bounded.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The most origins one list may name, over all its routes.
pub const MAX_ORIGINS: usize = 4096;

/// The longest route name a list may hold (a policy file's stem).
const MAX_ROUTE_NAME: usize = 255;

/// The largest generation: the largest integer every JSON reader holds exactly (2^53 − 1).
pub const MAX_GENERATION: u64 = (1 << 53) - 1;

/// Why a stored value was not accepted. Its text is one line, safe to log: every value it
/// quotes passed the reader's character check (printable ASCII without `"` or `\`) and length
/// caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveProblem {
    /// Over [`MAX_VALUE_BYTES`].
    TooLarge(usize),
    /// Not the canonical form at byte `offset`, where `expected` should be.
    NotCanonical {
        /// Where the reader stopped.
        offset: usize,
        /// What it expected there.
        expected: &'static str,
    },
    /// A format version this build does not read.
    Version(u64),
    /// `content_sha256` is not the hash of the routes: a truncated, edited or corrupted value.
    ContentHash,
    /// Made for another build: its `ceilings_sha256` is not this build's.
    OtherBuild {
        /// The list's.
        list: String,
        /// This build's.
        build: String,
    },
    /// Names a route this build does not have, or one without `[live]`.
    UnknownRoute(String),
    /// Leaves out one of this build's live routes.
    MissingRoute(String),
    /// Over [`MAX_ORIGINS`].
    TooManyOrigins,
    /// An entry that is neither a canonical origin nor a canonical pattern.
    NotAnOrigin {
        /// The route whose list holds it.
        route: String,
        /// The entry.
        entry: String,
    },
    /// An entry the route's ceiling does not cover.
    OutsideCeiling {
        /// The route whose list holds it.
        route: String,
        /// The entry.
        entry: String,
    },
    /// A generation older than one this instance already accepted.
    GenerationBack {
        /// The list's.
        list: u64,
        /// The newest accepted.
        accepted: u64,
    },
    /// The generation of the accepted list, with other contents.
    GenerationReused(u64),
    /// The accepted list disappeared from the store.
    Gone,
    /// The store answered with an error, or not in time.
    Store(String),
}

impl fmt::Display for LiveProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveProblem::TooLarge(bytes) => write!(
                f,
                "the value is {bytes} bytes, over the limit of {MAX_VALUE_BYTES}"
            ),
            LiveProblem::NotCanonical { offset, expected } => write!(
                f,
                "not a canonical live origin list: byte {offset} should be {expected} (write lists with `corsgate live publish`)"
            ),
            LiveProblem::Version(version) => write!(
                f,
                "format version {version}: this build reads version {FORMAT_VERSION}"
            ),
            LiveProblem::ContentHash => f.write_str(
                "content_sha256 is not the hash of the routes (a truncated, edited or corrupted value)",
            ),
            LiveProblem::OtherBuild { list, build } => write!(
                f,
                "made for another build: its ceilings_sha256 is {list}, this build's is {build}"
            ),
            LiveProblem::UnknownRoute(route) => write!(
                f,
                "route `{route}` is not a route with `[live]` in this build"
            ),
            LiveProblem::MissingRoute(route) => {
                write!(f, "the live route `{route}` is missing from the list")
            }
            LiveProblem::TooManyOrigins => {
                write!(f, "more than {MAX_ORIGINS} origins in the list")
            }
            LiveProblem::NotAnOrigin { route, entry } => write!(
                f,
                "`{entry}` (route `{route}`) is not an origin or pattern as a browser or a policy file writes it"
            ),
            LiveProblem::OutsideCeiling { route, entry } => write!(
                f,
                "`{entry}` (route `{route}`) lies outside the route's ceiling"
            ),
            LiveProblem::GenerationBack { list, accepted } => write!(
                f,
                "generation {list} is older than generation {accepted}, already in use"
            ),
            LiveProblem::GenerationReused(generation) => write!(
                f,
                "generation {generation} is in use with other contents (a generation is never reused)"
            ),
            LiveProblem::Gone => f.write_str("the store no longer holds a live origin list"),
            LiveProblem::Store(error) => write!(f, "the store cannot be read: {error}"),
        }
    }
}

/// A list as written: what `corsgate live publish` makes, before it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListDocument {
    /// Only grows from one published list to the next.
    pub generation: u64,
    /// [`ceilings_sha256`] of the build it is made for.
    pub ceilings_sha256: String,
    /// Each live route's origins and patterns, canonical (the order does not matter).
    pub routes: Vec<(String, Vec<String>)>,
}

impl ListDocument {
    /// The canonical JSON text: routes by name, each route's entries sorted and distinct.
    /// Writes what it is given: [`LiveList::accept`] then says whether an instance would take
    /// it.
    pub fn canonical(&self) -> String {
        let mut routes = self.routes.clone();
        routes.sort();
        for (_, entries) in &mut routes {
            entries.sort();
            entries.dedup();
        }
        let body = routes_object(&routes);
        format!(
            "{{\"ceilings_sha256\":\"{}\",\"content_sha256\":\"{}\",\"generation\":{},\"routes\":{body},\"version\":{FORMAT_VERSION}}}",
            self.ceilings_sha256,
            sha256_hex(body.as_bytes()),
            self.generation
        )
    }

    /// Reads a canonical value (the strict reader, without the checks against a build).
    pub fn read(value: &[u8]) -> Result<ListDocument, LiveProblem> {
        ListDocument::read_hashed(value).map(|(document, _)| document)
    }

    /// [`ListDocument::read`], with the value's `content_sha256`.
    fn read_hashed(value: &[u8]) -> Result<(ListDocument, String), LiveProblem> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(LiveProblem::TooLarge(value.len()));
        }
        check_version(value)?;
        let mut c = Cursor {
            bytes: value,
            at: 0,
        };
        c.expect("{\"ceilings_sha256\":")?;
        let ceilings_sha256 = c.hash()?.to_string();
        c.expect(",\"content_sha256\":")?;
        let content_sha256 = c.hash()?.to_string();
        c.expect(",\"generation\":")?;
        let generation = c.generation()?;
        c.expect(",\"routes\":")?;
        let routes_start = c.at;
        let routes = c.routes()?;
        let routes_text = &value[routes_start..c.at];
        c.expect(",\"version\":")?;
        c.expect(&FORMAT_VERSION.to_string())?;
        c.expect("}")?;
        // One newline may follow, as files and shell tools add one.
        if !matches!(&value[c.at..], b"" | b"\n") {
            return Err(c.not_canonical("the end of the value (or one newline)"));
        }
        if sha256_hex(routes_text) != content_sha256 {
            return Err(LiveProblem::ContentHash);
        }
        let document = ListDocument {
            generation,
            ceilings_sha256,
            routes,
        };
        Ok((document, content_sha256))
    }
}

/// A list an instance accepted: read, hashed and checked against its build, each route's
/// origins ready to judge requests with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveList {
    generation: u64,
    content_sha256: String,
    /// By route name.
    routes: Vec<(String, AllowedOrigins)>,
}

impl LiveList {
    /// Reads `value` strictly and checks it against `table`: made for this build's ceilings,
    /// naming exactly its live routes, each entry a canonical origin or pattern that the
    /// route's ceiling covers.
    pub fn accept(value: &[u8], table: &RouteTable) -> Result<LiveList, LiveProblem> {
        let (document, content_sha256) = ListDocument::read_hashed(value)?;
        let build = ceilings_sha256(table);
        if document.ceilings_sha256 != build {
            return Err(LiveProblem::OtherBuild {
                list: document.ceilings_sha256,
                build,
            });
        }
        let live_routes = table.routes().iter().filter(|r| r.cors().live().is_some());
        let mut routes = Vec::with_capacity(document.routes.len());
        for (name, entries) in &document.routes {
            let Some(rule) = live_routes
                .clone()
                .find(|r| r.name() == name)
                .and_then(|r| r.cors().live())
            else {
                return Err(LiveProblem::UnknownRoute(name.clone()));
            };
            let mut exact = Vec::new();
            let mut patterns = Vec::new();
            for entry in entries {
                let problem = |outside: bool| {
                    let (route, entry) = (name.clone(), entry.clone());
                    match outside {
                        true => LiveProblem::OutsideCeiling { route, entry },
                        false => LiveProblem::NotAnOrigin { route, entry },
                    }
                };
                if RequestOrigin::parse(entry.as_bytes()).is_some() {
                    if !rule.ceiling().covers_origin(entry.as_bytes()) {
                        return Err(problem(true));
                    }
                    exact.push(entry.clone());
                } else if let Some(pattern) = OriginPattern::parse_canonical(entry) {
                    if pattern.text() != *entry {
                        return Err(problem(false));
                    }
                    if !rule.ceiling().covers_pattern(&pattern) {
                        return Err(problem(true));
                    }
                    patterns.push(pattern);
                } else {
                    return Err(problem(false));
                }
            }
            let origins = AllowedOrigins::Listed {
                exact: OriginSet::build(exact),
                patterns: patterns.into(),
            };
            routes.push((name.clone(), origins));
        }
        if let Some(missing) = live_routes
            .clone()
            .find(|r| !document.routes.iter().any(|(n, _)| n == r.name()))
        {
            return Err(LiveProblem::MissingRoute(missing.name().to_string()));
        }
        Ok(LiveList {
            generation: document.generation,
            content_sha256,
            routes,
        })
    }

    /// Its generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The SHA-256 of its routes, which tells two lists of one generation apart.
    pub fn content_sha256(&self) -> &str {
        &self.content_sha256
    }

    /// The origins it allows on the route named `route`.
    pub fn origins(&self, route: &str) -> Option<&AllowedOrigins> {
        self.routes
            .iter()
            .find(|(name, _)| name == route)
            .map(|(_, origins)| origins)
    }
}

/// The SHA-256 that names a build's ceilings: of the canonical JSON object of each live route's
/// ceiling entries (sorted, as a policy file writes them), routes by name. A list records the
/// hash of the build it was made for, and an instance refuses a list made for another.
pub fn ceilings_sha256(table: &RouteTable) -> String {
    let mut routes: Vec<(&str, Vec<Text>)> = table
        .routes()
        .iter()
        .filter_map(|route| {
            let rule = route.cors().live()?;
            let AllowedOrigins::Listed { exact, patterns } = rule.ceiling() else {
                // The validator refuses `*` in a ceiling.
                return Some((route.name(), vec![Text::Borrowed("*")]));
            };
            let mut entries: Vec<Text> = exact.entries().to_vec();
            entries.extend(patterns.iter().map(|p| Text::from(p.text())));
            entries.sort();
            Some((route.name(), entries))
        })
        .collect();
    routes.sort();
    sha256_hex(routes_object(&routes).as_bytes())
}

/// `{"name":["entry",…],…}`, routes and entries in the order given: how a list's `routes` and
/// a build's ceilings are written (names and entries need no escape: the reader refuses any).
fn routes_object<N: AsRef<str>, E: AsRef<str>>(routes: &[(N, Vec<E>)]) -> String {
    let routes: Vec<String> = routes
        .iter()
        .map(|(name, entries)| {
            let quoted: Vec<String> = entries
                .iter()
                .map(|e| format!("\"{}\"", e.as_ref()))
                .collect();
            format!("\"{}\":[{}]", name.as_ref(), quoted.join(","))
        })
        .collect();
    format!("{{{}}}", routes.join(","))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A value of another format version says so, rather than where its layout first differs.
fn check_version(value: &[u8]) -> Result<(), LiveProblem> {
    let Some(rest) = value.strip_suffix(b"}") else {
        return Ok(());
    };
    let Some(at) = rest.windows(11).rposition(|w| w == b",\"version\":") else {
        return Ok(());
    };
    let digits = &rest[at + 11..];
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(());
    }
    let version: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    match version {
        FORMAT_VERSION => Ok(()),
        other => Err(LiveProblem::Version(other)),
    }
}

/// Reads a canonical value front to back.
struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    fn not_canonical(&self, expected: &'static str) -> LiveProblem {
        LiveProblem::NotCanonical {
            offset: self.at,
            expected,
        }
    }

    fn expect(&mut self, literal: &str) -> Result<(), LiveProblem> {
        if self.bytes[self.at..].starts_with(literal.as_bytes()) {
            self.at += literal.len();
            Ok(())
        } else {
            // The literals are the format's fixed text: say which.
            Err(self.not_canonical(match literal {
                "{\"ceilings_sha256\":" => "`{\"ceilings_sha256\":`",
                ",\"content_sha256\":" => "`,\"content_sha256\":`",
                ",\"generation\":" => "`,\"generation\":`",
                ",\"routes\":" => "`,\"routes\":`",
                ",\"version\":" => "`,\"version\":`",
                "}" => "`}`",
                _ => "the format's fixed text",
            }))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// A string of printable ASCII without `"` or `\` (no escapes: nothing the format holds
    /// needs one), at most `max` bytes.
    fn string(&mut self, max: usize) -> Result<&'b str, LiveProblem> {
        if self.peek() != Some(b'"') {
            return Err(self.not_canonical("a string"));
        }
        let start = self.at + 1;
        let len = self.bytes[start..]
            .iter()
            .position(|&b| !(0x20..=0x7e).contains(&b) || b == b'"' || b == b'\\')
            .ok_or_else(|| self.not_canonical("a closing quote"))?;
        if self.bytes[start + len] != b'"' {
            self.at = start + len;
            return Err(self.not_canonical("printable ASCII without `\\` (no escapes)"));
        }
        if len > max {
            return Err(self.not_canonical("a shorter string"));
        }
        self.at = start + len + 1;
        Ok(std::str::from_utf8(&self.bytes[start..start + len]).expect("ASCII"))
    }

    fn hash(&mut self) -> Result<&'b str, LiveProblem> {
        let at = self.at;
        let text = self.string(64)?;
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            self.at = at;
            return Err(self.not_canonical("64 lowercase hex digits (a SHA-256)"));
        }
        Ok(text)
    }

    /// A decimal integer from 1 to [`MAX_GENERATION`], without a leading zero.
    fn generation(&mut self) -> Result<u64, LiveProblem> {
        let len = self.bytes[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let digits = &self.bytes[self.at..self.at + len];
        let value = (len <= 16 && digits.first().is_some_and(|&d| d != b'0'))
            .then(|| std::str::from_utf8(digits).ok()?.parse::<u64>().ok())
            .flatten()
            .filter(|g| *g <= MAX_GENERATION)
            .ok_or_else(|| self.not_canonical("a generation from 1 to 2^53-1"))?;
        self.at += len;
        Ok(value)
    }

    /// `{"name":["entry",…],…}`: names strictly increasing, entries strictly increasing.
    fn routes(&mut self) -> Result<Vec<(String, Vec<String>)>, LiveProblem> {
        self.expect("{")?;
        let mut routes: Vec<(String, Vec<String>)> = Vec::new();
        let mut count = 0;
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(routes);
        }
        loop {
            let at = self.at;
            let name = self.string(MAX_ROUTE_NAME)?;
            if name.is_empty() || routes.last().is_some_and(|(last, _)| last.as_str() >= name) {
                self.at = at;
                return Err(self.not_canonical("route names sorted, distinct and not empty"));
            }
            self.expect(":[")?;
            let mut entries: Vec<String> = Vec::new();
            if self.peek() == Some(b']') {
                self.at += 1;
            } else {
                loop {
                    let at = self.at;
                    let entry = self.string(MAX_ORIGIN_LEN)?;
                    if entries.last().is_some_and(|last| last.as_str() >= entry) {
                        self.at = at;
                        return Err(self.not_canonical("origins sorted and distinct"));
                    }
                    count += 1;
                    if count > MAX_ORIGINS {
                        return Err(LiveProblem::TooManyOrigins);
                    }
                    entries.push(entry.to_string());
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            break;
                        }
                        _ => return Err(self.not_canonical("`,` or `]`")),
                    }
                }
            }
            routes.push((name.to_string(), entries));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(routes);
                }
                _ => return Err(self.not_canonical("`,` or `}`")),
            }
        }
    }
}
