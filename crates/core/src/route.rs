//! Routes: which policy and upstream a request path belongs to, and the URL it is forwarded to.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::path::normalize_path;
pub use crate::path::PathError;
use crate::policy::CorsPolicy;
use crate::text::{ends_with_ignore_case, List, Text};

/// The schemes of an HTTP URL that corsgate speaks: an upstream's, and an allowed origin's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port a URL of this scheme means when it names none.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// The request paths a route serves (its `path` key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutePath {
    /// `path = "/health"`: that path only.
    Exact(Text),
    /// `path = "/users/..."`, stored as `/users` (`""` for `/...`): `/users` and everything
    /// under `/users/`.
    Prefix(Text),
}

impl RoutePath {
    /// Whether the normalized request path `path` is this one, or under it at a `/` boundary
    /// (`/users/...` matches `/users/1` but not `/usersx`); case-sensitive, no decoding.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            RoutePath::Exact(exact) => path == exact,
            RoutePath::Prefix(prefix) => match path.strip_prefix(&**prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
        }
    }

    /// How a user wrote it.
    pub fn display(&self) -> String {
        match self {
            RoutePath::Exact(exact) => exact.to_string(),
            RoutePath::Prefix(prefix) => format!("{prefix}/..."),
        }
    }
}

/// Where a route's requests go: scheme, host and port typed, so nothing splits an authority
/// string again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    scheme: Scheme,
    /// A domain, a dotted IPv4 address or a bracketed IPv6 address (`[::1]`), as the URL parser
    /// serializes it.
    host: Text,
    /// The port the URL names; `None` for the scheme's default.
    port: Option<u16>,
    /// Base path without a trailing slash (`""` when the upstream has none).
    base_path: Text,
}

impl Upstream {
    /// An upstream from its validated parts (the validator and generated code build them).
    pub const fn new(scheme: Scheme, host: Text, port: Option<u16>, base_path: Text) -> Upstream {
        Upstream {
            scheme,
            host,
            port,
            base_path,
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, without the port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port the URL names, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Base path without a trailing slash (`""` when the upstream has none).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// `host[:port]`: the connection target and the upstream's `Host` header.
    pub fn authority(&self) -> Cow<'_, str> {
        match self.port {
            Some(port) => Cow::Owned(format!("{}:{port}", self.host)),
            None => Cow::Borrowed(&self.host),
        }
    }

    /// Another component of the same Spin app, reached by local service chaining
    /// (`http://<component>.spin.internal`): the request never leaves the Spin host.
    pub fn is_spin_component(&self) -> bool {
        const SUFFIX: &str = ".spin.internal";
        self.host.len() > SUFFIX.len() && ends_with_ignore_case(&self.host, SUFFIX)
    }

    /// The upstream as a URL, as a policy file writes it.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.base_path
        )
    }
}

/// One policy file: the path it governs, where its requests go, and its CORS policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The policy file's stem.
    pub(crate) name: Text,
    pub(crate) path: RoutePath,
    pub(crate) upstream: Upstream,
    pub(crate) strip_prefix: bool,
    /// Upstream response-head timeout.
    pub(crate) timeout_ms: u32,
    pub(crate) cors: CorsPolicy,
    /// Names this version of the route in every log line ([`Route::policy_id`]).
    pub(crate) policy_id: PolicyId,
}

/// A route's policy id ([`Route::policy_id`]): baked by generated code, or computed from the
/// route the first time a log line or a report asks for it. A prebuilt artifact builds its
/// routes on an instance's first request, and hashing every route there cost the load a
/// sixth of the guest's work (BENCHMARKS.md, "Prebuilt against compiled-in"); an instance
/// pays now only for the routes it logs a request of.
#[derive(Clone)]
#[doc(hidden)]
pub enum PolicyId {
    /// Computed at build time by the same function.
    Baked(&'static str),
    /// Computed when first asked.
    Computed(OnceLock<String>),
}

/// Leaves the id out of the route's `Debug` text, which is what the id hashes: a route prints
/// the same before and after its id is known, baked or computed.
impl std::fmt::Debug for PolicyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"\"")
    }
}

/// An id is a function of the rest of the route, which the route's equality compares.
impl PartialEq for PolicyId {
    fn eq(&self, _: &PolicyId) -> bool {
        true
    }
}

impl Eq for PolicyId {}

