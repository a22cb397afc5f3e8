//! The structural pass: a policy file's TOML checked against [`KEYS`], reporting every
//! unknown key, wrong type and missing key at once, with spans.
//!
//! serde's `deny_unknown_fields` stops at the first mistake; users fixing a file want them all,
//! so the spanned document tree is walked here instead and typed values are read from it.

use std::borrow::Cow;
use std::ops::Range;

use super::error::{ConfigError, ErrorKind, Location};
use super::schema::{did_you_mean, Key, Table, ValueKind, KEYS};
use super::tree::{self, Entry, Node, Spanned};

/// A value with the byte span it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// What was read.
    pub value: T,
    /// Byte offsets of the value in the file's text (for a string, its quotes included).
    pub span: Range<usize>,
}

/// A key's value as read from the file, already of the key's [`ValueKind`]. Strings borrow the
/// file's text unless an escape had to be resolved: a prebuilt artifact reads its policies on every
/// instance's first request, where copying every string (with the copies the origin entries made)
/// was 23 % of the load in wasm (callgrind, BENCHMARKS.md, "Where a prebuilt instance's load
/// goes").
#[derive(Clone, Debug)]
pub enum FieldValue<'s> {
    /// The value of a [`ValueKind::String`] key, escapes resolved.
    String(Cow<'s, str>),
    /// The elements of a [`ValueKind::StringArray`] key, each with its own span so that an
    /// error can point at the one element at fault.
    StringArray(Vec<Located<Cow<'s, str>>>),
    /// The value of a [`ValueKind::Bool`] key.
    Bool(bool),
    /// Kept as i128 so out-of-range values can still be reported with their value.
    Integer(i128),
}

/// The keys of a policy file that passed the structural pass.
#[derive(Debug)]
pub struct PolicyDocument<'s> {
    /// The file as errors name it.
    pub file: &'s str,
    /// The file's text, which every span points into.
    pub source: &'s str,
    /// Each key's value, at the key's index in [`KEYS`]: the validator looks keys up for every
    /// rule, and a map's search was 4 % of a prebuilt instance's load in wasm (BENCHMARKS.md,
    /// "Where a prebuilt instance's load goes").
    fields: [Option<Located<FieldValue<'s>>>; KEYS.len()],
    /// Keys present in the file, whether or not their value had the right type.
    present: [bool; KEYS.len()],
}

impl<'s> PolicyDocument<'s> {
    /// `span` of this file as a line and column.
    pub fn location(&self, span: Range<usize>) -> Location {
        Location::new(self.file, self.source, span)
    }

    /// An error of `kind` located at `span` of this file.
    pub fn error(
        &self,
        kind: ErrorKind,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> ConfigError {
        ConfigError {
            kind,
            location: self.location(span),
            message,
            help,
        }
    }

    /// The key's value, or `None` when it is absent or was of the wrong type (a
    /// [`ErrorKind::WrongType`] error was reported instead).
    pub fn get(&self, key: Key) -> Option<&Located<FieldValue<'s>>> {
        self.fields[key as usize].as_ref()
    }

    /// Where the key's value stands, or the start of the file when it is absent.
    pub fn span_of(&self, key: Key) -> Range<usize> {
        self.get(key).map_or(0..0, |f| f.span.clone())
    }

    /// A string key's value, or `None` when it is absent, of the wrong type or not a string key.
    pub fn string(&self, key: Key) -> Option<Located<&str>> {
        match self.get(key)? {
            Located {
                value: FieldValue::String(s),
                span,
            } => Some(Located {
                value: s,
                span: span.clone(),
            }),
            _ => None,
        }
    }

    /// A string-array key's elements with the span of the whole array, or `None` when it is
    /// absent, of the wrong type or not a string-array key (its default is the caller's to
    /// apply).
    pub fn strings(&self, key: Key) -> Option<Located<&[Located<Cow<'s, str>>]>> {
        match self.get(key)? {
            Located {
                value: FieldValue::StringArray(items),
                span,
            } => Some(Located {
                value: items,
                span: span.clone(),
            }),
            _ => None,
        }
    }

    /// A boolean key's value, or its default.
    pub fn bool(&self, key: Key) -> bool {
        match self.get(key).map(|f| &f.value) {
            Some(FieldValue::Bool(b)) => *b,
            _ => key.default_bool(),
        }
    }

    /// An integer key's value as written (its default is the caller's to apply).
    pub fn integer(&self, key: Key) -> Option<Located<i128>> {
        match self.get(key)? {
            Located {
                value: FieldValue::Integer(i),
                span,
            } => Some(Located {
                value: *i,
                span: span.clone(),
            }),
            _ => None,
        }
    }

    /// The line a key is set on, for `explain` (`None` when absent: its default applies).
    pub fn line_of(&self, key: Key) -> Option<usize> {
        self.get(key).map(|f| self.location(f.span.clone()).line)
    }
}

/// Parses `source` and checks its structure. Returns the keys that were read together with every
/// structural error (unknown keys, wrong types, missing required keys), so the semantic pass can
/// still check what was read and the user sees all mistakes at once; `Err` only for TOML syntax
/// errors, after which nothing can be read.
pub fn parse_document<'s>(
    file: &'s str,
    source: &'s str,
) -> Result<(PolicyDocument<'s>, Vec<ConfigError>), Vec<ConfigError>> {
    let mut doc = PolicyDocument {
        file,
        source,
        fields: [const { None }; KEYS.len()],
        present: [false; KEYS.len()],
    };
    // The plain reader for the usual file, the general one for the rest (`tree`): the same tree.
    let root = match tree::plain(source).map_or_else(|| tree::general(source), Ok) {
        Ok(root) => root,
        Err(syntax_errors) => {
            return Err(syntax_errors
                .into_iter()
                .map(|(message, span)| {
                    doc.error(
                        ErrorKind::TomlSyntax,
                        span,
                        format!("invalid TOML: {message}"),
                        None,
                    )
                })
                .collect())
        }
    };
    let mut errors = Vec::new();

    for Entry {
        key: name,
        key_span,
        value,
    } in &root
    {
        let name: &str = name;
        let Some(table) = Table::ALL.into_iter().find(|t| t.name() == name) else {
            let help = did_you_mean(name, Table::ALL.iter().map(|t| t.name()))
                .map(|t| format!("did you mean `[{t}]`?"))
                .or_else(|| belongs_elsewhere(name));
            errors.push(doc.error(
                ErrorKind::UnknownKey,
                key_span.clone(),
                format!(
                    "unknown table `{name}`: a policy has only `[route]`, `[cors]` and `[live]`"
                ),
                help,
            ));
            continue;
        };
        let Node::Table(entries) = &value.node else {
            errors.push(doc.error(
                ErrorKind::WrongType,
                value.span.clone(),
                format!("`{table}` must be a table (`[{table}]`)"),
                None,
            ));
            continue;
        };
        check_table(&mut doc, table, entries, &mut errors);
    }

    let has_table = |table: Table| root.iter().any(|t| t.key == table.name());
    for spec in KEYS.iter().filter(|k| k.required()) {
        if !doc.present[spec.key as usize] && (!spec.table.optional() || has_table(spec.table)) {
            let table_span = root
                .iter()
                .find(|t| t.key == spec.table.name())
                .map_or(0..0, |t| t.key_span.clone());
            errors.push(doc.error(
                ErrorKind::MissingKey,
                table_span,
                format!("missing required key `{}` in `[{}]`", spec.name, spec.table),
                Some(format!("add `{} = ...`: {}", spec.name, spec.doc)),
            ));
        }
    }
    errors.sort_by_key(|e| e.location.span.start);
    Ok((doc, errors))
}

