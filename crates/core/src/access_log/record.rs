//! Reading a log line back: the inverse of [`LogFormat::write`](super::LogFormat::write), for
//! `corsgate audit`. A line of either format, found among a host's other output, gives a
//! [`Record`] of the fields it holds, request-supplied values as the bytes the request sent.
//!
//! Strict, because a request writes part of every line: a field a request could have forged is
//! never believed. The writer quotes every value holding a space, `=`, `"` or `\`, and escapes
//! the quotes inside, so outside a quoted value nothing but the gateway writes `key=`; a line that
//! breaks that grammar, names a field twice or has text before its marker that could be a field
//! is refused whole.

use std::borrow::Cow;

use crate::date::days_from_civil;

/// The fields of a line, in the order the gateway writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `route`: the policy file's stem.
    Route,
    /// `kind`: `preflight` or `actual`.
    Kind,
    /// `method`: the request's method.
    Method,
    /// `path`: the request path, never the query.
    Path,
    /// `origin`: the request's `Origin`.
    Origin,
    /// `decision`: what the gateway did.
    Decision,
    /// `reason`: why, on refusals and failures.
    Reason,
    /// `status`: what the client got.
    Status,
    /// `upstream_status`: what the upstream answered.
    UpstreamStatus,
    /// `body_bytes`: response body bytes relayed.
    BodyBytes,
    /// `report_only`: `true` on a report-only route.
    ReportOnly,
    /// `would`: the policy's verdict on a report-only route.
    Would,
    /// `would_reason`: the step the policy would have refused at.
    WouldReason,
    /// `upstream`: the upstream's verdict on a report-only route.
    Upstream,
    /// `upstream_reason`: why the upstream's answer fails the CORS check.
    UpstreamReason,
    /// `agrees`: whether the two verdicts agree.
    Agrees,
    /// `duration_ms`: how long the request took.
    DurationMs,
    /// `policy`: the id of the route's compiled policy.
    Policy,
    /// `request_method`: a preflight's `Access-Control-Request-Method`.
    RequestMethod,
    /// `request_headers`: a preflight's `Access-Control-Request-Headers`.
    RequestHeaders,
    /// `cors`: `granted` or `withheld` on an actual CORS request.
    Cors,
    /// `credentials`: whether a forwarded CORS request carried `Cookie`.
    Credentials,
    /// `live`: on a live route, the live list's generation the decision used, or `baseline`
    /// or `denied`.
    Live,
    /// `time`: when the line was written (RFC 3339, UTC).
    Time,
}

impl Field {
    /// Every field, in order.
    pub const ALL: [Field; 24] = [
        Field::Route,
        Field::Kind,
        Field::Method,
        Field::Path,
        Field::Origin,
        Field::Decision,
        Field::Reason,
        Field::Status,
        Field::UpstreamStatus,
        Field::BodyBytes,
        Field::ReportOnly,
        Field::Would,
        Field::WouldReason,
        Field::Upstream,
        Field::UpstreamReason,
        Field::Agrees,
        Field::DurationMs,
        Field::Policy,
        Field::RequestMethod,
        Field::RequestHeaders,
        Field::Cors,
        Field::Credentials,
        Field::Live,
        Field::Time,
    ];

    /// The field's key in a line.
    pub fn key(self) -> &'static str {
        match self {
            Field::Route => "route",
            Field::Kind => "kind",
            Field::Method => "method",
            Field::Path => "path",
            Field::Origin => "origin",
            Field::Decision => "decision",
            Field::Reason => "reason",
            Field::Status => "status",
            Field::UpstreamStatus => "upstream_status",
            Field::BodyBytes => "body_bytes",
            Field::ReportOnly => "report_only",
            Field::Would => "would",
            Field::WouldReason => "would_reason",
            Field::Upstream => "upstream",
            Field::UpstreamReason => "upstream_reason",
            Field::Agrees => "agrees",
            Field::DurationMs => "duration_ms",
            Field::Policy => "policy",
            Field::RequestMethod => "request_method",
            Field::RequestHeaders => "request_headers",
            Field::Cors => "cors",
            Field::Credentials => "credentials",
            Field::Live => "live",
            Field::Time => "time",
        }
    }

    fn of_key(key: &[u8]) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key().as_bytes() == key)
    }
}

