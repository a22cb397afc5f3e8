//! A policy file's TOML as the structural pass ([`super::document`]) reads it, from either of two
//! readers that give the same tree for the same text:
//!
//! - [`plain`], the fast one, reads only the TOML that policy files are written in: comments,
//!   `[table]` headers, `key = value` lines whose value is a basic string without escapes, a
//!   decimal integer, a boolean or an array of such strings. For anything else (an escape, a
//!   quoted or dotted key, a float, an inline table, a key set twice, any syntax error) it gives
//!   up and returns `None`, having reported nothing;
//! - [`general`], the `toml` crate's parser, which reads all of TOML and reports its syntax
//!   errors: the only reader of a file [`plain`] gives up on.
//!
//! Why two: a prebuilt artifact validates its policy folder on each instance's first request,
//! and in wasm the general parser (lexer, events, winnow, a spanned document model) was about
//! half of that load's guest CPU (a `perf` profile of `wasmtime serve`, 5 policy files: about
//! 64 of 120 µs). The plain reader does the usual file in one pass, borrowing its strings:
//! loading 5 files took about 50 µs less server CPU on `wasmtime serve` and 57 µs less on Spin
//! 4.1 (a fresh instance per request, side by side; BENCHMARKS.md, "Prebuilt against
//! compiled-in").
//! Every diagnostic is still the general parser's or the structural pass's: the plain reader
//! only ever succeeds on text the general parser reads into the same tree with no error, which
//! a test checks on the repository's policy files and on generated ones.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// A TOML value, with what the structural pass needs of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node<'s> {
    /// A string, escapes resolved.
    String(Cow<'s, str>),
    Bool(bool),
    /// An integer; `None` when it does not fit an `i128`.
    Integer(Option<i128>),
    Array(Vec<Spanned<'s>>),
    /// A table's entries (a `[table]`, or an inline table), in no particular order.
    Table(Vec<Entry<'s>>),
    /// Anything else (a float, a date): of no key's type.
    Other,
}

/// A value and the byte span it came from (for a string, its quotes included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spanned<'s> {
    pub(crate) node: Node<'s>,
    pub(crate) span: Range<usize>,
}

/// One `key = value` of a table, or one table of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'s> {
    pub(crate) key: Cow<'s, str>,
    pub(crate) key_span: Range<usize>,
    pub(crate) value: Spanned<'s>,
}

/// The document's top-level entries as the `toml` crate reads them, or its syntax errors as
/// (message, span).
pub(crate) fn general(source: &str) -> Result<Vec<Entry<'_>>, Vec<(String, Range<usize>)>> {
    let (root, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| (e.message().trim_end().to_string(), e.span().unwrap_or(0..0)))
            .collect());
    }
    Ok(entries_of(root.get_ref()))
}

fn entries_of<'s>(table: &DeTable<'s>) -> Vec<Entry<'s>> {
    table
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().clone(),
            key_span: key.span(),
            value: spanned_of(value),
        })
        .collect()
}

fn spanned_of<'s>(value: &toml::Spanned<DeValue<'s>>) -> Spanned<'s> {
    let node = match value.get_ref() {
        DeValue::String(s) => Node::String(s.clone()),
        DeValue::Boolean(b) => Node::Bool(*b),
        DeValue::Integer(i) => Node::Integer(i128::from_str_radix(i.as_str(), i.radix()).ok()),
        DeValue::Array(items) => Node::Array(items.iter().map(spanned_of).collect()),
        DeValue::Table(entries) => Node::Table(entries_of(entries)),
        _ => Node::Other,
    };
    Spanned {
        node,
        span: value.span(),
    }
}

/// The document's top-level entries (one per `[table]`), when `source` is in the plain subset of
/// TOML (module documentation); `None` otherwise.
pub(crate) fn plain(source: &str) -> Option<Vec<Entry<'_>>> {
    let mut reader = Reader {
        text: source,
        bytes: source.as_bytes(),
        at: 0,
    };
    let mut tables: Vec<Entry<'_>> = Vec::new();
    loop {
        reader.skip_blank_lines()?;
        match reader.peek() {
            None => return Some(tables),
            Some(b'[') => {
                reader.at += 1;
                let (key, key_span) = reader.bare_key()?;
                reader.expect(b']')?;
                let header_end = reader.at;
                reader.end_of_line()?;
                if tables.iter().any(|t| t.key == key) {
                    return None;
                }
                tables.push(Entry {
                    key: Cow::Borrowed(key),
                    key_span: key_span.clone(),
                    value: Spanned {
                        node: Node::Table(Vec::new()),
                        span: key_span.start - 1..header_end,
                    },
                });
            }
            Some(_) => {
                // A key before any header belongs to the root: left to the general reader.
                let Node::Table(entries) = &mut tables.last_mut()?.value.node else {
                    return None;
                };
                let (key, key_span) = reader.bare_key()?;
                reader.skip_spaces();
                reader.expect(b'=')?;
                reader.skip_spaces();
                let value = reader.value()?;
                reader.end_of_line()?;
                if entries.iter().any(|e| e.key == key) {
                    return None;
                }
                entries.push(Entry {
                    key: Cow::Borrowed(key),
                    key_span,
                    value,
                });
            }
        }
    }
}

