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