/// One gateway line, read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record<'l> {
    values: [Slot<'l>; Field::ALL.len()],
}

/// A field of a line as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Slot<'l> {
    /// The line does not name it.
    #[default]
    Missing,
    /// Named, as absent (`-`, `null`).
    Absent,
    /// Named, with this value.
    Value(Cow<'l, [u8]>),
}

/// The fields every gateway line has had from the first version on: a line without one of
/// them was cut short.
const ALWAYS_WRITTEN: [Field; 9] = [
    Field::Route,
    Field::Kind,
    Field::Method,
    Field::Path,
    Field::Origin,
    Field::Decision,
    Field::Status,
    Field::UpstreamStatus,
    Field::DurationMs,
];

/// The length of a request value the gateway cut: the first 256 bytes and `...`.
const CUT_LEN: usize = super::encode::MAX_VALUE_LEN + 3;

impl<'l> Record<'l> {
    /// The field's value: `None` when the line does not have it or writes it as absent (`-`,
    /// `null`). A flag reads `yes` or `no` in both formats.
    pub fn get(&self, field: Field) -> Option<&[u8]> {
        match &self.values[field as usize] {
            Slot::Value(value) => Some(value),
            Slot::Missing | Slot::Absent => None,
        }
    }

    /// The field's value when it is UTF-8.
    pub fn text(&self, field: Field) -> Option<&str> {
        self.get(field).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Whether the gateway cut the request's value of `field` at 256 bytes (it then ends in
    /// `...`): the value read is only its beginning. No value of another length can end so.
    pub fn is_cut(&self, field: Field) -> bool {
        self.get(field)
            .is_some_and(|v| v.len() == CUT_LEN && v.ends_with(b"..."))
    }

    fn set(&mut self, key: &[u8], value: Option<Cow<'l, [u8]>>) -> Result<(), LineProblem> {
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_lowercase() || *b == b'_') {
            return Err(LineProblem::Malformed("a key that is not a field name"));
        }
        // A field the gateway does not write (yet) is skipped, never refused: newer gateways
        // add fields at the end.
        let Some(field) = Field::of_key(key) else {
            return Ok(());
        };
        let slot = &mut self.values[field as usize];
        if *slot != Slot::Missing {
            return Err(LineProblem::DuplicateField(field.key()));
        }
        *slot = value.map_or(Slot::Absent, Slot::Value);
        Ok(())
    }

    /// The record, when the line was whole: every field a line always has is there, and a
    /// `time`, when there is one, is a time.
    fn finish(self) -> Result<Record<'l>, LineProblem> {
        if ALWAYS_WRITTEN
            .iter()
            .any(|f| self.values[*f as usize] == Slot::Missing)
        {
            return Err(LineProblem::Malformed(
                "cut short: a field every line has is missing",
            ));
        }
        if let Some(time) = self.get(Field::Time) {
            if parse_time(time).is_none() {
                return Err(LineProblem::Malformed("cut short: `time` is not a time"));
            }
        }
        Ok(self)
    }
}

/// The milliseconds since the Unix epoch of a `time` value as the gateway writes it
/// (`2026-12-07T06:00:00.123Z`); `None` for any other text.
pub fn parse_time(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    let bytes = text.as_bytes();
    let shape = bytes.len() == 24
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'.',
            23 => *b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + number(20..23)?)
}

/// Why a line that looks like a gateway line was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineProblem {
    /// It breaks the format's grammar (truncated, a stray quote, a bad escape...).
    Malformed(&'static str),
    /// A field appears twice: the second could only have been forged.
    DuplicateField(&'static str),
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineProblem::Malformed(why) => write!(f, "malformed: {why}"),
            LineProblem::DuplicateField(key) => write!(f, "field `{key}` twice"),
        }
    }
}

const LOGFMT_MARKER: &[u8] = b"corsgate route=";
const JSON_MARKER: &[u8] = b"{\"log\":\"corsgate\",";

