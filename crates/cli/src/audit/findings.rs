//! What the counts mean against the policy folder: per route, the refusals with their near
//! misses, the allowances no request used, the versions seen. One model, which the text, JSON
//! and HTML outputs and `--suggest` all read.

use corsgate_core::config::origin_rules::OriginEntry;
use corsgate_core::config::schema::Key;
use corsgate_core::config::LoadedPolicy;
use corsgate_core::method::is_cors_safelisted_method;

use super::near_miss::near_miss;
use super::tally::{Counter, RouteTally, Tally, Window};
use super::usage::{folder_allows, Usage};

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
    /// CORS requests under the folder's version, those allowed, and the time they cover: what
    /// "unused" is judged on.
    pub(crate) current_lines: u64,
    pub(crate) current_allowed: u64,
    pub(crate) current_window: Window,
    /// Allowed in the log, but the folder's version would refuse them (a policy changed since).
    pub(crate) no_longer_allowed: u64,
    pub(crate) unused: Vec<Unused>,
    pub(crate) allow_credentials: bool,
    /// Granted requests that carried `Cookie`.
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
    let usage = &tally.usage;
    let mut steps = tally.refusals.top();
    steps.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut refusals: Vec<Refusal> = steps
        .into_iter()
        .map(|(step, total)| {
            let origins = tally.refused_origins.get(step);
            let listed: Vec<RefusedOrigin> = origins
                .map(Counter::top)
                .unwrap_or_default()
                .into_iter()
                .take(TOP_REFUSED)
                .map(|(origin, count)| RefusedOrigin {
                    origin: shown(origin),
                    count,
                    near_miss: (!folder_allows(usage, origin))
                        .then(|| near_miss(origin, &usage.origins.entries))
                        .flatten(),
                })
                .collect();
            let listed_total: u64 = listed.iter().map(|o| o.count).sum();
            Refusal {
                step: step.clone(),
                total,
                origins: listed,
                others: total - listed_total,
            }
        })
        .collect();
    if tally.refusals.others > 0 {
        refusals.push(Refusal {
            step: "other steps".into(),
            total: tally.refusals.others,
            origins: Vec::new(),
            others: tally.refusals.others,
        });
    }
    let unused = if tally.current.lines == 0 {
        Vec::new()
    } else {
        unused_entries(usage)
    };
    let mut versions: Vec<VersionSeen> = tally
        .versions
        .top()
        .into_iter()
        .map(|(id, lines)| VersionSeen {
            id: id.clone(),
            lines,
            window: tally.version_windows.get(id).copied().unwrap_or_default(),
            // A live route's version is `<policy id> live=<generation>` (`tally`).
            is_folder: id.split(' ').next() == Some(policy_id.as_str()),
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
        current_allowed: tally.current.allowed,
        current_window: tally.current.window,
        no_longer_allowed: usage.no_longer_allowed,
        unused,
        allow_credentials: policy.route.cors().allow_credentials(),
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

/// The entries of the three lists no allowed request needed. A safelisted method in
/// `allow_methods` passes whether listed or not: listing it allows nothing more, so it is not
/// reported.
fn unused_entries(usage: &Usage) -> Vec<Unused> {
    let origins = usage.origins.unused().map(|(entry, parsed)| Unused {
        key: Key::AllowOrigins,
        entry: entry.clone(),
        what: match parsed {
            OriginEntry::Any => "any origin",
            OriginEntry::Exact(_) => "origin",
            OriginEntry::Pattern(_) => "origin pattern",
        },
    });
    let methods = usage
        .methods
        .unused()
        .filter(|(entry, _)| !is_cors_safelisted_method(entry.as_bytes()))
        .map(|(entry, _)| Unused {
            key: Key::AllowMethods,
            entry: entry.clone(),
            what: if entry == "*" { "any method" } else { "method" },
        });
    let headers = usage.headers.unused().map(|(entry, _)| Unused {
        key: Key::AllowHeaders,
        entry: entry.clone(),
        what: if entry == "*" {
            "any request header"
        } else {
            "request header"
        },
    });
    origins.chain(methods).chain(headers).collect()
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
