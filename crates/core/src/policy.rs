//! The compiled CORS policy of one route: what is allowed, plus every response header value
//! computed once when the policy is built, so a request only compares and copies.

use crate::method::AllowedMethods;
use crate::origins::AllowedOrigins;
use crate::request_headers::AllowedHeaders;
use crate::text::Text;

/// Who answers preflights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreflightMode {
    /// The gateway answers; the upstream never sees a preflight.
    Edge,
    /// The upstream gets the `OPTIONS` request; the gateway still owns the CORS headers.
    Forward,
}

impl PreflightMode {
    pub const ALL: [PreflightMode; 2] = [PreflightMode::Edge, PreflightMode::Forward];

    /// The mode's name in a policy file (`preflight = "edge"`).
    pub fn name(self) -> &'static str {
        match self {
            PreflightMode::Edge => "edge",
            PreflightMode::Forward => "forward",
        }
    }

    pub fn from_name(name: &str) -> Option<PreflightMode> {
        PreflightMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    pub origins: AllowedOrigins,
    pub methods: AllowedMethods,
    pub headers: AllowedHeaders,
    pub allow_credentials: bool,
    pub allow_private_network: bool,
    pub preflight: PreflightMode,
    /// Report-only rollout: requests pass untouched, the upstream's own CORS headers stay, and
    /// the gateway only logs what it would have decided.
    pub report_only: bool,
    /// `Access-Control-Allow-Methods` of a successful preflight.
    pub allow_methods_value: Text,
    /// `Access-Control-Allow-Headers` of a successful preflight that asked for headers.
    pub allow_headers_value: Text,
    /// `Access-Control-Expose-Headers` of allowed actual responses (`None`: not sent).
    pub expose_headers_value: Option<Text>,
    /// `Access-Control-Max-Age` of successful preflights (`None`: not sent).
    pub max_age_value: Option<Text>,
}

impl CorsPolicy {
    /// Whether responses of this route depend on the request's `Origin` (everything but `*`
    /// policies), and so must say `Vary: Origin`
    /// (https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches).
    pub fn varies_by_origin(&self) -> bool {
        !self.origins.is_any()
    }
}