/// Reads `line` (without its newline): `Ok(None)` when it is not a gateway line (the host's own
/// output, a warning), the record when it is one. The marker may follow a host's prefix
/// (`wasmtime serve`'s `stderr [3] :: `) holding no `"` or `=`, which a gateway line always has
/// before any value a request wrote.
pub fn parse_line(line: &[u8]) -> Result<Option<Record<'_>>, LineProblem> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // The marker's own first `=` (logfmt) or `"` (JSON) is the line's first: no `"` or `=` may
    // come before a marker. So only that spot is looked at, whatever the line's length.
    let Some(first) = line.iter().position(|b| *b == b'=' || *b == b'"') else {
        return Ok(None);
    };
    let at = |offset: usize, marker: &[u8]| {
        first
            .checked_sub(offset)
            .filter(|start| line[*start..].starts_with(marker))
    };
    let record = if let Some(start) = at(LOGFMT_MARKER.len() - 1, LOGFMT_MARKER) {
        parse_logfmt(&line[start + b"corsgate".len()..])?
    } else if let Some(start) = at(1, JSON_MARKER) {
        parse_json(&line[start + 1..])?
    } else {
        return Ok(None);
    };
    record.finish().map(Some)
}

/// ` key=value` pairs to the end of the line.
fn parse_logfmt(mut rest: &[u8]) -> Result<Record<'_>, LineProblem> {
    let mut record = Record::default();
    while !rest.is_empty() {
        rest = rest
            .strip_prefix(b" ")
            .ok_or(LineProblem::Malformed("fields not separated by one space"))?;
        let equals = rest
            .iter()
            .position(|b| *b == b'=')
            .ok_or(LineProblem::Malformed("a field without `=`"))?;
        let key = &rest[..equals];
        rest = &rest[equals + 1..];
        let (value, after) = if let Some(quoted) = rest.strip_prefix(b"\"") {
            let end = closing_quote(quoted)?;
            (Some(unescape(&quoted[..end], true)?), &quoted[end + 1..])
        } else {
            let end = rest.iter().position(|b| *b == b' ').unwrap_or(rest.len());
            let bare = &rest[..end];
            if bare.is_empty() || bare.iter().any(|b| matches!(b, b'"' | b'=' | b'\\')) {
                return Err(LineProblem::Malformed(
                    "a bare value with `\"`, `=` or `\\`",
                ));
            }
            if bare.iter().any(|b| !b.is_ascii_graphic()) {
                return Err(LineProblem::Malformed("a byte the gateway escapes"));
            }
            let value = (bare != b"-").then_some(Cow::Borrowed(bare));
            (value, &rest[end..])
        };
        record.set(key, value)?;
        rest = after;
    }
    Ok(record)
}

/// Where the quoted value that `quoted` starts ends: its first `"` not escaped.
fn closing_quote(quoted: &[u8]) -> Result<usize, LineProblem> {
    let mut i = 0;
    while i < quoted.len() {
        match quoted[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i),
            _ => i += 1,
        }
    }
    Err(LineProblem::Malformed("a quoted value that does not end"))
}

/// The bytes an escaped value stands for: `\\`, `\xNN` and, in logfmt's quotes, `\"`.
fn unescape(text: &[u8], quotes: bool) -> Result<Cow<'_, [u8]>, LineProblem> {
    if !text.contains(&b'\\') {
        if text.iter().any(|b| !(b' '..=b'~').contains(b)) {
            return Err(LineProblem::Malformed("a byte the gateway escapes"));
        }
        return Ok(Cow::Borrowed(text));
    }
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' => match text.get(i + 1) {
                Some(b'\\') => {
                    bytes.push(b'\\');
                    i += 2;
                }
                Some(b'"') if quotes => {
                    bytes.push(b'"');
                    i += 2;
                }
                Some(b'x') => {
                    let hex = text
                        .get(i + 2..i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or(LineProblem::Malformed("a bad `\\x` escape"))?;
                    bytes.push(hex);
                    i += 4;
                }
                _ => return Err(LineProblem::Malformed("an unknown escape")),
            },
            b @ b' '..=b'~' => {
                bytes.push(b);
                i += 1;
            }
            _ => return Err(LineProblem::Malformed("a byte the gateway escapes")),
        }
    }
    Ok(Cow::Owned(bytes))
}