/// A control character, which neither a comment nor a basic string may hold (TOML 1.0; tab is
/// allowed in both).
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Where the first control character of `text` is.
fn first_control(text: &[u8]) -> Option<usize> {
    first_byte(text, is_control, |word| {
        has_byte_below(word, 0x20) || has_byte(word, 0x7f)
    })
}

/// Where the first `"`, `\\` or control character of `text` is: where a basic string ends or
/// leaves the plain subset.
fn first_in_string(text: &[u8]) -> Option<usize> {
    first_byte(
        text,
        |b| b == b'"' || b == b'\\' || is_control(b),
        |word| {
            has_byte_below(word, 0x20)
                || has_byte(word, 0x7f)
                || has_byte(word, b'"')
                || has_byte(word, b'\\')
        },
    )
}

/// Where the first byte of `text` that `stops` is, eight bytes at a time while `word_may_stop`
/// (which may say yes wrongly, never no) rules a word out. A prebuilt artifact reads its
/// policies on every instance's first request; byte by byte, the comments and strings were 13 %
/// of that load in wasm (BENCHMARKS.md, "Where a prebuilt instance's load goes").
fn first_byte(
    text: &[u8],
    stops: impl Fn(u8) -> bool,
    word_may_stop: impl Fn(u64) -> bool,
) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if word_may_stop(word) {
            if let Some(offset) = chunk.iter().position(|&b| stops(b)) {
                return Some(at + offset);
            }
        }
        at += 8;
    }
    text[at..]
        .iter()
        .position(|&b| stops(b))
        .map(|offset| at + offset)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether a byte of `word` is below `n` (at most 0x80): a byte below `n` borrows into its high
/// bit, which `!word` keeps only for bytes below 0x80 ("Determine if a word has a byte less than
/// n", Bit Twiddling Hacks).
fn has_byte_below(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH_BITS != 0
}

/// Whether a byte of `word` is `byte`.
fn has_byte(word: u64, byte: u8) -> bool {
    has_byte_below(word ^ (ONES * u64::from(byte)), 1)
}

/// A cursor over the text; every method returns `None` where the text leaves the plain subset.
struct Reader<'s> {
    text: &'s str,
    bytes: &'s [u8],
    at: usize,
}

