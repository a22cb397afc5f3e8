//! Live origin lists on a WASIp3 instance: the instance's [`LiveState`] (the engine's: the
//! last-known-good list, one read per TTL and at a time, each problem logged once), filled from
//! a [`LiveStore`] with a deadline. An instance whose route table has no `[live]` route never
//! reads anything.
//!
//! Only requests on a live route read the store or wait for it ([`read_for`]): a preflight
//! before it is planned, a forwarded request while its upstream (or the app) answers, since its
//! decision only sets the response's CORS headers. The one that finds the list due (older than
//! the TTL, or none yet) reads the store itself, for [`READ_DEADLINE_MS`] at most, and decides
//! with what it read. The requests in flight meanwhile go on with the list the instance has,
//! unless it has none or read it more than twice the TTL ago (it sat idle): then they wait for
//! that read too. So while the store answers in time, no request is decided with a list read
//! more than twice the TTL before it arrived, however long the instance sat idle. A read that
//! takes longer goes on in a task of its own while requests decide with the last-known-good list
//! (a cold instance: each live route's `when_unreadable` choice, until a list is accepted).

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;

use corsgate_core::live::{list::MAX_VALUE_BYTES, LiveState, LiveView, Refresh};
use corsgate_core::settings::Settings;
use corsgate_core::{takes_live_origins, Exchange, RequestKind, RouteTable};
use futures::future::{join, select, Either};
use wasip2::filesystem::types::ErrorCode;
use wasip3::clocks::monotonic_clock;

use crate::instance::write;
use crate::mount;
use crate::task::spawn;

/// The longest a request waits for the store (see the module doc). Spin's
/// Redis store does not fail while Redis is down, it waits (a request was seen waiting 123 s);
/// a request must not. A loopback or same-region store answers in a few milliseconds.
pub const READ_DEADLINE_MS: u64 = 250;

/// Where an instance reads its live origin list.
pub trait LiveStore: 'static {
    /// The value under the list's key, `None` when there is none, or the store's error.
    fn read(&self) -> impl Future<Output = Result<Option<Vec<u8>>, String>>;
}

/// The file channel, for `wasmtime serve` (whose key-value store is a per-open copy of a
/// start-up preset, shared with nobody): [`LiveFile::NAME`] in the folder mounted at
/// [`LiveFile::MOUNT`] with `--dir`, which the host passes through to its file system, so a file
/// replaced by `corsgate live publish --file` (write, then rename) is read as it is now.
#[derive(Clone, Copy, Debug)]
pub struct LiveFile;

impl LiveFile {
    /// Where the folder that holds the list is mounted.
    pub const MOUNT: &'static str = "/corsgate/live";
    /// The file's name in the folder.
    pub const NAME: &'static str = "origins.json";
}

impl LiveStore for LiveFile {
    async fn read(&self) -> Result<Option<Vec<u8>>, String> {
        let folder = mount::open_folder(LiveFile::MOUNT).map_err(|problem| match problem {
            mount::OpenProblem::NotMounted => format!(
                "nothing is mounted at {} (wasmtime serve: `--dir <folder>::{}`)",
                LiveFile::MOUNT,
                LiveFile::MOUNT
            ),
            mount::OpenProblem::Io(e) => format!("{}: {}", LiveFile::MOUNT, e.name()),
        })?;
        match mount::read_file(&folder, LiveFile::NAME, MAX_VALUE_BYTES as u64) {
            Ok(Some(bytes)) => Ok(Some(bytes)),
            Ok(None) => Err(format!(
                "{}/{}: larger than {MAX_VALUE_BYTES} bytes, the most a list may be",
                LiveFile::MOUNT,
                LiveFile::NAME
            )),
            Err(ErrorCode::NoEntry) => Ok(None),
            Err(e) => Err(format!(
                "{}/{}: {}",
                LiveFile::MOUNT,
                LiveFile::NAME,
                e.name()
            )),
        }
    }
}

std::thread_local! {
    /// The instance's live lists (a WASIp3 instance runs on one thread; its requests interleave
    /// only at awaits, and no borrow is held across one).
    static STATE: RefCell<LiveState> = const { RefCell::new(LiveState::new()) };
}

