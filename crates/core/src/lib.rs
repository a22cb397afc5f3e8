//! corsgate-core: the CORS engine of corsgate, with no I/O.
//!
//! Run time (always built, also into the WebAssembly component): origin matching
//! ([`origins`]), request-header checks ([`request_headers`]), routing ([`route`]), the
//! decisions ([`decision`]), and the request [`plan`](mod@plan) that puts them together for the
//! adapters, with the [`outcome`] that says what became of a request. Build time and the CLI
//! (feature `config`): parsing and validating policy files into the compiled [`RouteTable`], and
//! baking it into Rust source.
//!
//! The semantics are those of the Fetch Standard's CORS protocol,
//! <https://fetch.spec.whatwg.org/#http-cors-protocol>.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access_log;
pub mod date;
pub mod decision;
pub mod exchange;
pub mod forwarding;
pub mod live;
pub mod method;
pub mod origin_set;
pub mod origins;
pub mod outcome;
mod path;
pub mod plan;
pub mod policy;
pub mod report_only;
pub mod request_headers;
pub mod request_origin;
pub mod route;
pub mod safelist;
pub mod settings;
pub mod text;

#[cfg(feature = "config")]
pub mod config;

pub use decision::{forwarded, preflight, CorsRequest, RequestKind};
pub use exchange::{ClientConnection, ClientScheme, Exchange};
pub use outcome::{Outcome, UpstreamCause, UpstreamFailure};
pub use plan::{
    governs, plan, plan_live, policy_unavailable, takes_live_origins, Answer, Forward, Plan,
    RequestHead,
};
pub use policy::{CorsPolicy, PreflightMode};
pub use route::{Route, RouteTable, RoutingError, Scheme};