fn check_table<'s>(
    doc: &mut PolicyDocument<'s>,
    table: Table,
    entries: &[Entry<'s>],
    errors: &mut Vec<ConfigError>,
) {
    for Entry {
        key: name,
        key_span,
        value,
    } in entries
    {
        let name: &str = name;
        let Some(key) = Key::find(table, name) else {
            let in_table = KEYS.iter().filter(|k| k.table == table).map(|k| k.name);
            let help = did_you_mean(name, in_table)
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| belongs_elsewhere(name));
            errors.push(doc.error(
                ErrorKind::UnknownKey,
                key_span.clone(),
                format!("unknown key `{name}` in `[{table}]`"),
                help,
            ));
            continue;
        };
        let spec = key.spec();
        doc.present[key as usize] = true;
        match read_value(spec.kind, value) {
            Ok(field) => {
                doc.fields[key as usize] = Some(Located {
                    value: field,
                    span: value.span.clone(),
                });
            }
            Err(span) => errors.push(doc.error(
                ErrorKind::WrongType,
                span,
                format!("`{}` must be {}", spec.name, spec.kind.describe()),
                None,
            )),
        }
    }
}

/// "`name` belongs in the `[table]` table", when `name` is a key of the other table.
fn belongs_elsewhere(name: &str) -> Option<String> {
    KEYS.iter()
        .find(|k| k.name == name)
        .map(|k| format!("`{}` belongs in the `[{}]` table", k.name, k.table))
}

/// Reads a value of the expected kind, or returns the span of the offending (part of the) value.
fn read_value<'s>(kind: ValueKind, value: &Spanned<'s>) -> Result<FieldValue<'s>, Range<usize>> {
    match (kind, &value.node) {
        (ValueKind::String, Node::String(s)) => Ok(FieldValue::String(s.clone())),
        (ValueKind::Bool, Node::Bool(b)) => Ok(FieldValue::Bool(*b)),
        (ValueKind::Integer, Node::Integer(i)) => {
            i.map(FieldValue::Integer).ok_or(value.span.clone())
        }
        (ValueKind::StringArray, Node::Array(items)) => items
            .iter()
            .map(|item| match &item.node {
                Node::String(s) => Ok(Located {
                    value: s.clone(),
                    span: item.span.clone(),
                }),
                _ => Err(item.span.clone()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(FieldValue::StringArray),
        _ => Err(value.span.clone()),
    }
}
