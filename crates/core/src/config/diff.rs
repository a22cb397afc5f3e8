//! What a policy change does to access, route by route: what is gained ([`Direction::Widens`]),
//! what is lost ([`Direction::Narrows`]), and what changes without granting or taking access
//! ([`Direction::Changes`]). Origins are reasoned about as sets: an entry of the new policy that
//! no entry of the old one covers is access gained (a wildcard that now covers more, `"*"`
//! introduced), and the other way round access lost. A policy review reads the widenings first.
//!
//! Routes are matched by name (the file stem): a route whose name is new was added, one whose
//! name is gone was removed, and a route whose `path` changed was moved.

use std::fmt;
use std::ops::Range;

use super::document::{Located, PolicyDocument};
use super::error::Location;
use super::load::LoadedPolicy;
use super::origin_rules::{parse_origin_entry, OriginEntry, OriginRules};
use super::schema::Key;
use crate::live::{LiveRule, WhenUnreadable};
use crate::method::is_cors_safelisted_method;
use crate::policy::{CorsPolicy, HeaderValues, PreflightMode};
use crate::request_headers::wildcard_covers;
use crate::request_origin::RequestOrigin;
use crate::route::{Route, RoutePath, Upstream};

/// Which way a change moves access. The order (widens, narrows, changes) is the order a
/// review reads them in, and the order [`RouteDiff::changes`] is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Access gained: another origin, method, header, credentials, a longer cache…
    Widens,
    /// Access lost.
    Narrows,
    /// A change that grants or takes no access by itself (timeouts, preflight mode…).
    Changes,
}

impl Direction {
    /// The word the CLI prints and its JSON output holds: `widens`, `narrows` or `changes`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Widens => "widens",
            Direction::Narrows => "narrows",
            Direction::Changes => "changes",
        }
    }
}

/// One difference, with the place in the policy file that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Whether it gains access, loses it, or neither.
    pub direction: Direction,
    /// The key whose value changed (`path` for a route added or removed).
    pub key: Key,
    /// One line for a reviewer: the old and new values, or what was added or removed.
    pub what: String,
    /// In the new file for what it gains or changes; in the old one for what was there before.
    pub at: Location,
}

/// Whether a route (matched by name) is on one side of the diff only, or on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteStatus {
    /// Only in the new policies: everything it allows is gained.
    Added,
    /// Only in the old policies: its paths now answer `404`.
    Removed,
    /// In both, with at least one difference (a `path` change included).
    Changed,
}

impl RouteStatus {
    /// The word the CLI prints and its JSON output holds: `added`, `removed` or `changed`.
    pub fn name(self) -> &'static str {
        match self {
            RouteStatus::Added => "added",
            RouteStatus::Removed => "removed",
            RouteStatus::Changed => "changed",
        }
    }
}

/// What changed for one route; routes without a change are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDiff {
    /// The route's name: its file stem.
    pub route: String,
    /// Whether it was added, removed or changed.
    pub status: RouteStatus,
    /// Widenings first, then narrowings, then other changes, each in file order.
    pub changes: Vec<Change>,
}

impl RouteDiff {
    /// Whether any change gains access: what a review must look at first.
    pub fn widens(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.direction == Direction::Widens)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.direction.name(), self.key, self.what)
    }
}

/// Every route whose access or behaviour differs between `old` and `new`, in route-name order.
pub fn diff(old: &[LoadedPolicy<'_>], new: &[LoadedPolicy<'_>]) -> Vec<RouteDiff> {
    let mut names: Vec<&str> = old
        .iter()
        .chain(new)
        .map(|p| p.source.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let before = old.iter().find(|p| p.source.name == name);
            let after = new.iter().find(|p| p.source.name == name);
            let (status, mut changes) = match (before, after) {
                (None, Some(after)) => (RouteStatus::Added, vec![added(after)]),
                (Some(before), None) => (RouteStatus::Removed, vec![removed(before)]),
                (Some(before), Some(after)) => (RouteStatus::Changed, compare(before, after)),
                (None, None) => unreachable!("the name comes from one side"),
            };
            changes.sort_by_key(|c| (c.direction, c.at.file.clone(), c.at.span.start));
            (!changes.is_empty()).then(|| RouteDiff {
                route: name.to_string(),
                status,
                changes,
            })
        })
        .collect()
}

