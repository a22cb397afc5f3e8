//! What the audit counts while it reads: one pass over the lines, memory bounded whatever the
//! log's size. Every value a request chose (an origin, a refusal's reason) is kept only while
//! the audit's [`Budget`] of distinct values lasts, the rest counted together as others; which
//! allowances were used is one flag per policy entry ([`Usage`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use corsgate_core::access_log::record::{parse_line, parse_time, Field, LineProblem, Record};
use corsgate_core::config::LoadedPolicy;

use super::usage::{Asked, Usage};

/// Distinct values kept across the whole audit (every route's refused origins, reasons,
/// versions...): a value is at most a few hundred bytes (the gateway caps request values at
/// 256), so this bounds them to tens of MiB, however many made-up origins a scan sent.
pub(crate) const BUDGET: usize = 200_000;

/// Points in a route's timeline before neighbouring buckets are merged (the width doubles).
const MAX_BUCKETS: usize = 240;

/// The distinct values the audit may still keep.
#[derive(Debug)]
pub(crate) struct Budget(usize);

impl Default for Budget {
    fn default() -> Self {
        Budget(BUDGET)
    }
}

impl Budget {
    fn take(&mut self) -> bool {
        let left = self.0 > 0;
        self.0 = self.0.saturating_sub(1);
        left
    }
}

/// Counts per key, while the budget lasts.
#[derive(Debug)]
pub(crate) struct Counter<K> {
    counts: HashMap<K, u64>,
    /// Counted after the budget ran out, for keys not kept.
    pub(crate) others: u64,
}

impl<K> Default for Counter<K> {
    fn default() -> Self {
        Counter {
            counts: HashMap::new(),
            others: 0,
        }
    }
}

impl<K: Hash + Eq> Counter<K> {
    /// Counts `key`, made only when it is new and the budget has room.
    pub(crate) fn add<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> K, budget: &mut Budget)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(count) = self.counts.get_mut(key) {
            *count += 1;
        } else if budget.take() {
            self.counts.insert(make(key), 1);
        } else {
            self.others += 1;
        }
    }

    /// Every key with its count, the largest first (ties in key order, for stable reports).
    pub(crate) fn top(&self) -> Vec<(&K, u64)>
    where
        K: Ord,
    {
        let mut all: Vec<(&K, u64)> = self.counts.iter().map(|(k, c)| (k, *c)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        all
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<u64>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.counts.get(key).copied()
    }
}

/// The first and last time seen.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Window {
    pub(crate) first: Option<u64>,
    pub(crate) last: Option<u64>,
}

impl Window {
    fn see(&mut self, time: Option<u64>) {
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// From the first to the last time, in milliseconds.
    pub(crate) fn span_ms(&self) -> u64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) => last - first,
            _ => 0,
        }
    }
}

/// Allowed and refused CORS requests over time, in buckets whose width doubles as the log
/// grows, so the timeline stays [`MAX_BUCKETS`] points long.
#[derive(Debug)]
pub(crate) struct Timeline {
    pub(crate) width_ms: u64,
    /// Bucket start → (allowed, refused).
    pub(crate) buckets: BTreeMap<u64, (u64, u64)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width_ms: 1000,
            buckets: BTreeMap::new(),
        }
    }
}

impl Timeline {
    fn add(&mut self, time: u64, allowed: bool) {
        let bucket = self.buckets.entry(time - time % self.width_ms).or_default();
        if allowed {
            bucket.0 += 1;
        } else {
            bucket.1 += 1;
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.width_ms *= 2;
            let old = std::mem::take(&mut self.buckets);
            for (start, (a, r)) in old {
                let merged = self
                    .buckets
                    .entry(start - start % self.width_ms)
                    .or_default();
                merged.0 += a;
                merged.1 += r;
            }
        }
    }
}

/// The lines of a route decided under the folder's own version: what judges "unused".
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Current {
    /// CORS requests of the version, allowed or not.
    pub(crate) lines: u64,
    /// Those allowed: what `--min-requests` counts (a scanner's refusals say nothing of what
    /// pages use).
    pub(crate) allowed: u64,
    pub(crate) window: Window,
}

