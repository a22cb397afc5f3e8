//! What a WASIp3 instance keeps across the requests it serves: its settings, read on its first
//! request (and warned about once; the build's values where the environment is silent), and the
//! access log they govern. Nothing about a request.

use std::io::Write;
use std::sync::OnceLock;

use corsgate_core::access_log::LogLine;
use corsgate_core::settings::Settings;
use wasip3::clocks::monotonic_clock;

use crate::built_in::BUILT_IN_SETTINGS;

/// The instance's settings, read on its first request: an instance serves many.
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let settings = Settings::read(|name| std::env::var(name).ok(), BUILT_IN_SETTINGS);
        let mut text = String::new();
        for warning in &settings.warnings {
            text.push_str("corsgate warning: ");
            text.push_str(warning);
            text.push('\n');
        }
        if !text.is_empty() {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        settings
    })
}

/// Writes a request's line, begun at `started` (monotonic clock), when the
/// `CORSGATE_ACCESS_LOG` setting wants it: one write, newline included, since each write is a
/// host call.
pub fn log(mut line: LogLine<'_>, started: u64) {
    line.duration_us = (monotonic_clock::now() - started) / 1000;
    if settings().access_log.wants(&line) {
        let mut text = line.format();
        text.push('\n');
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
