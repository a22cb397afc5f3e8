//! Which entries of a route's lists the requests the log shows as allowed needed, judged as the
//! log is read, against the folder's own version of the route: one flag per entry, so what is
//! kept does not grow with the log. An entry is used when an allowed request needed it; when
//! the log cannot say (a value the gateway cut at 256 bytes), every entry the missing part could
//! have needed counts as used. `--suggest` takes out only entries no request needed, so the
//! doubt always keeps an entry.

use std::collections::HashMap;

use corsgate_core::config::origin_rules::{parse_origin_entry, OriginEntry, OriginRules};
use corsgate_core::config::schema::Key;
use corsgate_core::config::LoadedPolicy;
use corsgate_core::decision::{preflight, CorsRequest};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::origins::OriginVerdict;
use corsgate_core::request_origin::RequestOrigin;
use corsgate_core::CorsPolicy;

/// What an allowed request asked for, as its line says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Asked<'a> {
    pub(crate) origin: &'a [u8],
    /// The gateway cut the origin: only its beginning is known.
    pub(crate) origin_cut: bool,
    /// A preflight's requested method.
    pub(crate) method: Option<&'a [u8]>,
    /// A preflight's requested header names, as the request wrote them.
    pub(crate) headers: Option<&'a [u8]>,
    /// The gateway cut the header list.
    pub(crate) headers_cut: bool,
}

/// One list of a policy: its entries as written and which were used.
#[derive(Debug)]
pub(crate) struct List<T> {
    pub(crate) entries: Vec<(String, T)>,
    pub(crate) used: Vec<bool>,
}

impl<T> List<T> {
    fn new(entries: Vec<(String, T)>) -> List<T> {
        let used = vec![false; entries.len()];
        List { entries, used }
    }

    fn mark(&mut self, needed: impl Fn(&str, &T) -> bool) {
        for ((entry, value), used) in self.entries.iter().zip(&mut self.used) {
            if !*used && needed(entry, value) {
                *used = true;
            }
        }
    }

    fn mark_all(&mut self) {
        self.used.iter_mut().for_each(|used| *used = true);
    }

    /// The entries nobody used.
    pub(crate) fn unused(&self) -> impl Iterator<Item = &(String, T)> {
        self.entries
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|(entry, _)| entry)
    }
}

/// A route's usage.
#[derive(Debug)]
pub(crate) struct Usage {
    policy: CorsPolicy,
    pub(crate) origins: List<OriginEntry>,
    pub(crate) methods: List<()>,
    pub(crate) headers: List<()>,
    /// Requests allowed in the log that the folder's version would refuse.
    pub(crate) no_longer_allowed: u64,
    /// What was judged of each request already seen (whether the folder's version allows it),
    /// by the line's values: a log repeats the same few requests, judged once each. Bounded;
    /// past the bound every request is judged on its own.
    judged: HashMap<Vec<u8>, bool>,
    key: Vec<u8>,
}

/// Distinct requests remembered per route.
const MAX_JUDGED: usize = 10_000;

impl Usage {
    /// The usage of `policy`'s lists, none used yet.
    pub(crate) fn new(policy: &LoadedPolicy<'_>) -> Usage {
        let rules = OriginRules {
            allow_credentials: false,
            dangerously_allow_insecure_origins: true,
            dangerously_allow_public_suffix_wildcards: true,
        };
        let origins = strings(policy, Key::AllowOrigins)
            .into_iter()
            .filter_map(|entry| {
                let parsed = parse_origin_entry(&entry, rules).ok()?;
                Some((entry, parsed))
            })
            .collect();
        let plain = |key| {
            strings(policy, key)
                .into_iter()
                .map(|entry| (entry, ()))
                .collect()
        };
        Usage {
            policy: policy.route.cors().clone(),
            origins: List::new(origins),
            methods: List::new(plain(Key::AllowMethods)),
            headers: List::new(plain(Key::AllowHeaders)),
            no_longer_allowed: 0,
            judged: HashMap::new(),
            key: Vec::new(),
        }
    }

