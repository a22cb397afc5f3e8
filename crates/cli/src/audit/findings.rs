//! What the counts mean against the policy folder: per route, the refusals with their near
//! misses, the allowances no request used, the versions seen. One model, which the text, JSON
//! and HTML outputs and `--suggest` all read.

use corsgate_core::config::origin_rules::{parse_origin_entry, OriginEntry, OriginRules};
use corsgate_core::config::schema::Key;
use corsgate_core::config::LoadedPolicy;
use corsgate_core::decision::{preflight, CorsRequest};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::origins::OriginVerdict;
use corsgate_core::request_origin::RequestOrigin;
use corsgate_core::CorsPolicy;

use super::near_miss::near_miss;
use super::tally::{Counter, RouteTally, Tally, Use, Window};

/// Refused origins listed per step; the rest are counted together.
const TOP_REFUSED: usize = 10;

/// The audit of a folder against a log.
#[derive(Debug)]
pub(crate) struct Audit {
    pub(crate) lines: u64,
    pub(crate) gateway_lines: u64,
    pub(crate) other_output: u64,
    pub(crate) too_long: u64,
    pub(crate) refused_lines: Vec<(String, u64)>,
    pub(crate) window: Window,
    pub(crate) routes: Vec<RouteAudit>,
    pub(crate) unknown_routes: Vec<(String, u64)>,
    pub(crate) unrouted: Vec<(String, u64)>,
}

/// One route's findings.
#[derive(Debug)]
pub(crate) struct RouteAudit {
    pub(crate) name: String,
    pub(crate) file: String,
    /// The id of the folder's version of the route.
    pub(crate) policy_id: String,
    pub(crate) lines: u64,
    pub(crate) preflights: u64,
    pub(crate) edge_preflights: u64,
    pub(crate) actual_cors: u64,
    pub(crate) allowed: u64,
    pub(crate) refusals: Vec<Refusal>,
    pub(crate) disagreements: Vec<(String, u64)>,
    pub(crate) versions: Vec<VersionSeen>,
    /// Lines under the folder's version and the time they cover: what "unused" is judged on.
    pub(crate) current_lines: u64,
    pub(crate) current_window: Window,
    /// Allowed in the log, but the folder's version would refuse them (a policy changed since).
    pub(crate) no_longer_allowed: u64,
    pub(crate) unused: Vec<Unused>,
    pub(crate) allow_credentials: bool,
    /// Granted requests that carried `Cookie` or `Authorization`.
    pub(crate) credentialed: u64,
    /// Bucket width and (start, allowed, refused) per bucket.
    pub(crate) timeline_width_ms: u64,
    pub(crate) timeline: Vec<(u64, u64, u64)>,
}

/// Refusals at one step.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) step: String,
    pub(crate) total: u64,
    pub(crate) origins: Vec<RefusedOrigin>,
    /// Refusals of origins not listed (beyond the top ones).
    pub(crate) others: u64,
}

/// A refused origin, with what it nearly matched.
#[derive(Debug)]
pub(crate) struct RefusedOrigin {
    pub(crate) origin: String,
    pub(crate) count: u64,
    pub(crate) near_miss: Option<NearMiss>,
}

/// An allowed origin a refused one differs from by a likely mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NearMiss {
    pub(crate) allowed: String,
    pub(crate) why: String,
    pub(crate) fix: String,
}

/// A policy version of the route seen in the log.
#[derive(Debug)]
pub(crate) struct VersionSeen {
    pub(crate) id: String,
    pub(crate) lines: u64,
    pub(crate) window: Window,
    pub(crate) is_folder: bool,
}

/// An entry of a list no request used in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unused {
    pub(crate) key: Key,
    pub(crate) entry: String,
    pub(crate) what: &'static str,
}

