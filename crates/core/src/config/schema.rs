//! The policy file format: every table and key, its type, default and meaning.
//!
//! [`Key`] names each key once. Its [`KeySpec`] is the single source of truth: the structural
//! validator checks files against it (unknown keys, types, required keys, "did you mean"), the
//! semantic pass takes its defaults from it, the warnings and the CLI point at keys through it,
//! and the README's policy reference is tested against it, so the documentation cannot drift
//! from what the validator accepts.

use std::fmt;

/// The tables of a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `[route]`: where requests come from (the path) and where they go (the upstream).
    Route,
    /// `[cors]`: the CORS policy applied to the route's requests.
    Cors,
    /// `[live]`, optional: the route's origins may change at run time, inside a ceiling.
    Live,
}

impl Table {
    /// Every table: the only ones a policy file may have.
    pub const ALL: [Table; 3] = [Table::Route, Table::Cors, Table::Live];

    /// Whether a policy file may leave the table out (its required keys are then not asked
    /// for).
    pub fn optional(self) -> bool {
        self == Table::Live
    }

    /// The table's name in a policy file, without brackets.
    pub fn name(self) -> &'static str {
        match self {
            Table::Route => "route",
            Table::Cors => "cors",
            Table::Live => "live",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every key of a policy file.
///
/// Each key's meaning, type and default are in its [`KeySpec`] ([`Key::spec`]), which the
/// README's reference is checked against; the notes on the variants only say what each is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// `route.path`: the exact path or `/...` prefix the route serves.
    Path,
    /// `route.upstream`: the URL requests are forwarded to.
    Upstream,
    /// `route.strip_prefix`: whether the route's prefix is removed before forwarding.
    StripPrefix,
    /// `route.timeout_ms`: how long the upstream has for its response head, in milliseconds.
    TimeoutMs,
    /// `cors.allow_origins`: the origins that may read responses.
    AllowOrigins,
    /// `cors.allow_methods`: the methods a preflight may ask for.
    AllowMethods,
    /// `cors.allow_headers`: the request headers a preflight may ask for.
    AllowHeaders,
    /// `cors.expose_headers`: the response headers scripts may read beyond the safelisted ones.
    ExposeHeaders,
    /// `cors.allow_credentials`: whether cookies and HTTP authentication may be sent.
    AllowCredentials,
    /// `cors.max_age`: how long, in seconds, browsers may cache a preflight answer.
    MaxAge,
    /// `cors.allow_private_network`: whether Private Network Access preflights are granted.
    AllowPrivateNetwork,
    /// `cors.preflight`: whether the gateway or the upstream answers preflights.
    Preflight,
    /// `cors.report_only`: log what the policy would decide instead of enforcing it.
    ReportOnly,
    /// `cors.dangerously_allow_insecure_origins`: plain-http origins with credentials.
    DangerouslyAllowInsecureOrigins,
    /// `cors.dangerously_allow_public_suffix_wildcards`: wildcards right under a public suffix.
    DangerouslyAllowPublicSuffixWildcards,
    /// `live.ceiling`: the most a live origin list may allow.
    Ceiling,
    /// `live.when_unreadable`: what applies when no live list can be used.
    WhenUnreadable,
}

/// The TOML type a key's value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A TOML string.
    String,
    /// A TOML array whose elements are all strings (possibly empty).
    StringArray,
    /// `true` or `false`.
    Bool,
    /// A TOML integer; its range is checked by the semantic pass, not here.
    Integer,
}

impl ValueKind {
    /// The type with its article, as a [`ErrorKind::WrongType`](super::ErrorKind::WrongType)
    /// message ends: "`max_age` must be an integer".
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::String => "a string",
            ValueKind::StringArray => "an array of strings",
            ValueKind::Bool => "a boolean (true or false)",
            ValueKind::Integer => "an integer",
        }
    }

    /// The type's name in the README's reference.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::StringArray => "array of strings",
            ValueKind::Bool => "boolean",
            ValueKind::Integer => "integer",
        }
    }
}

/// What applies when a key is absent: the one place each default is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    /// The key must be set.
    Required,
    /// Absent means "not sent" (`max_age`: no `Access-Control-Max-Age` header).
    NoValue,
    /// A boolean key's value when absent.
    Bool(bool),
    /// An integer key's value when absent (`timeout_ms`: milliseconds).
    Integer(u32),
    /// A string key's value when absent (`preflight`: `"edge"`).
    String(&'static str),
    /// A string-array key's elements when absent (`allow_methods`: `GET`, `HEAD`, `POST`).
    Strings(&'static [&'static str]),
}

