//! What one instance keeps of its live lists between requests: the list it accepted last (its
//! last-known-good), when the store was read last, whether a read is under way, and the
//! problems it logged since the store last answered without one, so each problem is logged
//! once per instance and not per request.
//!
//! The adapter owns the I/O and the clock: it asks [`LiveState::claim`] whether to read,
//! reads the store with a deadline, hands the result to [`LiveState::finish`] and logs the line
//! that returns, if any. Every request decides with [`LiveState::view`].

use super::list::{LiveList, LiveProblem};
use super::{Current, LiveView};
use crate::route::RouteTable;

/// The most distinct problem lines an instance remembers having logged: a store that keeps
/// failing in new ways cannot grow an instance's memory.
const MAX_REMEMBERED: usize = 16;

/// What a request does about the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The instance read the store less than a TTL ago: decide with what it has.
    Fresh,
    /// This request reads the store, then calls [`LiveState::finish`]; it was claimed, so no
    /// other request of the instance reads meanwhile.
    Claimed,
    /// Another request is reading the store: decide with what the instance has, unless that is
    /// nothing or too old ([`LiveState::wait_until`]), then wait for the read, which has a
    /// deadline.
    InFlight,
}

/// One instance's live lists: see the module doc.
#[derive(Debug, Default)]
pub struct LiveState {
    /// The newest list accepted: the last-known-good.
    list: Option<LiveList>,
    /// What the last read found when no list was ever accepted.
    without_list: Option<Current<'static>>,
    /// When the last read ended (the adapter's monotonic clock, in milliseconds).
    last_read_ms: Option<u64>,
    /// When the read under way began, if one is.
    reading_since_ms: Option<u64>,
    /// The problem lines logged since the last read without a problem (at most
    /// [`MAX_REMEMBERED`], the oldest forgotten first).
    logged: Vec<String>,
    /// Whether the read under way was already said to be overdue.
    overdue_said: bool,
}

impl LiveState {
    /// An instance's state before its first read.
    pub const fn new() -> LiveState {
        LiveState {
            list: None,
            without_list: None,
            last_read_ms: None,
            reading_since_ms: None,
            logged: Vec::new(),
            overdue_said: false,
        }
    }

    /// Whether the instance has never finished a read: it has nothing to decide with yet.
    pub fn is_cold(&self) -> bool {
        self.last_read_ms.is_none()
    }

    /// Whether this request reads the store: due when the last read ended `ttl_ms` or more
    /// before `now_ms` (or never happened) and no read is under way.
    pub fn claim(&mut self, now_ms: u64, ttl_ms: u64) -> Refresh {
        if self.reading_since_ms.is_some() {
            return Refresh::InFlight;
        }
        match self.last_read_ms {
            Some(last) if now_ms.saturating_sub(last) < ttl_ms => Refresh::Fresh,
            _ => {
                self.reading_since_ms = Some(now_ms);
                self.overdue_said = false;
                Refresh::Claimed
            }
        }
    }

    /// The claimed read will not finish: what ran it was dropped (a host cancels a request with
    /// everything it runs, as when its client goes away). The next request claims a read again.
    pub fn abandon(&mut self) {
        self.reading_since_ms = None;
    }

    /// Whether a read is under way.
    pub fn is_reading(&self) -> bool {
        self.reading_since_ms.is_some()
    }

    /// Until when a request at `now_ms` waits for the read under way: its deadline,
    /// `deadline_ms` after it began, when the instance has no list it read within twice the
    /// TTL (a cold instance, or one that sat idle), so that no decision uses an older list
    /// while the store answers in time. `None` when no read is under way, or when the
    /// instance's last read is recent enough to decide with meanwhile: under steady traffic a
    /// refresh keeps no request waiting. A read that failed counts as recent: while the store
    /// is down, requests decide with the last-known-good list at once.
    pub fn wait_until(&self, now_ms: u64, ttl_ms: u64, deadline_ms: u64) -> Option<u64> {
        let since = self.reading_since_ms?;
        let recent = self
            .last_read_ms
            .is_some_and(|last| now_ms.saturating_sub(last) < ttl_ms.saturating_mul(2));
        (!recent).then_some(since + deadline_ms)
    }

