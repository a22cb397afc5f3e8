//! Storage types for compiled policies.
//!
//! A compiled policy is either built at run time (the CLI, tests) or baked into the component as
//! `static` data by the build script. `Cow<'static, _>` serves both: owned when built, borrowed
//! from the binary when baked, so a component instance pays nothing to "load" its policies.

use std::borrow::Cow;

/// A string of a compiled policy.
pub type Text = Cow<'static, str>;

/// A list of a compiled policy.
pub type List<T> = Cow<'static, [T]>;

/// `all[start..end]` in a constant expression: baked policies slice their strings out of one
/// `const` string so that strings read together sit together in memory.
pub const fn static_slice(all: &'static str, start: usize, end: usize) -> &'static str {
    all.split_at(end).0.split_at(start).1
}

/// Whether `text` starts with `prefix`, ASCII letters compared case-insensitively (header names
/// are case-insensitive: RFC 9110 §5.1).
pub fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Whether `text` ends with `suffix`, ASCII letters compared case-insensitively (host names are
/// case-insensitive).
pub fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}