/// A flat JSON object of strings, numbers, booleans and nulls, from its first key on (the
/// marker's `{` is taken): `"log":"corsgate",...}`.
fn parse_json(object: &[u8]) -> Result<Record<'_>, LineProblem> {
    let mut record = Record::default();
    let mut json = Json {
        text: object,
        at: 0,
    };
    loop {
        let key = json.string()?;
        json.expect(b':')?;
        let value = json.value()?;
        if key.as_ref() != b"log" {
            record.set(&key, value)?;
        }
        match json.next_byte() {
            Some(b',') => continue,
            Some(b'}') => break,
            _ => return Err(LineProblem::Malformed("a JSON object that does not end")),
        }
    }
    if json.at != object.len() {
        return Err(LineProblem::Malformed("text after the JSON object"));
    }
    Ok(record)
}

struct Json<'l> {
    text: &'l [u8],
    at: usize,
}

impl<'l> Json<'l> {
    fn next_byte(&mut self) -> Option<u8> {
        let b = self.text.get(self.at).copied();
        self.at += 1;
        b
    }

    fn expect(&mut self, byte: u8) -> Result<(), LineProblem> {
        (self.next_byte() == Some(byte))
            .then_some(())
            .ok_or(LineProblem::Malformed("not the JSON the gateway writes"))
    }