/// One route's counts.
#[derive(Debug)]
pub(crate) struct RouteTally {
    pub(crate) lines: u64,
    pub(crate) preflights: u64,
    /// Preflights the gateway answered itself: upstream round trips saved.
    pub(crate) edge_preflights: u64,
    /// Actual requests with `Origin`.
    pub(crate) actual_cors: u64,
    pub(crate) allowed: u64,
    /// Refused requests by step (the log's reason), then origin.
    pub(crate) refusals: Counter<String>,
    pub(crate) refused_origins: HashMap<String, Counter<Vec<u8>>>,
    /// Report-only lines on which the policy and the upstream disagree, by what each said.
    pub(crate) disagreements: Counter<String>,
    pub(crate) versions: Counter<String>,
    pub(crate) version_windows: HashMap<String, Window>,
    /// Which allowances the allowed requests needed.
    pub(crate) usage: Usage,
    /// Granted actual requests that carried `Cookie`.
    pub(crate) credentialed: u64,
    pub(crate) timeline: Timeline,
    pub(crate) current: Current,
}

/// Everything one pass over the logs counted.
#[derive(Debug)]
pub(crate) struct Tally {
    pub(crate) lines: u64,
    pub(crate) gateway_lines: u64,
    pub(crate) other_output: u64,
    pub(crate) too_long: u64,
    /// Lines that looked like the gateway's but were refused, by why (the reader's own words:
    /// a fixed set).
    pub(crate) refused_lines: BTreeMap<String, u64>,
    /// The routes of the policy folder, by name, each with its folder version's id.
    pub(crate) routes: Vec<(String, String, RouteTally)>,
    /// Lines of routes the folder does not have.
    pub(crate) unknown_routes: Counter<String>,
    /// Lines with no route (`not_found`, `bad_path`, `policy_unavailable`), by decision.
    pub(crate) unrouted: Counter<String>,
    pub(crate) window: Window,
    budget: Budget,
}