impl fmt::Display for Default {
    /// As the README's reference writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Default::Required => f.write_str("required"),
            Default::NoValue => f.write_str("absent (no header)"),
            Default::Bool(b) => write!(f, "{b}"),
            Default::Integer(i) => write!(f, "{i}"),
            Default::String(s) => write!(f, "\"{s}\""),
            Default::Strings(items) => {
                let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
                write!(f, "[{}]", quoted.join(", "))
            }
        }
    }
}

/// Everything about one key: one entry of [`KEYS`].
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// The key described, which is also the entry's index in [`KEYS`].
    pub key: Key,
    /// The table the key belongs in.
    pub table: Table,
    /// The key's name as written in a policy file (snake case).
    pub name: &'static str,
    /// The type its value must have.
    pub kind: ValueKind,
    /// What applies when it is absent.
    pub default: Default,
    /// One or two sentences of Markdown: the README's description of the key, and the help of
    /// a [`ErrorKind::MissingKey`](super::ErrorKind::MissingKey) error.
    pub doc: &'static str,
}

impl KeySpec {
    /// Whether a policy file must set the key (it has no default).
    pub fn required(&self) -> bool {
        self.default == Default::Required
    }
}

/// In the order of [`Key`]'s variants (a unit test checks it), which is the README's order.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: Key::Path,
        table: Table::Route,
        name: "path",
        kind: ValueKind::String,
        default: Default::Required,
        doc: "Exact path (`/health`) or prefix ending in `/...` (`/users/...` matches `/users` and everything under `/users/`).",
    },
    KeySpec {
        key: Key::Upstream,
        table: Table::Route,
        name: "upstream",
        kind: ValueKind::String,
        default: Default::Required,
        doc: "Where requests go: `scheme://host[:port][/base-path]`, http or https, no userinfo, query or fragment.",
    },
    KeySpec {
        key: Key::StripPrefix,
        table: Table::Route,
        name: "strip_prefix",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Remove the route's prefix from the path before forwarding (an empty remainder forwards to the base path itself).",
    },
    KeySpec {
        key: Key::TimeoutMs,
        table: Table::Route,
        name: "timeout_ms",
        kind: ValueKind::Integer,
        default: Default::Integer(10_000),
        doc: "Milliseconds to wait for the upstream's response head, connecting included; then `504`.",
    },
    KeySpec {
        key: Key::AllowOrigins,
        table: Table::Cors,
        name: "allow_origins",
        kind: ValueKind::StringArray,
        default: Default::Required,
        doc: "Allowed origins: exact (`https://app.example.com`), subdomains (`https://*.example.com`), any port (`http://localhost:*`) or `\"*\"`.",
    },
    KeySpec {
        key: Key::AllowMethods,
        table: Table::Cors,
        name: "allow_methods",
        kind: ValueKind::StringArray,
        default: Default::Strings(&["GET", "HEAD", "POST"]),
        doc: "Methods a preflight may ask for, exact and case-sensitive, or `\"*\"`. `GET`, `HEAD` and `POST` always pass.",
    },
    KeySpec {
        key: Key::AllowHeaders,
        table: Table::Cors,
        name: "allow_headers",
        kind: ValueKind::StringArray,
        default: Default::Strings(&[]),
        doc: "Request header names a preflight may ask for (case-insensitive), or `\"*\"` (which never covers `Authorization`: list it).",
    },
    KeySpec {
        key: Key::ExposeHeaders,
        table: Table::Cors,
        name: "expose_headers",
        kind: ValueKind::StringArray,
        default: Default::Strings(&[]),
        doc: "Response header names the page's script may read beyond the safelisted ones, or `\"*\"`.",
    },
    KeySpec {
        key: Key::AllowCredentials,
        table: Table::Cors,
        name: "allow_credentials",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Allow cookies and HTTP authentication (`credentials: 'include'`). Never with `\"*\"`.",
    },
    KeySpec {
        key: Key::MaxAge,
        table: Table::Cors,
        name: "max_age",
        kind: ValueKind::Integer,
        default: Default::NoValue,
        doc: "Seconds the browser may cache a preflight answer, 0 to 86400 (WebKit caps it at 600, Chromium at 7200).",
    },
    KeySpec {
        key: Key::AllowPrivateNetwork,
        table: Table::Cors,
        name: "allow_private_network",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Answer `Access-Control-Request-Private-Network: true` with `Access-Control-Allow-Private-Network: true`.",
    },
    KeySpec {
        key: Key::Preflight,
        table: Table::Cors,
        name: "preflight",
        kind: ValueKind::String,
        default: Default::String("edge"),
        doc: "`\"edge\"`: the gateway answers preflights; `\"forward\"`: the upstream gets them (the gateway still sets the CORS headers).",
    },
    KeySpec {
        key: Key::ReportOnly,
        table: Table::Cors,
        name: "report_only",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Report-only rollout: forward preflights and requests untouched, keep the upstream's own CORS headers, and log what the policy would decide beside what the upstream answered.",
    },
    KeySpec {
        key: Key::DangerouslyAllowInsecureOrigins,
        table: Table::Cors,
        name: "dangerously_allow_insecure_origins",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Allow `http://` origins other than loopback together with credentials (their traffic can be read and changed in transit).",
    },
    KeySpec {
        key: Key::DangerouslyAllowPublicSuffixWildcards,
        table: Table::Cors,
        name: "dangerously_allow_public_suffix_wildcards",
        kind: ValueKind::Bool,
        default: Default::Bool(false),
        doc: "Allow wildcards directly under a public suffix (`https://*.co.uk`, `https://*.github.io`): anyone can register such a name.",
    },
    KeySpec {
        key: Key::Ceiling,
        table: Table::Live,
        name: "ceiling",
        kind: ValueKind::StringArray,
        default: Default::Required,
        doc: "The origins and patterns a live origin list may allow, checked as `allow_origins` is (never `\"*\"`); `allow_origins` must lie inside it.",
    },
    KeySpec {
        key: Key::WhenUnreadable,
        table: Table::Live,
        name: "when_unreadable",
        kind: ValueKind::String,
        default: Default::Required,
        doc: "What applies while no live list can be used (the store is down, or holds a refused value) and the instance has accepted none before: `\"deny\"` (no origin) or `\"baseline\"` (`allow_origins`).",
    },
];