fn at(policy: &LoadedPolicy<'_>, key: Key) -> Location {
    policy.document.location(policy.document.span_of(key))
}

fn change(direction: Direction, key: Key, at: Location, what: String) -> Change {
    Change {
        direction,
        key,
        what,
        at,
    }
}

fn added(policy: &LoadedPolicy<'_>) -> Change {
    let route = &policy.route;
    change(
        Direction::Widens,
        Key::Path,
        at(policy, Key::Path),
        format!(
            "new route {} → {}, for {}",
            route.path.display(),
            route.upstream.url(),
            origin_summary(policy)
        ),
    )
}

fn removed(policy: &LoadedPolicy<'_>) -> Change {
    let route = &policy.route;
    change(
        Direction::Narrows,
        Key::Path,
        at(policy, Key::Path),
        format!(
            "route {} → {} removed: its paths answer 404",
            route.path.display(),
            route.upstream.url()
        ),
    )
}

fn origin_summary(policy: &LoadedPolicy<'_>) -> String {
    let entries = origin_entries(policy, Key::AllowOrigins);
    let list: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
    let credentials = if policy.route.cors.allow_credentials {
        " with credentials"
    } else {
        ""
    };
    format!("{}{credentials}", list.join(", "))
}

/// What changed between two versions of a route. The route and its CORS policy are destructured
/// without `..`, so that a key added to either does not compile until it is compared here.
fn compare(old: &LoadedPolicy<'_>, new: &LoadedPolicy<'_>) -> Vec<Change> {
    let Route {
        name: _, // the two versions were paired by it
        path,
        upstream,
        strip_prefix,
        timeout_ms,
        cors,
        policy_id: _, // a hash of all the rest
    } = &old.route;
    let is = &new.route;
    let mut changes = Vec::new();
    moved(&mut changes, (old, new), (path, &is.path));
    redirected(&mut changes, new, (upstream, &is.upstream));
    setting(
        &mut changes,
        new,
        Key::StripPrefix,
        (strip_prefix, &is.strip_prefix),
        |was, is| format!("strip_prefix {was} → {is}"),
    );
    setting(
        &mut changes,
        new,
        Key::TimeoutMs,
        (timeout_ms, &is.timeout_ms),
        |was, is| format!("timeout {was} → {is} ms"),
    );
    cors_changes(&mut changes, (old, new), cors);
    changes
}