/// Reads the instance's live list for a request to `path_and_query` of kind `kind`, when it is
/// on a live route (see the module doc): a preflight's read now, before it is planned; a
/// forwarded request's read is handed back, to run while its upstream (or the app) answers.
/// A forwarded request's decision only sets its response's CORS headers, so it is made again
/// then ([`ReadAlongside`]), and a cold instance's request waits for the slower of the store
/// and the upstream, not for both in turn. Spin 4.1 under load: a cold read (the store's open
/// with its `PING`, then the `GET`) took 2.2 ms on average, which forwarded GETs paid in their
/// p99 before they were even sent (BENCHMARKS.md, "Live origin lists").
pub(crate) async fn read_for(
    table: &'static RouteTable,
    settings: &'static Settings,
    store: &'static impl LiveStore,
    path_and_query: &str,
    kind: RequestKind,
) -> ReadAlongside<impl Future<Output = ()> + 'static> {
    let on_live_route = has_live_routes(table) && takes_live_origins(table, path_and_query);
    let read = refresh(table, settings, store);
    if on_live_route && kind == RequestKind::Preflight {
        read.await;
        ReadAlongside(None)
    } else {
        ReadAlongside(on_live_route.then_some(read))
    }
}

/// A forwarded request's read of its live route's list, to run alongside its upstream's (or
/// the app's) answer; none for any other request.
pub(crate) struct ReadAlongside<R>(Option<R>);

impl<R: Future<Output = ()>> ReadAlongside<R> {
    /// `answer`, with the list read alongside it. The [`Redecision`] decides the request again
    /// with what was read.
    pub(crate) async fn join<T>(self, answer: impl Future<Output = T>) -> (T, Redecision) {
        match self.0 {
            Some(read) => (join(answer, read).await.0, Redecision(true)),
            None => (answer.await, Redecision(false)),
        }
    }
}

/// Whether a forwarded request is decided again with the list read while it was forwarded.
#[must_use = "apply it before the response head is made"]
pub(crate) struct Redecision(bool);

impl Redecision {
    /// Decides `exchange` again with the instance's lists as they are now, if they were read.
    pub(crate) fn apply<'t: 'r, 'r>(self, exchange: &mut Exchange<'t, 'r>) {
        if self.0 {
            with_view(|view| exchange.decide_with(view));
        }
    }
}

/// Reads the store when the instance's list is due, for a request on a live route (see the
/// module doc). A request never waits on the store beyond [`READ_DEADLINE_MS`]: a read that
/// takes longer goes on in a task of its own, so a store slow to answer (Spin's Redis store
/// while it reconnects) finishes the read it was given instead of seeing a new one, dropped
/// unanswered, every TTL.
async fn refresh(table: &'static RouteTable, settings: &Settings, store: &'static impl LiveStore) {
    let ttl_ms = settings.live_ttl.millis();
    // The clock is a host call: a request that finds the list fresh (nearly every one) asks it
    // once, and only a request that read or waited asks again for the overdue check.
    let checked_at = loop {
        let now = now_ms();
        match STATE.with_borrow_mut(|state| state.claim(now, ttl_ms)) {
            Refresh::Fresh => break now,
            // Awaited right here, with no task and no timer in the way when the store answers
            // at once (the file channel's reads are synchronous): a cold instance's first
            // request cost 222 µs more when it went through a task and a 1 ms polling step
            // (BENCHMARKS.md, "Live origin lists").
            Refresh::Claimed => {
                let read = Box::pin(read_store(table, store));
                let deadline = pin!(sleep_until(now + READ_DEADLINE_MS));
                if let Either::Right((_, unfinished)) = select(read, deadline).await {
                    spawn(unfinished).await;
                }
                break now_ms();
            }
            // A read that ended is looked at again: the list is fresh, or the read was given up
            // (its request went away) and this request reads instead.
            Refresh::InFlight => {
                if !wait_for_read(ttl_ms).await {
                    break now_ms();
                }
            }
        }
    };
    log(STATE.with_borrow_mut(|state| state.overdue(checked_at, READ_DEADLINE_MS)));
}

/// Reads the store and hands what it read to the instance's state.
async fn read_store(table: &'static RouteTable, store: &'static impl LiveStore) {
    let claim = Claim;
    let read = within(READ_LIMIT_MS, store.read()).await;
    let read = read.as_ref().map(Option::as_deref).map_err(Clone::clone);
    log(STATE.with_borrow_mut(|state| state.finish(table, read, now_ms())));
    std::mem::forget(claim);
}