impl Key {
    /// The key's entry in [`KEYS`]: its table, name, type, default and description.
    pub fn spec(self) -> &'static KeySpec {
        &KEYS[self as usize]
    }

    /// The key's name as written in a policy file (its [`KeySpec::name`]).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The table the key belongs in.
    pub fn table(self) -> Table {
        self.spec().table
    }

    /// The key named `name` in `table`.
    pub fn find(table: Table, name: &str) -> Option<Key> {
        KEYS.iter()
            .find(|k| k.table == table && k.name == name)
            .map(|k| k.key)
    }

    /// The default of a boolean key.
    pub fn default_bool(self) -> bool {
        match self.spec().default {
            Default::Bool(b) => b,
            other => unreachable!("{self:?} is not a boolean key (default {other})"),
        }
    }

    /// The default of an integer key with one.
    pub fn default_integer(self) -> u32 {
        match self.spec().default {
            Default::Integer(i) => i,
            other => unreachable!("{self:?} has no integer default (default {other})"),
        }
    }

    /// The default of a string-array key.
    pub fn default_strings(self) -> &'static [&'static str] {
        match self.spec().default {
            Default::Strings(items) => items,
            other => unreachable!("{self:?} is not a string-array key (default {other})"),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_sits_at_its_own_index() {
        for (index, spec) in KEYS.iter().enumerate() {
            assert_eq!(spec.key as usize, index, "{:?} is out of place", spec.key);
            assert_eq!(Key::find(spec.table, spec.name), Some(spec.key));
        }
    }

    #[test]
    fn defaults_match_their_kind() {
        for spec in KEYS {
            let fits = matches!(
                (spec.default, spec.kind),
                (Default::Required, _)
                    | (Default::NoValue, ValueKind::Integer)
                    | (Default::Bool(_), ValueKind::Bool)
                    | (Default::Integer(_), ValueKind::Integer)
                    | (Default::String(_), ValueKind::String)
                    | (Default::Strings(_), ValueKind::StringArray)
            );
            assert!(
                fits,
                "default of {:?} is not {}",
                spec.key,
                spec.kind.name()
            );
        }
    }
}
