//! What the audit counts while it reads: one pass over the lines, memory bounded whatever the
//! log's size (every map of values a request chose is capped, the rest counted as others).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use corsgate_core::access_log::record::{parse_line, parse_time, Field, LineProblem, Record};

/// Distinct values kept per map (origins, header lists...); a log with more (a scan, an
/// attack) counts the rest together.
const MAX_DISTINCT: usize = 10_000;

/// Points in a route's timeline before neighbouring buckets are merged (the width doubles).
const MAX_BUCKETS: usize = 240;

/// Counts per key, at most [`MAX_DISTINCT`] keys.
#[derive(Debug)]
pub(crate) struct Counter<K> {
    counts: HashMap<K, u64>,
    /// Counted after the map was full, for keys not in it.
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
    /// Counts `key`, made only when it is new.
    pub(crate) fn add<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> K)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(count) = self.counts.get_mut(key) {
            *count += 1;
        } else if self.counts.len() < MAX_DISTINCT {
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

    pub(crate) fn total(&self) -> u64 {
        self.counts.values().sum::<u64>() + self.others
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

/// What a request the log shows as allowed asked for: the origin, and for a preflight the
/// method and header names (lowercase, deduplicated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Use {
    pub(crate) origin: Vec<u8>,
    pub(crate) method: Option<Vec<u8>>,
    pub(crate) headers: Vec<Vec<u8>>,
}

impl Use {
    /// The key a use is counted under: each part length-prefixed, so a request's bytes cannot
    /// run one part into the next. Written into `key`, reused line after line: a use seen
    /// before costs no allocation.
    fn key(key: &mut Vec<u8>, origin: &[u8], method: Option<&[u8]>, headers: Option<&[u8]>) {
        key.clear();
        for part in [Some(origin), method, headers] {
            let part = part.unwrap_or_default();
            key.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_le_bytes());
            key.extend_from_slice(part);
        }
    }

    /// The use a key stands for.
    pub(crate) fn of_key(mut key: &[u8]) -> Use {
        let mut parts = [&[][..]; 3];
        for part in &mut parts {
            let len = key
                .get(..4)
                .map_or(0, |l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
            let end = (4 + len).min(key.len());
            *part = key.get(4..end).unwrap_or_default();
            key = &key[end..];
        }
        let [origin, method, headers] = parts;
        Use {
            origin: origin.to_vec(),
            method: (!method.is_empty()).then(|| method.to_vec()),
            headers: header_names(headers),
        }
    }
}

/// A policy version of a route as seen in the log.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Version {
    pub(crate) lines: u64,
    pub(crate) window: Window,
}

/// One route's counts.
#[derive(Debug, Default)]
pub(crate) struct RouteTally {
    pub(crate) lines: u64,
    pub(crate) preflights: u64,
    /// Preflights the gateway answered itself: upstream round trips saved.
    pub(crate) edge_preflights: u64,
    /// Actual requests with `Origin`.
    pub(crate) actual_cors: u64,
    pub(crate) allowed: u64,
    /// Refused requests by step (the log's reason), then origin.
    pub(crate) refusals: BTreeMap<String, Counter<Vec<u8>>>,
    /// Report-only lines on which the policy and the upstream disagree, by what each said.
    pub(crate) disagreements: Counter<String>,
    pub(crate) versions: Counter<String>,
    pub(crate) version_windows: HashMap<String, Window>,
    /// Requests the log shows as allowed, whatever the version, by [`Use::key`].
    pub(crate) uses: Counter<Vec<u8>>,
    /// The key being built for the line at hand.
    scratch: Vec<u8>,
    /// Granted actual requests that carried `Cookie` or `Authorization`.
    pub(crate) credentialed: u64,
    pub(crate) timeline: Timeline,
    /// Lines decided under the folder's own version of the route: the window that judges what
    /// is unused.
    pub(crate) current: Version,
}

/// Everything one pass over the logs counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) lines: u64,
    pub(crate) gateway_lines: u64,
    pub(crate) other_output: u64,
    pub(crate) too_long: u64,
    /// Lines that looked like the gateway's but were refused, by why.
    pub(crate) refused_lines: BTreeMap<String, u64>,
    /// The routes of the policy folder, by name, each with its folder version's id.
    pub(crate) routes: Vec<(String, String, RouteTally)>,
    /// Lines of routes the folder does not have.
    pub(crate) unknown_routes: Counter<String>,
    /// Lines with no route (`not_found`, `bad_path`, `policy_unavailable`), by decision.
    pub(crate) unrouted: Counter<String>,
    pub(crate) window: Window,
}

impl Tally {
    /// A tally for the folder's routes, as (name, policy id).
    pub(crate) fn new(routes: impl IntoIterator<Item = (String, String)>) -> Tally {
        Tally {
            routes: routes
                .into_iter()
                .map(|(name, id)| (name, id, RouteTally::default()))
                .collect(),
            ..Tally::default()
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
        let Some(route) = record.text(Field::Route) else {
            let decision = record.text(Field::Decision).unwrap_or("-");
            self.unrouted.add(decision, str::to_owned);
            return;
        };
        let Some((_, id, tally)) = self.routes.iter_mut().find(|(name, _, _)| name == route) else {
            self.unknown_routes.add(route, str::to_owned);
            return;
        };
        tally.record(record, id, time);
    }
}

impl RouteTally {
    fn record(&mut self, record: &Record<'_>, folder_id: &str, time: Option<u64>) {
        self.lines += 1;
        let version = record.text(Field::Policy).unwrap_or("unknown");
        self.versions.add(version, str::to_owned);
        if let Some(window) = self.version_windows.get_mut(version) {
            window.see(time);
        } else if self.version_windows.len() < MAX_DISTINCT {
            let mut window = Window::default();
            window.see(time);
            self.version_windows.insert(version.to_string(), window);
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
        if version == folder_id {
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
            self.disagreements.add(key.as_str(), str::to_owned);
        }
        // Allowed: as the log shows it, by the gateway's grant or, on a report-only route, the
        // policy's verdict.
        let allowed = decision == "allowed"
            || record.text(Field::Cors) == Some("granted")
            || (report_only && record.text(Field::Would) == Some("allow"));
        let refused = decision == "rejected"
            || record.text(Field::Cors) == Some("withheld")
            || (report_only && record.text(Field::Would) == Some("reject"));
        if let Some(time) = time {
            if allowed || refused {
                self.timeline.add(time, allowed);
            }
        }
        if allowed {
            self.allowed += 1;
            if record.text(Field::Credentials) == Some("yes") {
                self.credentialed += 1;
            }
            let asked = |field| preflight.then(|| record.get(field)).flatten();
            Use::key(
                &mut self.scratch,
                origin,
                asked(Field::RequestMethod),
                asked(Field::RequestHeaders),
            );
            self.uses.add(&self.scratch[..], <[u8]>::to_vec);
        } else if refused {
            let step = if report_only {
                format!(
                    "report-only: {}",
                    record.text(Field::WouldReason).unwrap_or("would reject")
                )
            } else if decision == "rejected" {
                record.text(Field::Reason).unwrap_or("rejected").to_string()
            } else {
                "origin not granted on an actual request".to_string()
            };
            self.refusals
                .entry(step)
                .or_default()
                .add(origin, <[u8]>::to_vec);
        }
    }
}

fn because(reason: Option<&str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

/// The names of an `Access-Control-Request-Headers` value: lowercase, sorted, deduplicated.
fn header_names(value: &[u8]) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = value
        .split(|b| *b == b',')
        .map(|name| name.trim_ascii().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}