/// What changed in the `[cors]` table, `was` being the old version's.
fn cors_changes(
    changes: &mut Vec<Change>,
    sides: (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    was: &CorsPolicy,
) {
    let CorsPolicy {
        origins: _, // compared as the files write them, to point at each entry: `origins`
        methods: _, // compared as the files write them, to point at each name: `names`
        headers: _, // likewise
        allow_credentials,
        allow_private_network,
        preflight,
        report_only,
        values,
        live,
    } = was;
    let HeaderValues {
        allow_methods: _,  // computed from `methods`
        allow_headers: _,  // computed from `headers`
        expose_headers: _, // compared as the files write `expose_headers`: `names`
        max_age,
    } = values;
    let (old, new) = sides;
    let is = &new.route.cors;
    let every = |_: &str| true;
    origins(old, new, changes, Key::AllowOrigins);
    toggle(
        changes,
        sides,
        Key::AllowCredentials,
        (*allow_credentials, is.allow_credentials),
        "credentials (cookies, HTTP authentication) now allowed for every allowed origin",
        "credentials no longer allowed",
    );
    // Safelisted methods are allowed whatever the policy says
    // (https://fetch.spec.whatwg.org/#cors-safelisted-method): listing them changes nothing.
    names(changes, sides, Key::AllowMethods, "method", |m| {
        !is_cors_safelisted_method(m.as_bytes())
    });
    names(changes, sides, Key::AllowHeaders, "request header", every);
    names(changes, sides, Key::ExposeHeaders, "exposed header", every);
    let max_age_values = (max_age.as_deref(), is.max_age_value());
    self::max_age(changes, sides, max_age_values);
    toggle(
        changes,
        sides,
        Key::AllowPrivateNetwork,
        (*allow_private_network, is.allow_private_network),
        "private network access now allowed",
        "private network access no longer allowed",
    );
    setting(
        changes,
        new,
        Key::Preflight,
        (preflight, &is.preflight),
        |_, is| preflight_mode(*is).into(),
    );
    enforcement(changes, new, (*report_only, is.report_only));
    live_changes(changes, sides, (live.as_ref(), is.live()));
}

/// What changed in the `[live]` table: whether origins change at run time, how far (the
/// ceiling, compared as `allow_origins` is), and what applies while no list can be read.
fn live_changes(
    changes: &mut Vec<Change>,
    (old, new): (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    (was, is): (Option<&LiveRule>, Option<&LiveRule>),
) {
    match (was, is) {
        (None, None) => {}
        (None, Some(_)) => changes.push(change(
            Direction::Widens,
            Key::Ceiling,
            at(new, Key::Ceiling),
            format!(
                "origins now change at run time (`[live]`), up to the ceiling {}",
                entry_texts(new, Key::Ceiling)
            ),
        )),
        (Some(_), None) => changes.push(change(
            Direction::Narrows,
            Key::Ceiling,
            at(old, Key::Ceiling),
            "origins no longer change at run time: `allow_origins` apply".into(),
        )),
        (Some(was), Some(is)) => {
            origins(old, new, changes, Key::Ceiling);
            let (was, is) = (was.when_unreadable(), is.when_unreadable());
            if was != is {
                let (direction, what) = match is {
                    WhenUnreadable::Baseline => (
                        Direction::Widens,
                        "while no live list can be read, `allow_origins` now apply (was: no origin)",
                    ),
                    WhenUnreadable::Deny => (
                        Direction::Narrows,
                        "while no live list can be read, no origin is allowed (was: `allow_origins`)",
                    ),
                };
                changes.push(change(
                    direction,
                    Key::WhenUnreadable,
                    at(new, Key::WhenUnreadable),
                    what.into(),
                ));
            }
        }
    }
}

/// A list key's entries as the file writes them, each quoted.
fn entry_texts(policy: &LoadedPolicy<'_>, key: Key) -> String {
    let entries: Vec<String> = origin_entries(policy, key)
        .iter()
        .map(|e| format!("`{}`", e.text))
        .collect();
    entries.join(", ")
}

/// A changed `path` loses the old paths and gains the new ones.
fn moved(
    changes: &mut Vec<Change>,
    (old, new): (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    (was, is): (&RoutePath, &RoutePath),
) {
    if was != is {
        changes.push(change(
            Direction::Widens,
            Key::Path,
            at(new, Key::Path),
            format!("now answers at {}", is.display()),
        ));
        changes.push(change(
            Direction::Narrows,
            Key::Path,
            at(old, Key::Path),
            format!("no longer answers at {}", was.display()),
        ));
    }
}

/// Another upstream is reached by the same origins: access to it is gained.
fn redirected(
    changes: &mut Vec<Change>,
    new: &LoadedPolicy<'_>,
    (was, is): (&Upstream, &Upstream),
) {
    if was != is {
        changes.push(change(
            Direction::Widens,
            Key::Upstream,
            at(new, Key::Upstream),
            format!(
                "the allowed origins now reach {} (was {})",
                is.url(),
                was.url()
            ),
        ));
    }
}

/// A value that grants or takes no access by itself, described by `what(was, is)`.
fn setting<T: PartialEq>(
    changes: &mut Vec<Change>,
    new: &LoadedPolicy<'_>,
    key: Key,
    (was, is): (&T, &T),
    what: impl FnOnce(&T, &T) -> String,
) {
    if was != is {
        changes.push(change(Direction::Changes, key, at(new, key), what(was, is)));
    }
}

/// What the preflight mode now being `mode` means.
fn preflight_mode(mode: PreflightMode) -> &'static str {
    match mode {
        PreflightMode::Forward => {
            "preflights now go to the upstream (the gateway still sets the CORS headers)"
        }
        PreflightMode::Edge => "preflights are now answered at the edge",
    }
}

/// `report_only` on hands the CORS answers back to the upstream, which may grant anything: a
/// widening. Off, what the upstream granted is not known here, so it is only a change.
fn enforcement(changes: &mut Vec<Change>, new: &LoadedPolicy<'_>, (was, is): (bool, bool)) {
    if was != is {
        changes.push(if is {
            change(
                Direction::Widens,
                Key::ReportOnly,
                at(new, Key::ReportOnly),
                "report-only: the gateway stops enforcing this policy, and the upstream's own CORS answers reach browsers".into(),
            )
        } else {
            change(
                Direction::Changes,
                Key::ReportOnly,
                at(new, Key::ReportOnly),
                "enforced: the policy takes over from the upstream's own CORS answers".into(),
            )
        });
    }
}

/// A boolean that grants access when true.
fn toggle(
    changes: &mut Vec<Change>,
    (old, new): (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    key: Key,
    (was, is): (bool, bool),
    gained: &str,
    lost: &str,
) {
    if was != is {
        let (direction, what) = if is {
            (Direction::Widens, gained)
        } else {
            (Direction::Narrows, lost)
        };
        let place = if is { new } else { old };
        changes.push(change(direction, key, at(place, key), what.into()));
    }
}

/// One `allow_origins` or `ceiling` entry: what it allows, as written, and where.
struct OriginItem {
    entry: OriginEntry,
    text: String,
    span: Range<usize>,
}

fn origin_entries(policy: &LoadedPolicy<'_>, key: Key) -> Vec<OriginItem> {
    let doc: &PolicyDocument<'_> = &policy.document;
    let rules = OriginRules::of(doc);
    doc.strings(key)
        .map_or(&[][..], |l| l.value)
        .iter()
        .filter_map(|Located { value, span }| {
            // The policy was validated: every entry parses.
            let entry = parse_origin_entry(value, rules).ok()?;
            Some(OriginItem {
                entry,
                text: value.to_string(),
                span: span.clone(),
            })
        })
        .collect()
}

/// Whether every origin `b` allows is allowed by `a`.
fn covers(a: &OriginEntry, b: &OriginEntry) -> bool {
    match (a, b) {
        (OriginEntry::Any, _) => true,
        (_, OriginEntry::Any) => false,
        (OriginEntry::Exact(x), OriginEntry::Exact(y)) => x == y,
        (OriginEntry::Pattern(p), OriginEntry::Exact(y)) => {
            RequestOrigin::parse(y.as_bytes()).is_some_and(|origin| p.matches(&origin))
        }
        // A pattern allows infinitely many origins (every label or every port).
        (OriginEntry::Exact(_), OriginEntry::Pattern(_)) => false,
        (OriginEntry::Pattern(p), OriginEntry::Pattern(q)) => p.covers(q),
    }
}

/// What changed in an origin list, `allow_origins` or `ceiling` (which says so first).
fn origins(old: &LoadedPolicy<'_>, new: &LoadedPolicy<'_>, changes: &mut Vec<Change>, key: Key) {
    let (before, after) = (origin_entries(old, key), origin_entries(new, key));
    let credentialed_now = new.route.cors.allow_credentials;
    let list = match key {
        Key::Ceiling => "ceiling: ",
        _ => "",
    };
    for item in &after {
        if before.iter().any(|b| covers(&b.entry, &item.entry)) {
            continue;
        }
        let generalizes: Vec<&str> = before
            .iter()
            .filter(|b| covers(&item.entry, &b.entry))
            .map(|b| b.text.as_str())
            .collect();
        let mut what = match (&item.entry, generalizes.is_empty()) {
            (OriginEntry::Any, _) => "`\"*\"` introduced: every origin is now allowed".to_string(),
            (_, true) => format!("{list}`{}` now allowed", item.text),
            (_, false) => format!(
                "{list}`{}` now covers more than {} did",
                item.text,
                generalizes
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if credentialed_now {
            what.push_str(", with credentials");
        }
        changes.push(change(
            Direction::Widens,
            key,
            new.document.location(item.span.clone()),
            what,
        ));
    }
    for item in &before {
        if !after.iter().any(|a| covers(&a.entry, &item.entry)) {
            changes.push(change(
                Direction::Narrows,
                key,
                old.document.location(item.span.clone()),
                format!("{list}`{}` no longer allowed", item.text),
            ));
        }
    }
}

/// A list of names (`"*"` for any), as the policy file gives it or its default; names compared
/// case-insensitively unless they are methods.
struct NameList {
    any: bool,
    names: Vec<(String, Range<usize>)>,
}

fn name_list(policy: &LoadedPolicy<'_>, key: Key) -> NameList {
    let case_sensitive = key == Key::AllowMethods;
    let normal = |n: &str| {
        if case_sensitive {
            n.to_string()
        } else {
            n.to_ascii_lowercase()
        }
    };
    match policy.document.strings(key) {
        Some(list) => NameList {
            any: list.value.iter().any(|n| n.value == "*"),
            names: list
                .value
                .iter()
                .filter(|n| n.value != "*")
                .map(|n| (normal(&n.value), n.span.clone()))
                .collect(),
        },
        None => NameList {
            any: false,
            names: key
                .default_strings()
                .iter()
                .map(|n| (normal(n), 0..0))
                .collect(),
        },
    }
}

/// Whether `"*"` in the list `key` covers `name` (it never covers `Authorization` as a request
/// header).
fn covered_by_wildcard(key: Key, name: &str) -> bool {
    key != Key::AllowHeaders || wildcard_covers(name.as_bytes())
}

fn names(
    changes: &mut Vec<Change>,
    (old, new): (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    key: Key,
    kind: &str,
    counts: impl Fn(&str) -> bool,
) {
    let (before, after) = (name_list(old, key), name_list(new, key));
    if after.any && !before.any {
        let what = match key {
            Key::AllowHeaders => "any request header but Authorization (`\"*\"`)".to_string(),
            _ => format!("any {kind} (`\"*\"`)"),
        };
        changes.push(change(Direction::Widens, key, at(new, key), what));
    }
    if before.any && !after.any {
        changes.push(change(
            Direction::Narrows,
            key,
            at(old, key),
            format!("no longer any {kind}: only those listed"),
        ));
    }
    let listed = |list: &NameList, name: &str| list.names.iter().any(|(n, _)| n == name);
    for (name, span) in after.names.iter().filter(|(n, _)| counts(n)) {
        let covered_by_any = before.any && covered_by_wildcard(key, name);
        if !listed(&before, name) && !covered_by_any {
            changes.push(change(
                Direction::Widens,
                key,
                new.document.location(span.clone()),
                format!("{kind} `{name}` now allowed"),
            ));
        }
    }
    for (name, span) in before.names.iter().filter(|(n, _)| counts(n)) {
        let covered_by_any = after.any && covered_by_wildcard(key, name);
        if !listed(&after, name) && !covered_by_any {
            changes.push(change(
                Direction::Narrows,
                key,
                old.document.location(span.clone()),
                format!("{kind} `{name}` no longer allowed"),
            ));
        }
    }
}

fn max_age(
    changes: &mut Vec<Change>,
    (old, new): (&LoadedPolicy<'_>, &LoadedPolicy<'_>),
    (was, is): (Option<&str>, Option<&str>),
) {
    let seconds = |value: Option<&str>| -> Option<u32> { value.and_then(|v| v.parse().ok()) };
    let (before, after) = (seconds(was), seconds(is));
    let text = |s: Option<u32>| {
        s.map_or("no header (browser default)".to_string(), |s| {
            format!("{s} s")
        })
    };
    // Without the header browsers cache a preflight for 5 s (Fetch, "max-age").
    let effective = |s: Option<u32>| s.unwrap_or(5);
    if before != after {
        let direction = if effective(after) > effective(before) {
            Direction::Widens
        } else {
            Direction::Narrows
        };
        let place = if after.is_some() { new } else { old };
        changes.push(change(
            direction,
            Key::MaxAge,
            at(place, Key::MaxAge),
            format!(
                "preflight answers cached {} → {}",
                text(before),
                text(after)
            ),
        ));
    }
}