    /// A value: a string's escaped text unescaped, a number's digits, `yes`/`no` for a
    /// boolean, `None` for `null`.
    fn value(&mut self) -> Result<Option<Cow<'l, [u8]>>, LineProblem> {
        match self.text.get(self.at) {
            Some(b'"') => {
                let text = self.string()?;
                match text {
                    Cow::Borrowed(t) => unescape(t, false).map(Some),
                    Cow::Owned(t) => Ok(Some(Cow::Owned(unescape(&t, false)?.into_owned()))),
                }
            }
            Some(b'n') => self.word(b"null", None),
            Some(b't') => self.word(b"true", Some(Cow::Borrowed(b"yes"))),
            Some(b'f') => self.word(b"false", Some(Cow::Borrowed(b"no"))),
            Some(b'0'..=b'9') => {
                let start = self.at;
                while matches!(self.text.get(self.at), Some(b'0'..=b'9' | b'.')) {
                    self.at += 1;
                }
                Ok(Some(Cow::Borrowed(&self.text[start..self.at])))
            }
            _ => Err(LineProblem::Malformed(
                "a JSON value the gateway does not write",
            )),
        }
    }

    fn word(
        &mut self,
        word: &[u8],
        value: Option<Cow<'l, [u8]>>,
    ) -> Result<Option<Cow<'l, [u8]>>, LineProblem> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(LineProblem::Malformed(
                "a JSON value the gateway does not write",
            ))
        }
    }

    /// A JSON string's content, JSON's escapes undone (a pipeline may have rewritten them).
    fn string(&mut self) -> Result<Cow<'l, [u8]>, LineProblem> {
        self.expect(b'"')?;
        let start = self.at;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let b = self
                .next_byte()
                .ok_or(LineProblem::Malformed("a JSON string that does not end"))?;
            match b {
                b'"' => {
                    return Ok(match owned {
                        Some(bytes) => Cow::Owned(bytes),
                        None => Cow::Borrowed(&self.text[start..self.at - 1]),
                    })
                }
                b'\\' => {
                    let bytes = owned.get_or_insert_with(|| self.text[start..self.at - 1].to_vec());
                    let escape = self
                        .text
                        .get(self.at)
                        .copied()
                        .ok_or(LineProblem::Malformed("a JSON string that does not end"))?;
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => bytes.push(escape),
                        b'u' => {
                            let code = self
                                .text
                                .get(self.at..self.at + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .filter(|c| *c < 0x80)
                                .ok_or(LineProblem::Malformed(
                                    "a JSON escape of a byte the gateway escapes as \\x",
                                ))?;
                            self.at += 4;
                            bytes.push(code as u8);
                        }
                        _ => {
                            return Err(LineProblem::Malformed(
                                "a JSON escape the gateway does not write",
                            ))
                        }
                    }
                }
                other => {
                    if let Some(bytes) = owned.as_mut() {
                        bytes.push(other);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::access_log::{LogFormat, LogLine};
    use crate::decision::CorsRequest;
    use crate::outcome::Outcome;
    use crate::plan::RequestHead;

    #[test]
    fn which_lines_are_read() {
        // What every line has after its route, and the same as JSON members.
        const REST: &str = "kind=preflight method=OPTIONS path=/a origin=https://a.example decision=allowed status=204 upstream_status=- duration_ms=0.100";
        const JSON_REST: &str = r#""kind":"preflight","method":"OPTIONS","path":"/a","origin":"https://a.example","decision":"allowed","status":204,"upstream_status":null,"duration_ms":0.100"#;
        struct Case {
            name: &'static str,
            line: String,
            /// The record's route (`Some(None)`: `route=-`); `Ok(None)` for a line that is
            /// not the gateway's.
            expected: Result<Option<Option<&'static str>>, LineProblem>,
        }
        let cases = [
            Case {
                name: "plain logfmt",
                line: format!("corsgate route=users {REST}"),
                expected: Ok(Some(Some("users"))),
            },
            Case {
                name: "wasmtime serve's prefix",
                line: format!("stderr [7] :: corsgate route=users {REST}\r"),
                expected: Ok(Some(Some("users"))),
            },
            Case {
                name: "no route",
                line: format!("corsgate route=- {REST}"),
                expected: Ok(Some(None)),
            },
            Case {
                name: "the host's own output",
                line: "Serving HTTP on http://127.0.0.1:3000/".into(),
                expected: Ok(None),
            },
            Case {
                name: "the gateway's warning",
                line: "corsgate warning: CORSGATE_ACCESS_LOG=\"x\" is not one of all".into(),
                expected: Ok(None),
            },
            Case {
                name: "a marker inside a quoted value is not a line",
                line: format!("x origin=\"a corsgate route=forged {REST}\""),
                expected: Ok(None),
            },
            Case {
                name: "a forged field after the line's own",
                line: format!("corsgate route=users {REST} route=admin"),
                expected: Err(LineProblem::DuplicateField("route")),
            },
            Case {
                name: "cut inside a quoted value",
                line: "corsgate route=users kind=preflight method=OPTIONS path=/a origin=\"https://a.example".into(),
                expected: Err(LineProblem::Malformed("a quoted value that does not end")),
            },
            Case {
                name: "cut after a whole field",
                line: "corsgate route=users kind=preflight method=OPTIONS path=/a origin=- decision=not_fo".into(),
                expected: Err(LineProblem::Malformed(
                    "cut short: a field every line has is missing",
                )),
            },
            Case {
                name: "cut inside the time",
                line: format!("corsgate route=users {REST} time=2026-12-07T06:1"),
                expected: Err(LineProblem::Malformed("cut short: `time` is not a time")),
            },
            Case {
                name: "a raw control byte",
                line: format!("corsgate route=users {REST} x=\"a\x01\""),
                expected: Err(LineProblem::Malformed("a byte the gateway escapes")),
            },
            Case {
                name: "a bare value with a quote",
                line: format!("corsgate route=users origin=a\"b {REST}"),
                expected: Err(LineProblem::Malformed(
                    "a bare value with `\"`, `=` or `\\`",
                )),
            },
            Case {
                name: "two spaces",
                line: format!("corsgate route=users  {REST}"),
                expected: Err(LineProblem::Malformed("a key that is not a field name")),
            },
            Case {
                name: "json",
                line: format!(r#"{{"log":"corsgate","route":"users",{JSON_REST},"agrees":true}}"#),
                expected: Ok(Some(Some("users"))),
            },
            Case {
                name: "json with a pipeline's escapes",
                line: format!(r#"{{"log":"corsgate","route":"us\u0065rs",{}}}"#, JSON_REST.replace("/a", "\\/a")),
                expected: Ok(Some(Some("users"))),
            },
            Case {
                name: "json cut short",
                line: r#"{"log":"corsgate","route":"users","sta"#.into(),
                expected: Err(LineProblem::Malformed("a JSON string that does not end")),
            },
            Case {
                name: "json with a duplicate key",
                line: format!(r#"{{"log":"corsgate","route":"users",{JSON_REST},"route":"admin"}}"#),
                expected: Err(LineProblem::DuplicateField("route")),
            },
            Case {
                name: "json with text after it",
                line: format!(r#"{{"log":"corsgate","route":"users",{JSON_REST}}} route=admin"#),
                expected: Err(LineProblem::Malformed("text after the JSON object")),
            },
            Case {
                name: "an unknown later field is skipped",
                line: format!("corsgate route=users {REST} generation=7"),
                expected: Ok(Some(Some("users"))),
            },
        ];
        for case in cases {
            let got = parse_line(case.line.as_bytes())
                .map(|record| record.map(|r| r.text(Field::Route).map(str::to_owned)));
            let expected = case
                .expected
                .map(|record| record.map(|route| route.map(str::to_owned)));
            assert_eq!(got, expected, "{}", case.name);
        }
        let line = format!(r#"{{"log":"corsgate","route":"users",{JSON_REST},"agrees":true}}"#);
        let record = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(
            record.text(Field::Agrees),
            Some("yes"),
            "a JSON flag reads as logfmt's"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Every time the writer writes reads back to itself.
        #[test]
        fn times_read_back(unix_ms in 0u64..253_402_300_799_999) {
            let line = LogLine::new(
                &RequestHead { path_and_query: "/", cors: CorsRequest::default() },
                None,
                Outcome::NotFound,
                0,
            );
            let text = LogFormat::Logfmt.write(&line, Some(unix_ms));
            let record = parse_line(text.as_bytes()).unwrap().unwrap();
            prop_assert_eq!(record.get(Field::Time).and_then(parse_time), Some(unix_ms));
        }

        /// Whatever a request sends, both formats read back to the bytes it sent (cut at the
        /// cap), and a field it holds never becomes a field of the line.
        #[test]
        fn request_values_read_back_and_forge_nothing(
            origin in prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), Just(b"-".to_vec())],
            method in proptest::collection::vec(any::<u8>(), 1..20),
            headers in proptest::collection::vec(any::<u8>(), 0..80),
            path in "\\PC{0,60}",
        ) {
            let origin_lines = [&origin[..]];
            let header_lines = [&headers[..]];
            let head = RequestHead {
                path_and_query: &path,
                cors: CorsRequest {
                    method: &method,
                    origin: &origin_lines,
                    request_method: &[b"PUT"],
                    request_headers: &header_lines,
                    ..CorsRequest::default()
                },
            };
            let line = LogLine::new(&head, None, Outcome::NotFound, 5);
            for format in [LogFormat::Logfmt, LogFormat::Json] {
                let text = format.write(&line, Some(0));
                prop_assert!(!text.contains('\n') && !text.contains('\r'));
                let record = parse_line(text.as_bytes()).unwrap().unwrap();
                // Within the cap a value reads back as sent (`-` too: quoted, it is not
                // absent); past it, as its first 256 bytes and `...`, marked cut.
                for (field, sent) in [(Field::Origin, &origin), (Field::Method, &method)] {
                    let cap = crate::access_log::encode::MAX_VALUE_LEN;
                    if sent.len() <= cap {
                        prop_assert_eq!(record.get(field), Some(&sent[..]));
                        prop_assert!(!record.is_cut(field));
                    } else {
                        prop_assert!(record.is_cut(field));
                        prop_assert_eq!(&record.get(field).unwrap()[..cap], &sent[..cap]);
                    }
                }
                prop_assert_eq!(record.text(Field::Decision), Some("not_found"));
                prop_assert_eq!(record.text(Field::Route), None);
                prop_assert_eq!(record.text(Field::Status), Some("404"));
            }
        }
    }
}