impl Route {
    /// A route baked by generated code, with the id [`Route::policy_id`] computed for the built
    /// route when the code was generated.
    #[doc(hidden)]
    pub const fn new(
        name: Text,
        path: RoutePath,
        upstream: Upstream,
        strip_prefix: bool,
        timeout_ms: u32,
        cors: CorsPolicy,
        policy_id: PolicyId,
    ) -> Route {
        Route {
            name,
            path,
            upstream,
            strip_prefix,
            timeout_ms,
            cors,
            policy_id,
        }
    }

    /// A route from its validated parts (the validator builds them), named by the hash of
    /// everything it decides when the name is first asked for.
    pub fn build(
        name: Text,
        path: RoutePath,
        upstream: Upstream,
        strip_prefix: bool,
        timeout_ms: u32,
        cors: CorsPolicy,
    ) -> Route {
        Route::new(
            name,
            path,
            upstream,
            strip_prefix,
            timeout_ms,
            cors,
            PolicyId::Computed(OnceLock::new()),
        )
    }

    /// A short hash of the compiled route: its path, upstream, settings and CORS policy. Every
    /// log line names the version it was decided under, so `corsgate audit` can tell lines of
    /// the folder it is given from those of an earlier deployment. The same folder gives the
    /// same id in every build (compiled in or loaded by a prebuilt artifact) and in the CLI.
    pub fn policy_id(&self) -> &str {
        match &self.policy_id {
            PolicyId::Baked(id) => id,
            PolicyId::Computed(id) => id.get_or_init(|| policy_id(self)),
        }
    }

    /// The policy file's stem, which names the route in logs and reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The request paths the route governs.
    pub fn path(&self) -> &RoutePath {
        &self.path
    }

    /// Where its requests go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Whether the route's path prefix is removed before forwarding.
    pub fn strip_prefix(&self) -> bool {
        self.strip_prefix
    }

    /// How long the upstream may take to send its response head, in milliseconds.
    pub fn timeout_ms(&self) -> u32 {
        self.timeout_ms
    }

    /// The route's CORS policy.
    pub fn cors(&self) -> &CorsPolicy {
        &self.cors
    }

    /// The path and query sent upstream for a normalized request path that this route matched:
    /// base path + (path minus the prefix when `strip_prefix`) + query, the query byte for byte.
    /// An empty remainder forwards to the base path itself, as a reverse proxy would (`/health`
    /// → `<base>/healthz`, not `/healthz/`), and to `/` when there is no base path.
    pub fn upstream_path_and_query(&self, normalized_path: &str, query: Option<&str>) -> String {
        let mut remainder = normalized_path;
        if self.strip_prefix {
            remainder = match &self.path {
                RoutePath::Prefix(prefix) => &normalized_path[prefix.len()..],
                RoutePath::Exact(_) => "",
            };
        }
        if remainder.is_empty() && self.upstream.base_path.is_empty() {
            remainder = "/";
        }
        let mut target = String::with_capacity(
            self.upstream.base_path.len() + remainder.len() + query.map_or(0, |q| q.len() + 1),
        );
        target.push_str(&self.upstream.base_path);
        target.push_str(remainder);
        if let Some(query) = query {
            target.push('?');
            target.push_str(query);
        }
        target
    }
}

/// 12 hex digits of the FNV-1a hash of the route's `Debug` text (which leaves the id out). The
/// text is deterministic: the origin set is sorted and hashed by a fixed function, and a
/// `Cow`'s `Debug` is its content's, so a baked route and a built one print alike. An id names
/// a version for people and the audit, it guards nothing, so a 48-bit hash is enough.
///
/// The text is hashed as it is written, never held: a prebuilt artifact computes a route's id
/// in an instance when it first logs a request of it, and writing the text into a `String`
/// first added its allocation and growth to that request (the id is the same either way).
fn policy_id(route: &Route) -> String {
    /// FNV-1a over everything written to it.
    struct Fnv(u64);
    impl std::fmt::Write for Fnv {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            const PRIME: u64 = 0x0100_0000_01b3;
            self.0 = text.bytes().fold(self.0, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(PRIME)
            });
            Ok(())
        }
    }
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    std::fmt::write(&mut hash, format_args!("{route:?}")).expect("hashing cannot fail");
    format!("{:012x}", hash.0 >> 16)
}