impl Tally {
    /// A tally for the folder's routes.
    pub(crate) fn new(policies: &[LoadedPolicy<'_>]) -> Tally {
        Tally {
            lines: 0,
            gateway_lines: 0,
            other_output: 0,
            too_long: 0,
            refused_lines: BTreeMap::new(),
            routes: policies
                .iter()
                .map(|p| {
                    (
                        p.route.name().to_string(),
                        p.route.policy_id().to_string(),
                        RouteTally::new(p),
                    )
                })
                .collect(),
            unknown_routes: Counter::default(),
            unrouted: Counter::default(),
            window: Window::default(),
            budget: Budget::default(),
        }
    }

    /// Counts a line skipped for its length.
    pub(crate) fn too_long(&mut self) {
        self.lines += 1;
        self.too_long += 1;
    }

    /// Counts one line of a log.
    pub(crate) fn line(&mut self, text: &[u8]) {
        self.lines += 1;
        match parse_line(text) {
            Ok(None) => self.other_output += 1,
            Ok(Some(record)) => {
                self.gateway_lines += 1;
                self.record(&record);
            }
            Err(problem) => {
                let why = match problem {
                    LineProblem::Malformed(why) => why.to_string(),
                    LineProblem::DuplicateField(key) => {
                        format!("field `{key}` twice (a forged field)")
                    }
                };
                *self.refused_lines.entry(why).or_default() += 1;
            }
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        let time = record.get(Field::Time).and_then(parse_time);
        self.window.see(time);
        let budget = &mut self.budget;
        let Some(route) = record.text(Field::Route) else {
            let decision = record.text(Field::Decision).unwrap_or("-");
            self.unrouted.add(decision, str::to_owned, budget);
            return;
        };
        let Some((_, id, tally)) = self.routes.iter_mut().find(|(name, _, _)| name == route) else {
            self.unknown_routes.add(route, str::to_owned, budget);
            return;
        };
        tally.record(record, id, time, budget);
    }
}

impl RouteTally {
    fn new(policy: &LoadedPolicy<'_>) -> RouteTally {
        RouteTally {
            lines: 0,
            preflights: 0,
            edge_preflights: 0,
            actual_cors: 0,
            allowed: 0,
            refusals: Counter::default(),
            refused_origins: HashMap::new(),
            disagreements: Counter::default(),
            versions: Counter::default(),
            version_windows: HashMap::new(),
            usage: Usage::new(policy),
            credentialed: 0,
            timeline: Timeline::default(),
            current: Current::default(),
        }
    }

    fn record(
        &mut self,
        record: &Record<'_>,
        folder_id: &str,
        time: Option<u64>,
        budget: &mut Budget,
    ) {
        self.lines += 1;
        let policy = record.text(Field::Policy).unwrap_or("unknown");
        // A live route's version is its policy and the live list it decided with.
        let with_live;
        let version = match record.text(Field::Live) {
            Some(live) => {
                with_live = format!("{policy} live={live}");
                with_live.as_str()
            }
            None => policy,
        };
        self.versions.add(version, str::to_owned, budget);
        if self.versions.get(version).is_some() {
            self.version_windows
                .entry(version.to_string())
                .or_default()
                .see(time);
        }
        let origin = record.get(Field::Origin);
        let preflight = record.text(Field::Kind) == Some("preflight");
        let decision = record.text(Field::Decision).unwrap_or("-");
        if preflight {
            self.preflights += 1;
            if matches!(decision, "allowed" | "rejected") {
                self.edge_preflights += 1;
            }
        } else if origin.is_some() {
            self.actual_cors += 1;
        }
        let Some(origin) = origin else {
            return;
        };
        let current = policy == folder_id;
        if current {
            self.current.lines += 1;
            self.current.window.see(time);
        }
        let report_only = record.text(Field::ReportOnly) == Some("true");
        if report_only && record.text(Field::Agrees) == Some("no") {
            let key = format!(
                "policy would {}{}, upstream did {}{}",
                record.text(Field::Would).unwrap_or("?"),
                because(record.text(Field::WouldReason)),
                record.text(Field::Upstream).unwrap_or("?"),
                because(record.text(Field::UpstreamReason)),
            );
            self.disagreements.add(key.as_str(), str::to_owned, budget);
        }
        // Allowed: as the log shows it, by the gateway's answer or grant or, on a report-only
        // route, by the policy's verdict.
        let cors = record.text(Field::Cors);
        let would = record.text(Field::Would);
        let allowed = decision == "allowed"
            || cors == Some("granted")
            || (report_only && would == Some("allow"));
        let refused = decision == "rejected"
            || cors == Some("withheld")
            || (report_only && would == Some("reject"));
        if let Some(time) = time {
            if allowed || refused {
                self.timeline.add(time, allowed);
            }
        }
        if allowed {
            self.allowed += 1;
            if current {
                self.current.allowed += 1;
            }
            if record.text(Field::Credentials) == Some("yes") {
                self.credentialed += 1;
            }
            let asked = |field| preflight.then(|| record.get(field)).flatten();
            self.usage.allowed(Asked {
                origin,
                origin_cut: record.is_cut(Field::Origin),
                method: asked(Field::RequestMethod),
                headers: asked(Field::RequestHeaders),
                headers_cut: record.is_cut(Field::RequestHeaders),
            });
        } else if refused {
            let step = if report_only {
                format!(
                    "report-only: {}",
                    record.text(Field::WouldReason).unwrap_or("would reject")
                )
            } else if decision == "rejected" {
                record.text(Field::Reason).unwrap_or("rejected").to_string()
            } else if preflight {
                "preflight not granted (forwarded)".to_string()
            } else {
                "origin not granted on an actual request".to_string()
            };
            self.refusals.add(step.as_str(), str::to_owned, budget);
            if self.refusals.get(step.as_str()).is_some() {
                self.refused_origins
                    .entry(step)
                    .or_default()
                    .add(origin, <[u8]>::to_vec, budget);
            }
        }
    }
}

fn because(reason: Option<&str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use corsgate_core::config::{load_policies, PolicySource};

    use super::*;

    /// A preflight's line as the gateway writes it.
    fn preflight(origin: &str, decision: &str, method: &str, headers: &str, extra: &str) -> String {
        format!("corsgate route=api kind=preflight method=OPTIONS path=/api/x origin={origin} decision={decision} status=204 upstream_status=- duration_ms=0.100 policy=p request_method={method} request_headers={headers}{extra}")
    }

    #[test]
    fn what_allowed_requests_used() {
        const EDGE: &str = "[route]\npath = \"/api/...\"\nupstream = \"https://api.example.com\"\n[cors]\nallow_origins = [\"https://a.example\", \"https://*.p.example\"]\nallow_methods = [\"PUT\", \"DELETE\"]\nallow_headers = [\"x-a\", \"x-b\"]\n";
        let forward = format!("{EDGE}preflight = \"forward\"\n");
        let cut_headers = format!("\"{}...\"", "x-a,".repeat(64));
        struct Case {
            name: &'static str,
            policy: String,
            lines: Vec<String>,
            /// The entries left unused.
            unused: &'static [&'static str],
            no_longer_allowed: u64,
        }
        let cases = [
            Case {
                name: "an allowed edge preflight uses its origin, method and headers",
                policy: EDGE.into(),
                lines: vec![preflight("https://a.example", "allowed", "PUT", "X-A", "")],
                unused: &["https://*.p.example", "DELETE", "x-b"],
                no_longer_allowed: 0,
            },
            Case {
                name: "a forwarded preflight the gateway granted uses them too",
                policy: forward.clone(),
                lines: vec![preflight(
                    "https://q.p.example",
                    "forwarded",
                    "DELETE",
                    "x-b",
                    " cors=granted",
                )],
                unused: &["https://a.example", "PUT", "x-a"],
                no_longer_allowed: 0,
            },
            Case {
                name: "a forwarded preflight withheld uses nothing",
                policy: forward,
                lines: vec![preflight(
                    "https://a.example",
                    "forwarded",
                    "PUT",
                    "x-a",
                    " cors=withheld",
                )],
                unused: &[
                    "https://a.example",
                    "https://*.p.example",
                    "PUT",
                    "DELETE",
                    "x-a",
                    "x-b",
                ],
                no_longer_allowed: 0,
            },
            Case {
                name: "a header list the gateway cut keeps every header",
                policy: EDGE.into(),
                lines: vec![preflight(
                    "https://a.example",
                    "allowed",
                    "PUT",
                    &cut_headers,
                    "",
                )],
                unused: &["https://*.p.example", "DELETE"],
                no_longer_allowed: 0,
            },
            Case {
                name: "more distinct requests than remembered are still judged",
                policy: EDGE.into(),
                lines: (0..=MAX_JUDGED_FOR_TEST)
                    .map(|i| {
                        let padded =
                            format!("\"{}x-a{}\"", " ".repeat(i / 100), " ".repeat(i % 100));
                        preflight("https://a.example", "allowed", "PUT", &padded, "")
                    })
                    .chain([preflight(
                        "https://a.example",
                        "allowed",
                        "DELETE",
                        "x-b",
                        "",
                    )])
                    .collect(),
                unused: &["https://*.p.example"],
                no_longer_allowed: 0,
            },
            Case {
                name:
                    "allowed under another version, refused by the folder's: counted, uses nothing",
                policy: EDGE.into(),
                lines: vec![preflight(
                    "https://gone.example",
                    "allowed",
                    "PUT",
                    "x-a",
                    "",
                )],
                unused: &[
                    "https://a.example",
                    "https://*.p.example",
                    "PUT",
                    "DELETE",
                    "x-a",
                    "x-b",
                ],
                no_longer_allowed: 1,
            },
        ];
        for case in cases {
            let sources = [PolicySource {
                name: "api".into(),
                file: "api.toml".into(),
                text: case.policy.clone(),
            }];
            let policies = load_policies(&sources).expect("valid policy");
            let mut tally = Tally::new(&policies);
            for line in &case.lines {
                tally.line(line.as_bytes());
            }
            assert_eq!(tally.refused_lines, BTreeMap::new(), "{}", case.name);
            let usage = &tally.routes[0].2.usage;
            let unused: Vec<&str> = usage
                .origins
                .unused()
                .map(|(e, _)| e.as_str())
                .chain(usage.methods.unused().map(|(e, _)| e.as_str()))
                .chain(usage.headers.unused().map(|(e, _)| e.as_str()))
                .collect();
            assert_eq!(unused, case.unused, "{}", case.name);
            assert_eq!(
                usage.no_longer_allowed, case.no_longer_allowed,
                "{}",
                case.name
            );
        }
    }

    /// More than the distinct requests a route remembers.
    const MAX_JUDGED_FOR_TEST: usize = 10_001;
}
