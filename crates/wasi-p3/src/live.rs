//! Live origin lists on a WASIp3 instance: the instance's [`LiveState`] (the engine's: the
//! last-known-good list, one read per TTL and at a time, each problem logged once), filled from
//! a [`LiveStore`] with a deadline. An instance whose route table has no `[live]` route never
//! reads anything.
//!
//! The request that finds the list due starts a read of the store in a task of its own and
//! goes on with the list the instance has, as do the requests in flight meanwhile. A cold
//! instance has none: its requests wait for that read, for [`READ_DEADLINE_MS`] at most, then
//! each live route applies its `when_unreadable` choice until a list is accepted.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;

use corsgate_core::live::{list::MAX_VALUE_BYTES, LiveState, LiveView, Refresh};
use corsgate_core::settings::Settings;
use corsgate_core::RouteTable;
use futures::future::{select, Either};
use wasip2::filesystem::types::ErrorCode;
use wasip3::clocks::monotonic_clock;
use wasip3::wit_bindgen;

use crate::instance::write;
use crate::mount;

/// The longest a request waits for the store: a cold instance's, which has no list yet. Spin's
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

/// Starts a read of the store when the instance's list is due (see the module doc); a no-op for
/// a table without a live route. The read runs as a task of its own, so a request never waits
/// on the store beyond [`READ_DEADLINE_MS`] and a store slow to answer (Spin's Redis store
/// while it reconnects) finishes the read it was given instead of seeing a new one, dropped
/// unanswered, every TTL.
pub(crate) async fn refresh(
    table: &'static RouteTable,
    settings: &Settings,
    store: &'static impl LiveStore,
) {
    if !has_live_routes(table) {
        return;
    }
    let claimed = STATE.with_borrow_mut(|state| state.claim(now_ms(), settings.live_ttl.millis()));
    if claimed == Refresh::Claimed {
        wit_bindgen::spawn(async move {
            let claim = Claim;
            let read = within(READ_LIMIT_MS, store.read()).await;
            let read = read.as_ref().map(Option::as_deref).map_err(Clone::clone);
            log(STATE.with_borrow_mut(|state| state.finish(table, read, now_ms())));
            std::mem::forget(claim);
        });
    }
    if claimed == Refresh::Fresh {
        return;
    }
    // A cold instance's request waits for the read (it has nothing to decide with), until the
    // read's deadline at most; then, and in a warm instance at once, requests decide with what
    // the instance has.
    while let Some(until) = STATE.with_borrow(|state| state.cold_until(READ_DEADLINE_MS)) {
        if now_ms() >= until {
            break;
        }
        monotonic_clock::wait_for(1_000_000).await;
    }
    log(STATE.with_borrow_mut(|state| state.overdue(now_ms(), READ_DEADLINE_MS)));
}

/// A claimed read, in its task: dropped before the read finished (a host cancels a request's
/// tasks with the request, as when its client goes away), it gives the claim back, so the next
/// request reads again instead of every request waiting on a read that will never finish.
struct Claim;

impl Drop for Claim {
    fn drop(&mut self) {
        STATE.with_borrow_mut(LiveState::abandon);
    }
}

/// How long a read may run in its task before it counts as failed: the instance then reads
/// again a TTL later.
const READ_LIMIT_MS: u64 = 30_000;

fn log(line: Option<String>) {
    if let Some(line) = line {
        write(&format!("{line}\n"));
    }
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