    /// Counts a request the log shows as allowed.
    pub(crate) fn allowed(&mut self, asked: Asked<'_>) {
        self.key.clear();
        for part in [Some(asked.origin), asked.method, asked.headers] {
            let part = part.unwrap_or_default();
            self.key
                .extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_le_bytes());
            self.key.extend_from_slice(part);
        }
        if let Some(allows) = self.judged.get(&self.key) {
            if !allows {
                self.no_longer_allowed += 1;
            }
            return;
        }
        let allows = self.judge(asked);
        if self.judged.len() < MAX_JUDGED {
            self.judged.insert(self.key.clone(), allows);
        }
    }

    /// Whether the folder's version allows `asked`; if so, marks what it needed.
    fn judge(&mut self, asked: Asked<'_>) -> bool {
        if asked.origin_cut {
            // Only its beginning is known: any origin entry might be the one.
            self.origins.mark_all();
        } else if !allows_origin(&self.policy, asked.origin) {
            self.no_longer_allowed += 1;
            return false;
        } else {
            self.origins.mark(|_, entry| covers(entry, asked.origin));
        }
        let Some(method) = asked.method else {
            return true;
        };
        let headers = if asked.headers_cut {
            None
        } else {
            asked.headers
        };
        if !asked.origin_cut && !preflight_allows(&self.policy, asked.origin, method, headers) {
            self.no_longer_allowed += 1;
            return false;
        }
        let listed = |list: &List<()>, name: &[u8], case_sensitive: bool| {
            list.entries.iter().any(|(entry, _)| {
                if case_sensitive {
                    entry.as_bytes() == name
                } else {
                    entry.as_bytes().eq_ignore_ascii_case(name)
                }
            })
        };
        let method_listed = listed(&self.methods, method, true);
        self.methods.mark(|entry, _| {
            entry.as_bytes() == method
                || (entry == "*" && !method_listed && !is_cors_safelisted_method(method))
        });
        if asked.headers_cut {
            self.headers.mark_all();
        } else {
            for name in header_names(asked.headers.unwrap_or_default()) {
                let name_listed = listed(&self.headers, name, false);
                self.headers.mark(|entry, _| {
                    entry.as_bytes().eq_ignore_ascii_case(name) || (entry == "*" && !name_listed)
                });
            }
        }
        true
    }
}

/// Whether `policy` allows `origin` at all.
fn allows_origin(policy: &CorsPolicy, origin: &[u8]) -> bool {
    matches!(
        policy.origins().judge(&[origin]),
        OriginVerdict::Allowed(_) | OriginVerdict::AnyOrigin
    )
}

/// Whether `policy` answers the preflight `origin`, `method`, `headers` with a grant.
fn preflight_allows(
    policy: &CorsPolicy,
    origin: &[u8],
    method: &[u8],
    headers: Option<&[u8]>,
) -> bool {
    let origin_lines = [origin];
    let method_lines = [method];
    let header_lines: Vec<&[u8]> = headers.into_iter().collect();
    let request = CorsRequest {
        method: b"OPTIONS",
        origin: &origin_lines,
        request_method: &method_lines,
        request_headers: &header_lines,
        ..CorsRequest::default()
    };
    preflight(policy, &request).result.is_ok()
}

/// Whether the origin `entry` covers the request origin `origin`.
pub(crate) fn covers(entry: &OriginEntry, origin: &[u8]) -> bool {
    match entry {
        OriginEntry::Any => true,
        OriginEntry::Exact(exact) => exact.as_bytes() == origin,
        OriginEntry::Pattern(pattern) => {
            RequestOrigin::parse(origin).is_some_and(|parsed| pattern.matches(&parsed))
        }
    }
}

/// Whether the folder's version of the route allows `origin`: a refused origin it allows is no
/// near miss (it was refused under another version, or beside a second `Origin` line).
pub(crate) fn folder_allows(usage: &Usage, origin: &[u8]) -> bool {
    allows_origin(&usage.policy, origin)
}

/// The names of an `Access-Control-Request-Headers` value, trimmed, empty ones left out.
fn header_names(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| *b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|name| !name.is_empty())
}

fn strings(policy: &LoadedPolicy<'_>, key: Key) -> Vec<String> {
    policy
        .document
        .strings(key)
        .map(|list| list.value.iter().map(|e| e.value.to_string()).collect())
        .unwrap_or_default()
}
