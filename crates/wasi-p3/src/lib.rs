//! corsgate's WASIp3 adapter library: the one home of the `wasi:http@0.3.0` glue (through the
//! `wasip3` bindings), shared by the WASIp3 gateway and the middleware. It reads a request's
//! head, asks the engine's plan, answers, or runs the engine's
//! [`Exchange`](corsgate_core::Exchange) with the upstream ([`gateway`]: bodies streamed both
//! ways with backpressure and the route's deadline) or with the next handler ([`middleware`]),
//! and writes the log line the engine hands back. The route table and the settings are
//! parameters: an artifact is a shell that passes its own.
//!
//! Hosts reuse an instance for many requests, several at once (Spin 4.1+: 128 requests, 16 at
//! once; `wasmtime serve` the same by default), so nothing about a request lives in a static;
//! the settings are read once per instance ([`instance_settings`]).

#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]

pub mod gateway;
mod incoming;
mod instance;
pub mod live;
pub mod middleware;
mod mount;
#[cfg(feature = "policy-folder")]
pub mod policy_folder;
mod respond;
mod task;
mod upstream;

pub use instance::instance_settings;
pub use live::{LiveFile, LiveStore};