/// The findings of `tally` against `policies` (in the tally's route order).
pub(crate) fn audit(tally: Tally, policies: &[LoadedPolicy<'_>]) -> Audit {
    let routes = tally
        .routes
        .into_iter()
        .zip(policies)
        .map(|((name, id, route), policy)| route_audit(name, id, route, policy))
        .collect();
    Audit {
        lines: tally.lines,
        gateway_lines: tally.gateway_lines,
        other_output: tally.other_output,
        too_long: tally.too_long,
        refused_lines: tally.refused_lines.into_iter().collect(),
        window: tally.window,
        routes,
        unknown_routes: counted(&tally.unknown_routes),
        unrouted: counted(&tally.unrouted),
    }
}

impl Audit {
    /// The routes with lines, the busiest first, and the names of those without any: the order
    /// people read the report in.
    pub(crate) fn busy_and_quiet_routes(&self) -> (Vec<&RouteAudit>, Vec<&str>) {
        let mut busy: Vec<&RouteAudit> = self.routes.iter().filter(|r| r.lines > 0).collect();
        busy.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.name.cmp(&b.name)));
        let quiet = self
            .routes
            .iter()
            .filter(|r| r.lines == 0)
            .map(|r| r.name.as_str())
            .collect();
        (busy, quiet)
    }
}

fn counted(counter: &Counter<String>) -> Vec<(String, u64)> {
    counter
        .top()
        .into_iter()
        .map(|(k, c)| (k.clone(), c))
        .collect()
}

fn route_audit(
    name: String,
    policy_id: String,
    tally: RouteTally,
    policy: &LoadedPolicy<'_>,
) -> RouteAudit {
    let cors = policy.route.cors();
    let allowed_origins = origin_entries(policy);
    let refusals = tally
        .refusals
        .iter()
        .map(|(step, origins)| {
            let top = origins.top();
            let listed: Vec<RefusedOrigin> = top
                .iter()
                .take(TOP_REFUSED)
                .map(|(origin, count)| RefusedOrigin {
                    origin: shown(origin),
                    count: *count,
                    near_miss: near_miss(origin, &allowed_origins),
                })
                .collect();
            let listed_total: u64 = listed.iter().map(|o| o.count).sum();
            Refusal {
                step: step.clone(),
                total: origins.total(),
                origins: listed,
                others: origins.total() - listed_total,
            }
        })
        .collect();
    let uses: Vec<(Use, u64)> = tally
        .uses
        .top()
        .into_iter()
        .map(|(key, count)| (Use::of_key(key), count))
        .collect();
    let still_allowed: Vec<&Use> = uses
        .iter()
        .filter(|(used, _)| allows(cors, used))
        .map(|(used, _)| used)
        .collect();
    let no_longer_allowed: u64 = uses
        .iter()
        .filter(|(used, _)| !allows(cors, used))
        .map(|(_, count)| count)
        .sum();
    let unused = if tally.current.lines == 0 {
        Vec::new()
    } else {
        unused_entries(policy, &allowed_origins, &still_allowed)
    };
    let mut versions: Vec<VersionSeen> = tally
        .versions
        .top()
        .into_iter()
        .map(|(id, lines)| VersionSeen {
            id: id.clone(),
            lines,
            window: tally.version_windows.get(id).copied().unwrap_or_default(),
            is_folder: *id == policy_id,
        })
        .collect();
    versions.sort_by_key(|v| (v.window.first, v.id.clone()));
    RouteAudit {
        file: policy.source.file.clone(),
        name,
        policy_id,
        lines: tally.lines,
        preflights: tally.preflights,
        edge_preflights: tally.edge_preflights,
        actual_cors: tally.actual_cors,
        allowed: tally.allowed,
        refusals,
        disagreements: counted(&tally.disagreements),
        versions,
        current_lines: tally.current.lines,
        current_window: tally.current.window,
        no_longer_allowed,
        unused,
        allow_credentials: cors.allow_credentials(),
        credentialed: tally.credentialed,
        timeline_width_ms: tally.timeline.width_ms,
        timeline: tally
            .timeline
            .buckets
            .iter()
            .map(|(start, (a, r))| (*start, *a, *r))
            .collect(),
    }
}

