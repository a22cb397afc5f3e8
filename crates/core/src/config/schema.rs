//! The policy file format: every table and key, its type, default and meaning.
//!
//! This table is the single source of truth: the structural validator checks files against it
//! (unknown keys, types, required keys, "did you mean") and the README's policy reference is
//! tested against it, so the documentation cannot drift from what the validator accepts.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    String,
    StringArray,
    Bool,
    Integer,
}

impl ValueKind {
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::String => "a string",
            ValueKind::StringArray => "an array of strings",
            ValueKind::Bool => "a boolean (true or false)",
            ValueKind::Integer => "an integer",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub table: &'static str,
    pub key: &'static str,
    pub kind: ValueKind,
    pub required: bool,
    /// What applies when the key is absent (for required keys: empty).
    pub default: &'static str,
    pub doc: &'static str,
}

pub const TABLES: &[&str] = &["route", "cors"];

pub const KEYS: &[KeySpec] = &[
    KeySpec {
        table: "route",
        key: "path",
        kind: ValueKind::String,
        required: true,
        default: "",
        doc: "Exact path (`/health`) or prefix ending in `/...` (`/users/...` matches `/users` and everything under `/users/`).",
    },
    KeySpec {
        table: "route",
        key: "upstream",
        kind: ValueKind::String,
        required: true,
        default: "",
        doc: "Where requests go: `scheme://host[:port][/base-path]`, http or https, no userinfo, query or fragment.",
    },
    KeySpec {
        table: "route",
        key: "strip_prefix",
        kind: ValueKind::Bool,
        required: false,
        default: "false",
        doc: "Remove the route's prefix from the path before forwarding (an empty remainder becomes `/`).",
    },
    KeySpec {
        table: "route",
        key: "timeout_ms",
        kind: ValueKind::Integer,
        required: false,
        default: "10000",
        doc: "Milliseconds to wait for the upstream's response head, connecting included; then `504`.",
    },
    KeySpec {
        table: "cors",
        key: "allow_origins",
        kind: ValueKind::StringArray,
        required: true,
        default: "",
        doc: "Allowed origins: exact (`https://app.example.com`), subdomains (`https://*.example.com`), any port (`http://localhost:*`) or `\"*\"`.",
    },
    KeySpec {
        table: "cors",
        key: "allow_methods",
        kind: ValueKind::StringArray,
        required: false,
        default: "[\"GET\", \"HEAD\", \"POST\"]",
        doc: "Methods a preflight may ask for, exact and case-sensitive, or `\"*\"`. `GET`, `HEAD` and `POST` always pass.",
    },
    KeySpec {
        table: "cors",
        key: "allow_headers",
        kind: ValueKind::StringArray,
        required: false,
        default: "[]",
        doc: "Request header names a preflight may ask for (case-insensitive), or `\"*\"` (which never covers `Authorization`: list it).",
    },
    KeySpec {
        table: "cors",
        key: "expose_headers",
        kind: ValueKind::StringArray,
        required: false,
        default: "[]",
        doc: "Response header names the page's script may read beyond the safelisted ones, or `\"*\"`.",
    },
    KeySpec {
        table: "cors",
        key: "allow_credentials",
        kind: ValueKind::Bool,
        required: false,
        default: "false",
        doc: "Allow cookies and HTTP authentication (`credentials: 'include'`). Never with `\"*\"`.",
    },
    KeySpec {
        table: "cors",
        key: "max_age",
        kind: ValueKind::Integer,
        required: false,
        default: "absent (no header)",
        doc: "Seconds the browser may cache a preflight answer, 0 to 86400 (Chromium caps it at 7200).",
    },
    KeySpec {
        table: "cors",
        key: "allow_private_network",
        kind: ValueKind::Bool,
        required: false,
        default: "false",
        doc: "Answer `Access-Control-Request-Private-Network: true` with `Access-Control-Allow-Private-Network: true`.",
    },
    KeySpec {
        table: "cors",
        key: "preflight",
        kind: ValueKind::String,
        required: false,
        default: "\"edge\"",
        doc: "`\"edge\"`: the gateway answers preflights; `\"forward\"`: the upstream gets them (the gateway still sets the CORS headers).",
    },
    KeySpec {
        table: "cors",
        key: "dangerously_allow_insecure_origins",
        kind: ValueKind::Bool,
        required: false,
        default: "false",
        doc: "Allow `http://` origins other than loopback together with credentials (their traffic can be read and changed in transit).",
    },
    KeySpec {
        table: "cors",
        key: "dangerously_allow_public_suffix_wildcards",
        kind: ValueKind::Bool,
        required: false,
        default: "false",
        doc: "Allow wildcards directly under a public suffix (`https://*.co.uk`, `https://*.github.io`): anyone can register such a name.",
    },
];

pub fn key_spec(table: &str, key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.table == table && k.key == key)
}

/// The closest known name to a misspelt one, if it is close enough to be the likely intent.
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(unknown, c), c))
        .filter(|(distance, c)| *distance <= 3.max(c.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}
