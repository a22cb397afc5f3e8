//! What every host test module uses: the world, the client, and the test kit's CORS expectations.

pub use std::time::{Duration, Instant};

pub use corsgate_testkit::cases;
pub use corsgate_testkit::cases::NamedCase;
pub use corsgate_testkit::client::{
    abort_after, pattern_sha256, send_raw, send_streaming, Body, Request, Response,
};
pub use corsgate_testkit::expect::{self, answered, vary_tokens, APP, PREFLIGHT_VARY};
pub use corsgate_testkit::harness::Host;
pub use corsgate_testkit::process::peak_rss_kib;
pub use corsgate_testkit::world::Gateway;

pub fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::new("OPTIONS", path)
        .origin(origin)
        .header("Access-Control-Request-Method", method)
}