/// A request while another reads the store: it waits for that read when the instance has no
/// list recent enough ([`LiveState::wait_until`]), until the read's deadline at most. Returns
/// whether the read ended (or was given up) meanwhile. Another export call's task cannot wake
/// this one (wit-bindgen 0.57 panics on such a wake-up unless built with `inter-task-wakeup`,
/// which adds host calls to every task that sleeps), so it looks again after a step of a
/// quarter of the time it has waited, from [`SHORTEST_STEP_US`] up to [`LONGEST_STEP_US`]: a
/// read is seen at most a quarter of the wait late (100 µs for a loopback store's round trip),
/// and a store that does not answer costs about 70 wake-ups before the 250 ms deadline (steps
/// that doubled made about 55, but saw a read up to as late again as the wait).
async fn wait_for_read(ttl_ms: u64) -> bool {
    let started_us = monotonic_clock::now() / 1_000;
    let mut now_us = started_us;
    loop {
        let (reading, until) = STATE.with_borrow(|state| {
            let until = state.wait_until(now_us / 1_000, ttl_ms, READ_DEADLINE_MS);
            (state.is_reading(), until)
        });
        if !reading {
            return true;
        }
        let Some(until) = until else {
            return false;
        };
        let left_us = (until * 1_000).saturating_sub(now_us);
        if left_us == 0 {
            return false;
        }
        let step_us = ((now_us - started_us) / 4).clamp(SHORTEST_STEP_US, LONGEST_STEP_US);
        monotonic_clock::wait_for(step_us.min(left_us) * 1_000).await;
        now_us = monotonic_clock::now() / 1_000;
    }
}

/// The shortest step of [`wait_for_read`]: about a loopback store's round trip.
const SHORTEST_STEP_US: u64 = 100;

/// The longest step of [`wait_for_read`]: a store that answers in tens of milliseconds is seen
/// within a few more.
const LONGEST_STEP_US: u64 = 5_000;

/// Resolves at `until_ms` on the monotonic clock (ms).
async fn sleep_until(until_ms: u64) {
    let now = monotonic_clock::now();
    monotonic_clock::wait_for((until_ms * 1_000_000).saturating_sub(now)).await;
}

/// A claimed read: dropped before the read finished (a host cancels a request's tasks with the
/// request, as when its client goes away), it gives the claim back, so the next request reads
/// again instead of every request waiting on a read that will never finish.
struct Claim;

impl Drop for Claim {
    fn drop(&mut self) {
        STATE.with_borrow_mut(LiveState::abandon);
    }
}

/// How long a read may run in its task before it counts as failed: the instance then reads
/// again a TTL later.
const READ_LIMIT_MS: u64 = 30_000;

/// Writes a problem line, tagged with the instance that logged it: each instance logs a problem
/// once, and a host may run several instances of one app (Spin's logs do not say which wrote a
/// line; `wasmtime serve`'s name theirs only in its own prefix).
fn log(line: Option<String>) {
    if let Some(line) = line {
        write(&format!("{line} [instance {:08x}]\n", instance_tag()));
    }
}

/// The instance's tag in its problem lines: random, drawn on its first problem line.
fn instance_tag() -> u32 {
    static TAG: OnceLock<u32> = OnceLock::new();
    *TAG.get_or_init(|| wasip2::random::insecure::get_insecure_random_u64() as u32)
}

/// Runs `decide` with what the instance's live routes allow now.
pub(crate) fn with_view<R>(decide: impl FnOnce(LiveView<'_>) -> R) -> R {
    STATE.with_borrow(|state| decide(state.view()))
}

/// Whether the instance's table has a `[live]` route (asked once: an instance serves one table).
fn has_live_routes(table: &RouteTable) -> bool {
    static LIVE: OnceLock<bool> = OnceLock::new();
    *LIVE.get_or_init(|| table.routes().iter().any(|r| r.cors().live().is_some()))
}

/// `read`, or an error when it takes longer than `limit_ms` (the read is dropped).
async fn within(
    limit_ms: u64,
    read: impl Future<Output = Result<Option<Vec<u8>>, String>>,
) -> Result<Option<Vec<u8>>, String> {
    let deadline = monotonic_clock::wait_for(limit_ms * 1_000_000);
    match select(pin!(read), pin!(deadline)).await {
        Either::Left((read, _)) => read,
        Either::Right(_) => Err(format!("no answer within {limit_ms} ms")),
    }
}

fn now_ms() -> u64 {
    monotonic_clock::now() / 1_000_000
}
