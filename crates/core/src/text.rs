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