impl<'s> Reader<'s> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// A comment's text up to its line's end: any character but a control one (tab allowed),
    /// so the first control character must be the line's end.
    fn skip_comment(&mut self) -> Option<()> {
        if self.peek() != Some(b'#') {
            return Some(());
        }
        let text = &self.bytes[self.at + 1..];
        let end = first_control(text).unwrap_or(text.len());
        match text.get(end) {
            None | Some(b'\n' | b'\r') => {
                self.at += 1 + end;
                Some(())
            }
            Some(_) => None,
        }
    }

    /// A line break (`\n` or `\r\n`), or the end of the text: whether there was one.
    fn newline(&mut self) -> Option<bool> {
        match self.peek() {
            None => Some(true),
            Some(b'\n') => {
                self.at += 1;
                Some(true)
            }
            Some(b'\r') => {
                self.at += 1;
                self.expect(b'\n')?;
                Some(true)
            }
            Some(_) => Some(false),
        }
    }

    /// Spaces, then a comment, then the line's end.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_spaces();
        self.skip_comment()?;
        self.newline()?.then_some(())
    }

    /// Lines holding only spaces and comments. A byte-order mark is left to the general reader.
    fn skip_blank_lines(&mut self) -> Option<()> {
        loop {
            let start = self.at;
            self.skip_spaces();
            self.skip_comment()?;
            if self.peek().is_none() {
                return Some(());
            }
            if !self.newline()? {
                self.at = start;
                self.skip_spaces();
                return Some(());
            }
        }
    }

    /// A bare key: ASCII letters, digits, `_` and `-`.
    fn bare_key(&mut self) -> Option<(&'s str, Range<usize>)> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-')
        ) {
            self.at += 1;
        }
        (self.at > start).then(|| (&self.text[start..self.at], start..self.at))
    }

    /// Spaces, line breaks and comments, as between an array's elements.
    fn skip_array_space(&mut self) -> Option<()> {
        loop {
            self.skip_spaces();
            self.skip_comment()?;
            if self.peek().is_none() || !self.newline()? {
                return Some(());
            }
        }
    }

    fn value(&mut self) -> Option<Spanned<'s>> {
        let start = self.at;
        let node = match self.peek()? {
            b'"' => Node::String(Cow::Borrowed(self.basic_string()?)),
            b'[' => self.array()?,
            b't' | b'f' => Node::Bool(self.boolean()?),
            b'0'..=b'9' | b'-' | b'+' => Node::Integer(Some(self.integer()?)),
            _ => return None,
        };
        Some(Spanned {
            node,
            span: start..self.at,
        })
    }

    /// `"..."` on one line, without escapes or control characters (tab allowed).
    fn basic_string(&mut self) -> Option<&'s str> {
        self.expect(b'"')?;
        let start = self.at;
        let length = first_in_string(&self.bytes[start..])?;
        if self.bytes[start + length] != b'"' {
            return None;
        }
        self.at += length;
        let content = &self.text[start..self.at];
        self.at += 1;
        // `"""` opens a multi-line string.
        if content.is_empty() && self.peek() == Some(b'"') {
            return None;
        }
        Some(content)
    }

    /// An array of plain strings, over any number of lines, with an optional trailing comma.
    fn array(&mut self) -> Option<Node<'s>> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        loop {
            self.skip_array_space()?;
            if self.peek()? == b']' {
                break;
            }
            let start = self.at;
            let item = self.basic_string()?;
            items.push(Spanned {
                node: Node::String(Cow::Borrowed(item)),
                span: start..self.at,
            });
            self.skip_array_space()?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => break,
                _ => return None,
            }
        }
        self.at += 1;
        Some(Node::Array(items))
    }

    fn boolean(&mut self) -> Option<bool> {
        let rest = &self.bytes[self.at..];
        let (value, len) = if rest.starts_with(b"true") {
            (true, 4)
        } else if rest.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        self.at += len;
        self.value_ends().then_some(value)
    }

    /// A decimal integer: an optional sign, then `0` or digits not starting with `0`; no `_`,
    /// and at most 18 digits (whatever their range, the general reader's verdict).
    fn integer(&mut self) -> Option<i128> {
        let start = self.at;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.at += 1;
        }
        let digits = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let count = self.at - digits;
        if count == 0 || count > 18 || (count > 1 && self.bytes[digits] == b'0') {
            return None;
        }
        if !self.value_ends() {
            return None;
        }
        self.text[start..self.at].parse().ok()
    }

    /// Whether a bare value (a boolean, a number) ends here rather than going on (`truex`, `1.5`).
    fn value_ends(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'#' | b',' | b']')
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The word-at-a-time scans find the byte a byte-by-byte scan finds, whatever the text:
        /// the bytes they stop at and their neighbours, tabs, and bytes above 0x7f mixed in.
        #[test]
        fn word_scans_stop_where_byte_scans_do(
            text in prop::collection::vec(
                prop_oneof![
                    Just(b'\t'), Just(b'\n'), Just(b'\r'), Just(0x1f_u8), Just(0x20_u8),
                    Just(0x7e_u8), Just(0x7f_u8), Just(0x80_u8), Just(0xff_u8), Just(b'"'),
                    Just(b'\\'), Just(b'#'), Just(b'a'), any::<u8>()
                ],
                0..40,
            ),
        ) {
            let control = text.iter().position(|&b| is_control(b));
            prop_assert_eq!(first_control(&text), control);
            let in_string = text.iter().position(|&b| b == b'"' || b == b'\\' || is_control(b));
            prop_assert_eq!(first_in_string(&text), in_string);
        }
    }

    /// The plain reader's tree, when it reads `text`, is the general reader's, entries in the
    /// same order (the general reader's map is sorted by key).
    fn agree(text: &str) -> bool {
        let Some(mut plain) = plain(text) else {
            return false;
        };
        let general = general(text).unwrap_or_else(|e| {
            panic!("the plain reader read what the general one rejects: {e:?}\n{text}")
        });
        fn sort(entries: &mut [Entry<'_>]) {
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            for entry in entries {
                if let Node::Table(inner) = &mut entry.value.node {
                    sort(inner);
                }
            }
        }
        sort(&mut plain);
        let mut general = general;
        sort(&mut general);
        // The general reader's span of a `[table]` value: not read by the structural pass,
        // compared apart.
        for (p, g) in plain.iter_mut().zip(general.iter_mut()) {
            p.value.span = 0..0;
            g.value.span = 0..0;
        }
        assert_eq!(plain, general, "{text}");
        true
    }

    fn repository_policies() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut found = Vec::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().to_string();
                if path.is_dir() {
                    if !name.starts_with('.') && name != "target" && name != "fuzz" {
                        folders.push(path);
                    }
                } else if name.ends_with(".toml")
                    && path.to_string_lossy().contains("polic")
                    && !name.starts_with('_')
                {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        found.push((path.display().to_string(), text));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn the_repository_policies_are_plain_and_read_alike() {
        let policies = repository_policies();
        assert!(policies.len() >= 10, "{}", policies.len());
        let plain_ones = policies.iter().filter(|(_, text)| agree(text)).count();
        // Every valid policy of the repository takes the fast path; broken ones may not.
        assert!(
            plain_ones * 10 >= policies.len() * 7,
            "{plain_ones} of {}",
            policies.len()
        );
    }

    #[test]
    fn plain_and_general_agree_on_tricky_lines() {
        let lines = [
            "[route]",
            "[cors]",
            "[ cors ]",
            "[cors.x]",
            "[[cors]]",
            "[\"cors\"]",
            "[route] # c",
            "path = \"/a/...\"",
            "path = \"/a/...\"   # comment",
            "path=\"/b\"",
            "path = '/lit'",
            "path = \"\"\"x\"\"\"",
            "path = \"\"",
            "path = \"a\\\"b\"",
            "path = \"tab\there\"",
            "path = \"ünï\"",
            "upstream = \"https://x.example\"",
            "timeout_ms = 5000",
            "timeout_ms = +5",
            "timeout_ms = -0",
            "timeout_ms = 0",
            "timeout_ms = 007",
            "timeout_ms = 1_000",
            "timeout_ms = 0x10",
            "timeout_ms = 1.5",
            "timeout_ms = 1e3",
            "timeout_ms = 999999999999999999",
            "timeout_ms = 9999999999999999999",
            "max_age = 600",
            "allow_credentials = true",
            "allow_credentials = false",
            "allow_credentials = truex",
            "allow_credentials = True",
            "allow_origins = []",
            "allow_origins = [ ]",
            "allow_origins = [\"https://a.example\"]",
            "allow_origins = [\"https://a.example\",]",
            "allow_origins = [\"a\", \"b\" ,\"c\"]",
            "allow_origins = [\"a\", 1]",
            "allow_origins = [,]",
            "allow_origins = [\"a\" \"b\"]",
            "allow_origins = [\n  \"a\", # one\n  \"b\",   # two\n]",
            "allow_origins = [\r\n \"a\",\r\n]",
            "allow_origins = [\"a\"] \"b\"",
            "allow_origins = {a = 1}",
            "cors.allow_origins = [\"a\"]",
            "\"path\" = \"/q\"",
            "path = ",
            "= 1",
            "path = \"/x\" = 1",
            "# just a comment",
            "   ",
            "\t# indented comment",
            "  path = \"/indented\"",
            "# comment with \u{7f} delete",
            "",
            "\r",
            "bogus_key = \"x\"",
            "preflight = \"edge\"",
        ];
        // Every pair of lines, under either table, and every line alone at the top.
        let mut plain_ones = 0;
        for a in &lines {
            for b in &lines {
                for head in ["[route]\n", "[cors]\n", "", "[route]\r\n"] {
                    for end in ["\n", "", "\r\n"] {
                        let text = format!("{head}{a}\n{b}{end}");
                        plain_ones += usize::from(agree(&text));
                    }
                }
            }
        }
        assert!(plain_ones > 1000, "{plain_ones}");
    }

    #[test]
    fn plain_and_general_agree_on_mutated_policies() {
        let policies = repository_policies();
        let inserts = [
            "", " ", "\"", "'", "[", "]", ",", "#", "\n", "\r", "=", "\\", ".", "_", "0", "x",
            "\t", "\u{0}", "\u{fc}", "\u{feff}",
        ];
        let mut plain_ones = 0;
        for (_, text) in policies.iter().take(6) {
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .step_by(3)
                .collect();
            for &at in &cuts {
                for insert in &inserts {
                    let mutated = format!("{}{insert}{}", &text[..at], &text[at..]);
                    plain_ones += usize::from(agree(&mutated));
                    // And the same byte in place of the one there.
                    let next = text[at..].chars().next().map_or(0, char::len_utf8);
                    let replaced = format!("{}{insert}{}", &text[..at], &text[at + next..]);
                    plain_ones += usize::from(agree(&replaced));
                }
            }
        }
        assert!(plain_ones > 1000, "{plain_ones}");
    }
}
