//! Live origin lists: a route's allowed origins changed at run time, inside a ceiling reviewed
//! at build time.
//!
//! A route opts in with a `[live]` table ([`LiveRule`]): the `ceiling` of origins and patterns a
//! live list may allow (its baseline `allow_origins` must lie inside it) and what applies when
//! no list can be read (`when_unreadable`). Live data sets nothing but the allowed origins:
//! credentials, methods, headers, exposure and the upstream stay as built.
//!
//! The value a store holds is [`list`]: canonical JSON, read strictly and checked against the
//! deployed build's ceilings. [`state`] is what one instance keeps of it: the last list it
//! accepted, when to read again, and which problems it has already logged. The plan decides
//! with a [`LiveView`] of that state; nothing here does I/O.

pub mod list;
pub mod state;

use crate::origins::AllowedOrigins;
use crate::route::Route;

pub use list::{LiveList, LiveProblem};
pub use state::{LiveState, Refresh};

/// What a live route allows when no live list can be used: the store cannot be read, or what
/// it holds is refused, and this instance has accepted no list before. No default: an outage
/// policy is the route owner's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnreadable {
    /// No origin is allowed (fail closed).
    Deny,
    /// The route's own `allow_origins` apply, as in a build without live lists.
    Baseline,
}

impl WhenUnreadable {
    /// Every choice: the names the validator accepts and the JSON schema lists.
    pub const ALL: [WhenUnreadable; 2] = [WhenUnreadable::Deny, WhenUnreadable::Baseline];

    /// The choice's name in a policy file (`when_unreadable = "deny"`).
    pub fn name(self) -> &'static str {
        match self {
            WhenUnreadable::Deny => "deny",
            WhenUnreadable::Baseline => "baseline",
        }
    }

    /// The choice a policy file names (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<WhenUnreadable> {
        WhenUnreadable::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A route's `[live]` table, validated: the most a live list may allow, and the outage choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRule {
    /// Exact origins and patterns, never `*`; the baseline lies inside it.
    pub(crate) ceiling: AllowedOrigins,
    pub(crate) when_unreadable: WhenUnreadable,
}

impl LiveRule {
    /// A rule from its validated parts (the validator and generated code build them).
    pub const fn new(ceiling: AllowedOrigins, when_unreadable: WhenUnreadable) -> LiveRule {
        LiveRule {
            ceiling,
            when_unreadable,
        }
    }

    /// The most a live list may allow.
    pub fn ceiling(&self) -> &AllowedOrigins {
        &self.ceiling
    }

    /// What applies when no live list can be used.
    pub fn when_unreadable(&self) -> WhenUnreadable {
        self.when_unreadable
    }
}

/// How long an instance decides with the live list it read before it reads the store again:
/// the component's `CORSGATE_LIVE_TTL` setting, in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveTtl(u32);

impl LiveTtl {
    /// The environment variable that holds the setting, also read from the build's environment.
    pub const VARIABLE: &'static str = "CORSGATE_LIVE_TTL";

    /// 5 s: a published change reaches every warm instance within 5 s, and an instance reads
    /// its store at most once per 5 s (BENCHMARKS.md, "Live origin lists").
    pub const DEFAULT: LiveTtl = LiveTtl(5);

    /// The range accepted, in seconds.
    pub const RANGE: std::ops::RangeInclusive<u32> = 1..=300;

    /// The setting from the variable's value (`None`: unset, the default).
    pub fn from_setting(value: Option<&str>) -> Result<LiveTtl, String> {
        let Some(value) = value.map(str::trim) else {
            return Ok(LiveTtl::DEFAULT);
        };
        match value.parse::<u32>() {
            Ok(seconds) if LiveTtl::RANGE.contains(&seconds) => Ok(LiveTtl(seconds)),
            _ => Err(format!(
                "{}={value:?} is not a whole number of seconds from 1 to 300",
                LiveTtl::VARIABLE
            )),
        }
    }

    /// In milliseconds, as [`LiveState::claim`] takes it.
    pub fn millis(self) -> u64 {
        u64::from(self.0) * 1000
    }
}

/// Which origins a live route's decision used, as its log line names them (`live=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveUsed {
    /// The list of this generation.
    Generation(u64),
    /// The route's baseline `allow_origins`: nothing was published yet, or no list could be
    /// read and the route chose `when_unreadable = "baseline"`.
    Baseline,
    /// No origin: no list could be read and the route chose `when_unreadable = "deny"`.
    Denied,
}

/// The instance's live lists at the moment of a decision.
#[derive(Clone, Copy, Debug)]
pub struct LiveView<'l> {
    pub(crate) current: Current<'l>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Current<'l> {
    /// A list was accepted: the newest one.
    List(&'l LiveList),
    /// The store was read and holds no list: nothing was published.
    Unpublished,
    /// No list could be read or accepted, and none was before.
    Unreadable,
}

impl<'l> LiveView<'l> {
    /// Nothing published: every live route decides with its baseline. What a build or a tool
    /// that reads no store (the CLI's `explain`) sees.
    pub const UNPUBLISHED: LiveView<'static> = LiveView {
        current: Current::Unpublished,
    };

    /// The origins `route` allows now, and which ones they are (`None` for a route without
    /// `[live]`, which always uses its own).
    pub fn origins<'r>(&self, route: &'r Route) -> (&'r AllowedOrigins, Option<LiveUsed>)
    where
        'l: 'r,
    {
        let baseline = &route.cors.origins;
        let Some(rule) = &route.cors.live else {
            return (baseline, None);
        };
        match self.current {
            Current::List(list) => match list.origins(route.name()) {
                Some(origins) => (origins, Some(LiveUsed::Generation(list.generation()))),
                // An accepted list names every live route of the table it was checked with.
                None => (&EMPTY, Some(LiveUsed::Denied)),
            },
            Current::Unpublished => (baseline, Some(LiveUsed::Baseline)),
            Current::Unreadable => match rule.when_unreadable {
                WhenUnreadable::Baseline => (baseline, Some(LiveUsed::Baseline)),
                WhenUnreadable::Deny => (&EMPTY, Some(LiveUsed::Denied)),
            },
        }
    }
}

/// No origin at all.
static EMPTY: AllowedOrigins = AllowedOrigins::Listed {
    exact: crate::origin_set::OriginSet::EMPTY,
    patterns: crate::text::List::Borrowed(&[]),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_settings() {
        let cases: &[(&str, Option<&str>, Option<u64>)] = &[
            ("unset: the default", None, Some(5_000)),
            ("the least", Some("1"), Some(1_000)),
            ("the most", Some("300"), Some(300_000)),
            ("spaces around", Some(" 7 "), Some(7_000)),
            ("zero would read per request", Some("0"), None),
            ("over five minutes", Some("301"), None),
            ("a unit", Some("5s"), None),
            ("negative", Some("-5"), None),
        ];
        for (name, value, millis) in cases {
            let got = LiveTtl::from_setting(*value).ok().map(LiveTtl::millis);
            assert_eq!(got, *millis, "{name}");
        }
    }
}
