//! The two ways a line is written: logfmt (`corsgate key=value ...`) for people and `grep`, JSON
//! (`{"log":"corsgate",...}`) for log pipelines. Both write the same fields in the same order
//! from [`LogLine::each_field`], and a request-supplied value is escaped the same way in both,
//! so [`record`](super::record) reads either back to the same bytes.

use std::fmt::Write;

use super::{LogLine, Value};
use crate::date::civil_from_days;

/// Longest request-supplied value written to the log, in bytes.
pub(crate) const MAX_VALUE_LEN: usize = 256;

/// How lines are written: the component's `CORSGATE_LOG_FORMAT` environment variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `corsgate route=users kind=preflight ...` (the default).
    #[default]
    Logfmt,
    /// `{"log":"corsgate","route":"users","kind":"preflight",...}`: one JSON object per line.
    Json,
}

impl LogFormat {
    /// The environment variable that holds the setting, also read from the build's environment.
    pub const VARIABLE: &'static str = "CORSGATE_LOG_FORMAT";

    /// The setting from the variable's value (`None`: unset, meaning `logfmt`).
    pub fn from_setting(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(str::trim) {
            None | Some("logfmt") => Ok(LogFormat::Logfmt),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!(
                "{}={other:?} is not one of logfmt, json",
                LogFormat::VARIABLE
            )),
        }
    }

    /// `line` in this format, `time` (milliseconds since the Unix epoch) as its last field when
    /// given, without a newline.
    pub fn write(self, line: &LogLine<'_>, time: Option<u64>) -> String {
        let mut text = String::with_capacity(256);
        match self {
            LogFormat::Logfmt => {
                text.push_str("corsgate");
                line.each_field(time, |key, value| {
                    let _ = write!(text, " {key}=");
                    logfmt_value(&mut text, &value);
                });
            }
            LogFormat::Json => {
                text.push_str("{\"log\":\"corsgate\"");
                line.each_field(time, |key, value| {
                    let _ = write!(text, ",\"{key}\":");
                    json_value(&mut text, &value);
                });
                text.push('}');
            }
        }
        text
    }
}

fn logfmt_value(line: &mut String, value: &Value<'_>) {
    match value {
        Value::Word(word) => logfmt_text(line, word.as_bytes()),
        Value::Request(bytes) => logfmt_text(line, bytes),
        Value::Absent => line.push('-'),
        other => scalar(line, other),
    }
}

fn json_value(line: &mut String, value: &Value<'_>) {
    match value {
        Value::Word(word) => json_text(line, word.as_bytes()),
        Value::Request(bytes) => json_text(line, bytes),
        Value::Absent => line.push_str("null"),
        Value::Flag(flag) => line.push_str(if *flag { "true" } else { "false" }),
        Value::Time(_) => {
            line.push('"');
            scalar(line, value);
            line.push('"');
        }
        other => scalar(line, other),
    }
}

/// A number, a duration, a flag or a time, as logfmt writes it.
fn scalar(line: &mut String, value: &Value<'_>) {
    let _ = match value {
        Value::Number(n) => write!(line, "{n}"),
        Value::Micros(us) => write!(line, "{}.{:03}", us / 1000, us % 1000),
        Value::Flag(flag) => write!(line, "{}", if *flag { "yes" } else { "no" }),
        Value::Time(unix_ms) => write_time(line, *unix_ms),
        Value::Word(_) | Value::Request(_) | Value::Absent => Ok(()),
    };
}

/// The escaped text of a value: printable ASCII as it is but `\` doubled, every other byte as
/// `\xNN`; cut at [`MAX_VALUE_LEN`] bytes and then ended with `...`. Whether cut.
fn escaped(value: &[u8], mut out: impl FnMut(&str)) -> bool {
    let cut = value.len() > MAX_VALUE_LEN;
    for &b in &value[..value.len().min(MAX_VALUE_LEN)] {
        match b {
            b'\\' => out("\\\\"),
            b' '..=b'~' => out(std::str::from_utf8(std::slice::from_ref(&b)).unwrap_or_default()),
            _ => out(&format!("\\x{b:02x}")),
        }
    }
    if cut {
        out("...");
    }
    cut
}

/// ` key=value`'s value: bare when it is plain printable characters (and not `-`, which stands
/// for absent), else quoted, with `"` escaped as `\"` inside the quotes.
fn logfmt_text(line: &mut String, value: &[u8]) {
    // Bare `-` means absent: a value that is `-` is quoted.
    let plain = !value.is_empty()
        && value != b"-"
        && value.len() <= MAX_VALUE_LEN
        && value
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=');
    if plain {
        // Checked to be ASCII just above.
        line.push_str(std::str::from_utf8(value).unwrap_or_default());
        return;
    }
    line.push('"');
    escaped(value, |piece| {
        line.push_str(if piece == "\"" { "\\\"" } else { piece })
    });
    line.push('"');
}

/// A JSON string holding the escaped text (JSON's own escapes on top: `\` and `"`).
fn json_text(line: &mut String, value: &[u8]) {
    line.push('"');
    escaped(value, |piece| {
        for c in piece.chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '"' => line.push_str("\\\""),
                c => line.push(c),
            }
        }
    });
    line.push('"');
}

/// `unix_ms` (milliseconds since the Unix epoch) as the log writes it: RFC 3339 in UTC with
/// milliseconds, `2026-12-07T06:00:00.123Z`.
pub fn time_text(unix_ms: u64) -> String {
    let mut text = String::with_capacity(24);
    let _ = write_time(&mut text, unix_ms);
    text
}

/// `unix_ms` as RFC 3339 in UTC with milliseconds: `2026-12-07T06:00:00.123Z`.
fn write_time(line: &mut String, unix_ms: u64) -> std::fmt::Result {
    let seconds = unix_ms / 1000;
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    write!(
        line,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        unix_ms % 1000
    )
}
