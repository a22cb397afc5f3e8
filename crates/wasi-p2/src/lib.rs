//! corsgate's WASIp2 adapter library: the one home of the `wasi:http@0.2` glue (through
//! spin-sdk 5.2), shared by every WASIp2 artifact. It reads a request's head, asks the engine's
//! plan, answers, or runs the engine's [`Exchange`](corsgate_core::Exchange) with the upstream
//! (bodies streamed both ways with backpressure, the route's deadline), and writes the log line
//! the engine hands back. The route table and the settings are parameters: an artifact is a
//! shell that passes its own.
//!
//! Spin gives every WASIp2 request a fresh instance, so nothing here outlives a request.

#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]

mod gateway;
mod incoming;
mod respond;
pub mod upstream;

pub use gateway::serve;
pub use respond::fields;

/// The settings from the component's environment, else `built_in` (the build's values). Read
/// on every request: every WASIp2 request has an instance, and an environment, of its own.
pub fn settings(built_in: &[(&str, &str)]) -> corsgate_core::settings::Settings {
    corsgate_core::settings::Settings::read(|name| std::env::var(name).ok(), built_in)
}