/// Why a request path was not routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingError {
    /// No route matches: `404`, nothing contacted.
    NoRoute,
    /// The path is malformed or climbs out of its route: `400`.
    BadPath(PathError),
    /// Dot segments lead out of the route the raw path names: `400`.
    ClimbsOutOfRoute,
}

/// A routed request: the route and the normalized path it matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed<'t, 'p> {
    /// The first route in matching order whose path matches.
    pub route: &'t Route,
    /// The request path with its dot segments resolved: the path the upstream is sent,
    /// borrowed from the request when it had none.
    pub path: Cow<'p, str>,
}

/// Every route, in matching order: exact paths first, then prefixes longest first. The one
/// type every build serves from, whether generated code bakes it into the component or the
/// policies are parsed at run time: the same table gives the same plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// `paths[i]` is `routes[i].path`, kept apart so that matching reads one small array (and,
    /// baked into the component, one contiguous string of paths) instead of striding across
    /// every route's policy. A fresh instance per request starts with cold caches, and
    /// striding across 100 route structs to their scattered path strings cost the 100 × 100
    /// policy 7 % of its preflight throughput (BENCHMARKS.md, policy size).
    paths: List<RoutePath>,
    routes: List<Route>,
}

impl RouteTable {
    /// Orders `routes` for matching.
    pub fn new(mut routes: Vec<Route>) -> RouteTable {
        routes.sort_by_key(|r| match &r.path {
            RoutePath::Exact(_) => (0, 0),
            RoutePath::Prefix(p) => (1, usize::MAX - p.len()),
        });
        RouteTable {
            paths: routes.iter().map(|r| r.path.clone()).collect(),
            routes: routes.into(),
        }
    }

    /// A table baked into a component by [`config::codegen`](crate::config): `routes` already
    /// in matching order, `paths` their paths in the same order. Only generated code calls
    /// this; anything else builds a table with [`RouteTable::new`].
    #[doc(hidden)]
    pub const fn baked(paths: &'static [RoutePath], routes: &'static [Route]) -> RouteTable {
        RouteTable {
            paths: List::Borrowed(paths),
            routes: List::Borrowed(routes),
        }
    }

    /// The routes, in matching order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for a raw request path (no query). The path is normalized first; when dot
    /// segments would move it out of the route its raw form names, it is refused rather than
    /// sent to another route.
    pub fn route<'t, 'p>(&'t self, raw_path: &'p str) -> Result<Routed<'t, 'p>, RoutingError> {
        let path = normalize_path(raw_path).map_err(RoutingError::BadPath)?;
        let route = self.find(&path);
        if let Cow::Owned(_) = path {
            if let Some(raw_route) = self.find(raw_path) {
                if !route.is_some_and(|r| std::ptr::eq(r, raw_route)) {
                    return Err(RoutingError::ClimbsOutOfRoute);
                }
            }
        }
        let route = route.ok_or(RoutingError::NoRoute)?;
        Ok(Routed { route, path })
    }

    fn find(&self, path: &str) -> Option<&Route> {
        let index = self.paths.iter().position(|p| p.matches(path))?;
        self.routes.get(index)
    }
}

#[cfg(all(test, feature = "config"))]
mod policy_id_tests {
    /// The id hashed as the route's `Debug` text is written is the hash of that text whole.
    #[test]
    fn the_streamed_hash_is_the_hash_of_the_whole_text() {
        let policy = include_str!("../../../policies/users.toml");
        let route = crate::config::route_from_toml(policy).expect("a valid policy");
        let text = format!("{route:?}");
        let id = route.policy_id().to_string();
        assert_eq!(
            format!("{route:?}"),
            text,
            "the id stays out of the Debug text"
        );
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(id, format!("{:012x}", hash >> 16));
    }

    /// An id names a version in logs already written, which `corsgate audit` matches against
    /// the folder it is given: a change to the engine that moves every id must be a deliberate
    /// one, not a side effect (as a lazily computed id could have been).
    #[test]
    fn a_policy_keeps_its_id_across_releases() {
        let policy = include_str!("../../../policies/users.toml");
        let route = crate::config::route_from_toml(policy).expect("a valid policy");
        assert_eq!(
            route.policy_id(),
            "4265e91ca76c",
            "the id changed: when policies/users.toml itself did, write its new id here"
        );
    }
}
