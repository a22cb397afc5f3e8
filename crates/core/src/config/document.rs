//! The structural pass: a policy file's TOML checked against [`schema::KEYS`], reporting every
//! unknown key, wrong type and missing key at once, with spans.
//!
//! serde's `deny_unknown_fields` stops at the first mistake; users fixing a file want them all,
//! so the spanned document tree is walked here instead and typed values are read from it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::{ConfigError, ErrorKind, Location};
use super::schema::{self, did_you_mean, ValueKind, KEYS, TABLES};

/// A value with the byte span it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub enum FieldValue {
    String(String),
    StringArray(Vec<Located<String>>),
    Bool(bool),
    /// Kept as i128 so out-of-range values can still be reported with their value.
    Integer(i128),
}

/// The keys of a policy file that passed the structural pass, by `(table, key)`.
#[derive(Debug)]
pub struct PolicyDocument<'s> {
    pub file: &'s str,
    pub source: &'s str,
    fields: BTreeMap<(&'static str, &'static str), Located<FieldValue>>,
    /// Keys present in the file, whether or not their value had the right type.
    present: BTreeSet<(&'static str, &'static str)>,
}

impl<'s> PolicyDocument<'s> {
    pub fn location(&self, span: Range<usize>) -> Location {
        Location::new(self.file, self.source, span)
    }

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

    pub fn get(&self, table: &'static str, key: &'static str) -> Option<&Located<FieldValue>> {
        self.fields.get(&(table, key))
    }

    pub fn string(&self, table: &'static str, key: &'static str) -> Option<Located<&str>> {
        match self.get(table, key)? {
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

    pub fn strings(
        &self,
        table: &'static str,
        key: &'static str,
    ) -> Option<Located<&[Located<String>]>> {
        match self.get(table, key)? {
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

    pub fn bool(&self, table: &'static str, key: &'static str) -> Option<bool> {
        match self.get(table, key)?.value {
            FieldValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn integer(&self, table: &'static str, key: &'static str) -> Option<Located<i128>> {
        match self.get(table, key)? {
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

    /// The line a key is set on, for `explain` (0 when absent).
    pub fn line_of(&self, table: &'static str, key: &'static str) -> usize {
        self.get(table, key)
            .map_or(0, |f| self.location(f.span.clone()).line)
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
        fields: BTreeMap::new(),
        present: BTreeSet::new(),
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    let mut errors: Vec<ConfigError> = syntax_errors
        .into_iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            doc.error(
                ErrorKind::TomlSyntax,
                span,
                format!("invalid TOML: {}", e.message().trim_end()),
                None,
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }

    for (key, value) in root.get_ref().iter() {
        let name: &str = key.get_ref();
        let Some(&table) = TABLES.iter().find(|t| **t == name) else {
            let help = did_you_mean(name, TABLES.iter().copied())
                .map(|t| format!("did you mean `[{t}]`?"))
                .or_else(|| {
                    schema::KEYS
                        .iter()
                        .find(|k| k.key == name)
                        .map(|k| format!("`{}` belongs in the `[{}]` table", k.key, k.table))
                });
            errors.push(doc.error(
                ErrorKind::UnknownKey,
                key.span(),
                format!("unknown table `{name}`: a policy has only `[route]` and `[cors]`"),
                help,
            ));
            continue;
        };
        let DeValue::Table(entries) = value.get_ref() else {
            errors.push(doc.error(
                ErrorKind::WrongType,
                value.span(),
                format!("`{table}` must be a table (`[{table}]`)"),
                None,
            ));
            continue;
        };
        check_table(&mut doc, table, entries, &mut errors);
    }

    for spec in KEYS.iter().filter(|k| k.required) {
        if !doc.present.contains(&(spec.table, spec.key)) {
            let table_span = root
                .get_ref()
                .iter()
                .find(|(k, _)| k.get_ref() == spec.table)
                .map_or(0..0, |(k, _)| k.span());
            errors.push(doc.error(
                ErrorKind::MissingKey,
                table_span,
                format!("missing required key `{}` in `[{}]`", spec.key, spec.table),
                Some(format!("add `{} = ...`: {}", spec.key, spec.doc)),
            ));
        }
    }
    errors.sort_by_key(|e| e.location.span.start);
    Ok((doc, errors))
}

fn check_table(
    doc: &mut PolicyDocument<'_>,
    table: &'static str,
    entries: &DeTable<'_>,
    errors: &mut Vec<ConfigError>,
) {
    for (key, value) in entries.iter() {
        let name: &str = key.get_ref();
        let Some(spec) = schema::key_spec(table, name) else {
            let in_table = KEYS.iter().filter(|k| k.table == table).map(|k| k.key);
            let help = did_you_mean(name, in_table)
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| {
                    KEYS.iter()
                        .find(|k| k.key == name)
                        .map(|k| format!("`{}` belongs in the `[{}]` table", k.key, k.table))
                });
            errors.push(doc.error(
                ErrorKind::UnknownKey,
                key.span(),
                format!("unknown key `{name}` in `[{table}]`"),
                help,
            ));
            continue;
        };
        doc.present.insert((spec.table, spec.key));
        match read_value(spec.kind, value) {
            Ok(field) => {
                doc.fields.insert(
                    (spec.table, spec.key),
                    Located {
                        value: field,
                        span: value.span(),
                    },
                );
            }
            Err(span) => errors.push(doc.error(
                ErrorKind::WrongType,
                span,
                format!("`{}` must be {}", spec.key, spec.kind.describe()),
                None,
            )),
        }
    }
}

/// Reads a value of the expected kind, or returns the span of the offending (part of the) value.
fn read_value(kind: ValueKind, value: &Spanned<DeValue<'_>>) -> Result<FieldValue, Range<usize>> {
    match (kind, value.get_ref()) {
        (ValueKind::String, DeValue::String(s)) => Ok(FieldValue::String(s.to_string())),
        (ValueKind::Bool, DeValue::Boolean(b)) => Ok(FieldValue::Bool(*b)),
        (ValueKind::Integer, DeValue::Integer(i)) => i128::from_str_radix(i.as_str(), i.radix())
            .map(FieldValue::Integer)
            .map_err(|_| value.span()),
        (ValueKind::StringArray, DeValue::Array(items)) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(Located {
                    value: s.to_string(),
                    span: item.span(),
                }),
                _ => Err(item.span()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(FieldValue::StringArray),
        _ => Err(value.span()),
    }
}
