//! What a WASIp3 instance keeps across the requests it serves: its settings, read on its first
//! request (and warned about once), and the access log they govern. Nothing about a request.

use std::io::Write;
use std::sync::OnceLock;

use corsgate_core::access_log::LogLine;
use corsgate_core::settings::Settings;
use wasip3::clocks::{monotonic_clock, system_clock};

/// The instance's settings: its environment's, else `built_in` (the build's values), read on
/// its first request and kept for every other (an instance serves many). Any warning about
/// them is written once, then.
pub fn instance_settings(built_in: &[(&str, &str)]) -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let settings = Settings::read(|name| std::env::var(name).ok(), built_in);
        write(&settings.warning_lines());
        settings
    })
}

/// The time since `started` (monotonic clock), in microseconds.
pub(crate) fn elapsed_us(started: u64) -> u64 {
    monotonic_clock::now().saturating_sub(started) / 1000
}

/// The wall clock, in milliseconds since the Unix epoch, for the log line's `time`.
fn unix_ms() -> u64 {
    let now = system_clock::now();
    u64::try_from(now.seconds).unwrap_or(0) * 1000 + u64::from(now.nanoseconds / 1_000_000)
}

/// Writes a request's line when the `CORSGATE_ACCESS_LOG` setting wants it.
pub(crate) fn log(line: &LogLine<'_>, settings: &Settings) {
    if let Some(text) = settings.log_text(line, unix_ms) {
        write(&text);
    }
}

/// One write, newline included, since each write is a host call.
pub(crate) fn write(text: &str) {
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
