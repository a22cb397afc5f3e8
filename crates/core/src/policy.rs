//! The compiled CORS policy of one route: what is allowed, plus every response header value
//! computed once when the policy is built, so a request only compares and copies.

use crate::live::LiveRule;
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
    /// Every mode: the names the validator accepts and the JSON schema lists.
    pub const ALL: [PreflightMode; 2] = [PreflightMode::Edge, PreflightMode::Forward];

    /// The mode's name in a policy file (`preflight = "edge"`).
    pub fn name(self) -> &'static str {
        match self {
            PreflightMode::Edge => "edge",
            PreflightMode::Forward => "forward",
        }
    }

    /// The mode a policy file names, or `None` for a name that is not one of [`Self::ALL`]'s
    /// (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<PreflightMode> {
        PreflightMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// What a route allows, and the response header values that follow from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    pub(crate) origins: AllowedOrigins,
    pub(crate) methods: AllowedMethods,
    pub(crate) headers: AllowedHeaders,
    pub(crate) allow_credentials: bool,
    pub(crate) allow_private_network: bool,
    pub(crate) preflight: PreflightMode,
    /// Report-only rollout: requests pass untouched, the upstream's own CORS headers stay, and
    /// the gateway only logs what it would have decided.
    pub(crate) report_only: bool,
    /// The response header values, computed when the policy was built.
    pub(crate) values: HeaderValues,
    /// `[live]`: the route's origins may change at run time, inside this rule's ceiling.
    pub(crate) live: Option<LiveRule>,
}

/// What a policy allows beyond its origins, methods and headers: the policy file's switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySwitches {
    /// `allow_credentials`
    pub allow_credentials: bool,
    /// `allow_private_network`
    pub allow_private_network: bool,
    /// `preflight`
    pub preflight: PreflightMode,
    /// `report_only`
    pub report_only: bool,
}

/// The response header values a policy sends, computed once when it is built so that a
/// request only copies them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderValues {
    /// `Access-Control-Allow-Methods` of a successful preflight.
    pub allow_methods: Text,
    /// `Access-Control-Allow-Headers` of a successful preflight that asked for headers.
    pub allow_headers: Text,
    /// `Access-Control-Expose-Headers` of allowed actual responses (`None`: not sent).
    pub expose_headers: Option<Text>,
    /// `Access-Control-Max-Age` of successful preflights (`None`: not sent).
    pub max_age: Option<Text>,
}

impl CorsPolicy {
    /// A policy from its validated parts (the validator and generated code build them).
    pub const fn new(
        origins: AllowedOrigins,
        methods: AllowedMethods,
        headers: AllowedHeaders,
        switches: PolicySwitches,
        values: HeaderValues,
        live: Option<LiveRule>,
    ) -> CorsPolicy {
        let PolicySwitches {
            allow_credentials,
            allow_private_network,
            preflight,
            report_only,
        } = switches;
        CorsPolicy {
            origins,
            methods,
            headers,
            allow_credentials,
            allow_private_network,
            preflight,
            report_only,
            values,
            live,
        }
    }

    /// `[live]`: the ceiling and outage choice of a route whose origins change at run time.
    pub fn live(&self) -> Option<&LiveRule> {
        self.live.as_ref()
    }

    /// The origins it allows.
    pub fn origins(&self) -> &AllowedOrigins {
        &self.origins
    }

    /// The methods it allows beyond the CORS-safelisted ones.
    pub fn methods(&self) -> &AllowedMethods {
        &self.methods
    }

    /// The request headers it allows beyond the CORS-safelisted ones.
    pub fn headers(&self) -> &AllowedHeaders {
        &self.headers
    }

    /// Whether credentialed requests are allowed (`allow_credentials`).
    pub fn allow_credentials(&self) -> bool {
        self.allow_credentials
    }

    /// Who answers preflights.
    pub fn preflight(&self) -> PreflightMode {
        self.preflight
    }

    /// Whether the route is in report-only rollout: the upstream answers CORS itself.
    pub fn report_only(&self) -> bool {
        self.report_only
    }

    /// `Access-Control-Allow-Methods` of a successful preflight.
    pub fn allow_methods_value(&self) -> &str {
        &self.values.allow_methods
    }

    /// `Access-Control-Allow-Headers` of a successful preflight that asked for headers.
    pub fn allow_headers_value(&self) -> &str {
        &self.values.allow_headers
    }

    /// `Access-Control-Expose-Headers` of allowed actual responses (`None`: not sent).
    pub fn expose_headers_value(&self) -> Option<&str> {
        self.values.expose_headers.as_deref()
    }

    /// `Access-Control-Max-Age` of successful preflights (`None`: not sent).
    pub fn max_age_value(&self) -> Option<&str> {
        self.values.max_age.as_deref()
    }

    /// Whether responses of this route depend on the request's `Origin` (everything but `*`
    /// policies), and so must say `Vary: Origin`
    /// (<https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches>).
    pub fn varies_by_origin(&self) -> bool {
        !self.origins.is_any()
    }
}