    /// The read under way has not answered within `deadline_ms` of its start by `now_ms`: what
    /// requests decide with meanwhile is said once (a cold instance applies each route's
    /// `when_unreadable` choice; a warm one keeps its list). The read itself goes on, and its
    /// result is taken when it comes ([`LiveState::finish`]): a store that is slow to reconnect
    /// finishes the read it was given rather than a new one per request.
    pub fn overdue(&mut self, now_ms: u64, deadline_ms: u64) -> Option<String> {
        let since = self.reading_since_ms?;
        if self.overdue_said || now_ms.saturating_sub(since) < deadline_ms {
            return None;
        }
        self.overdue_said = true;
        self.report(LiveProblem::Store(format!(
            "no answer within {deadline_ms} ms"
        )))
    }

    /// The result of a claimed read at `now_ms`: the value the store holds (`None`: no value
    /// under the key) or the store's error, checked against `table`. A value that is refused,
    /// and a store that cannot be read, leave the last-known-good in place (a list, or the
    /// knowledge that nothing was published). Returns the line to log when the read found a
    /// problem not logged since the store last answered without one.
    pub fn finish(
        &mut self,
        table: &RouteTable,
        read: Result<Option<&[u8]>, String>,
        now_ms: u64,
    ) -> Option<String> {
        self.reading_since_ms = None;
        self.last_read_ms = Some(now_ms);
        let problem = match read {
            Err(error) => Some(LiveProblem::Store(error)),
            Ok(None) => match &self.list {
                Some(_) => Some(LiveProblem::Gone),
                None => {
                    self.without_list = Some(Current::Unpublished);
                    None
                }
            },
            Ok(Some(value)) => match LiveList::accept(value, table) {
                Err(problem) => Some(problem),
                Ok(list) => self.take(list),
            },
        };
        let Some(problem) = problem else {
            self.logged.clear();
            return None;
        };
        // An instance that knows nothing was published keeps deciding with the baselines.
        if self.list.is_none() && !matches!(self.without_list, Some(Current::Unpublished)) {
            self.without_list = Some(Current::Unreadable);
        }
        self.report(problem)
    }

    /// The line for `problem`, unless it was logged since the store last answered without one.
    fn report(&mut self, problem: LiveProblem) -> Option<String> {
        let line = format!(
            "corsgate live: refused: {problem}; deciding with {}",
            self.fallback()
        );
        if self.logged.contains(&line) {
            return None;
        }
        if self.logged.len() == MAX_REMEMBERED {
            self.logged.remove(0);
        }
        self.logged.push(line.clone());
        Some(line)
    }

    /// Accepts `list` unless it would take the generation back or reuse one.
    fn take(&mut self, list: LiveList) -> Option<LiveProblem> {
        if let Some(accepted) = &self.list {
            if list.generation() < accepted.generation() {
                return Some(LiveProblem::GenerationBack {
                    list: list.generation(),
                    accepted: accepted.generation(),
                });
            }
            if list.generation() == accepted.generation() {
                return (list.content_sha256() != accepted.content_sha256())
                    .then_some(LiveProblem::GenerationReused(list.generation()));
            }
        }
        self.list = Some(list);
        None
    }

    /// What requests decide with while a problem lasts, as the problem line says it.
    fn fallback(&self) -> String {
        match (&self.list, &self.without_list) {
            (Some(list), _) => format!("generation {}, the last list accepted", list.generation()),
            (None, Some(Current::Unpublished)) => {
                "the baselines (the store held no list when last read)".into()
            }
            _ => "each live route's `when_unreadable` choice (no list accepted yet)".into(),
        }
    }

    /// What requests decide with now.
    pub fn view(&self) -> LiveView<'_> {
        let current = match (&self.list, self.without_list) {
            (Some(list), _) => Current::List(list),
            (None, Some(current)) => current,
            // Before the first read ends (a cold instance's requests wait for it).
            (None, None) => Current::Unreadable,
        };
        LiveView { current }
    }
}