/// Every `allow_origins` entry as written, read with the rules that accept any valid entry (the
/// folder was validated already; only the kind of each entry matters here).
pub(crate) fn origin_entries(policy: &LoadedPolicy<'_>) -> Vec<(String, OriginEntry)> {
    let rules = OriginRules {
        allow_credentials: false,
        dangerously_allow_insecure_origins: true,
        dangerously_allow_public_suffix_wildcards: true,
    };
    strings(policy, Key::AllowOrigins)
        .into_iter()
        .filter_map(|entry| {
            let parsed = parse_origin_entry(&entry, rules).ok()?;
            Some((entry, parsed))
        })
        .collect()
}

fn strings(policy: &LoadedPolicy<'_>, key: Key) -> Vec<String> {
    policy
        .document
        .strings(key)
        .map(|list| list.value.iter().map(|e| e.value.clone()).collect())
        .unwrap_or_default()
}

/// Whether the folder's policy still allows what the log shows allowed.
fn allows(policy: &CorsPolicy, used: &Use) -> bool {
    let origin = [&used.origin[..]];
    match &used.method {
        Some(method) => {
            let method_line = [&method[..]];
            let headers = used.headers.join(&b","[..]);
            let header_lines = [&headers[..]];
            let request = CorsRequest {
                method: b"OPTIONS",
                origin: &origin,
                request_method: &method_line,
                request_headers: if headers.is_empty() {
                    &[]
                } else {
                    &header_lines
                },
                ..CorsRequest::default()
            };
            preflight(policy, &request).result.is_ok()
        }
        None => matches!(
            policy.origins().judge(&origin),
            OriginVerdict::Allowed(_) | OriginVerdict::AnyOrigin
        ),
    }
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

/// The entries of the three lists no use in `uses` needed.
fn unused_entries(
    policy: &LoadedPolicy<'_>,
    origins: &[(String, OriginEntry)],
    uses: &[&Use],
) -> Vec<Unused> {
    let mut unused = Vec::new();
    for (entry, parsed) in origins {
        if !uses.iter().any(|u| covers(parsed, &u.origin)) {
            let what = match parsed {
                OriginEntry::Any => "any origin",
                OriginEntry::Exact(_) => "origin",
                OriginEntry::Pattern(_) => "origin pattern",
            };
            unused.push(Unused {
                key: Key::AllowOrigins,
                entry: entry.clone(),
                what,
            });
        }
    }
    let methods = strings(policy, Key::AllowMethods);
    for entry in &methods {
        // A safelisted method passes whether listed or not: listing it allows nothing more.
        if is_cors_safelisted_method(entry.as_bytes()) {
            continue;
        }
        let used = uses.iter().any(|u| {
            u.method.as_deref().is_some_and(|m| {
                if entry == "*" {
                    !is_cors_safelisted_method(m) && !methods.iter().any(|l| l.as_bytes() == m)
                } else {
                    m == entry.as_bytes()
                }
            })
        });
        if !used {
            unused.push(Unused {
                key: Key::AllowMethods,
                entry: entry.clone(),
                what: if entry == "*" { "any method" } else { "method" },
            });
        }
    }
    let headers = strings(policy, Key::AllowHeaders);
    for entry in &headers {
        let used = uses.iter().any(|u| {
            u.headers.iter().any(|h| {
                if entry == "*" {
                    !headers.iter().any(|l| l.as_bytes().eq_ignore_ascii_case(h))
                } else {
                    h.eq_ignore_ascii_case(entry.as_bytes())
                }
            })
        });
        if !used {
            unused.push(Unused {
                key: Key::AllowHeaders,
                entry: entry.clone(),
                what: if entry == "*" {
                    "any request header"
                } else {
                    "request header"
                },
            });
        }
    }
    unused
}

/// A request-supplied value for people: printable ASCII as is, other bytes as `\xNN`.
pub(crate) fn shown(value: &[u8]) -> String {
    let mut text = String::with_capacity(value.len());
    for &b in value {
        match b {
            b' '..=b'~' => text.push(char::from(b)),
            _ => text.push_str(&format!("\\x{b:02x}")),
        }
    }
    text
}
