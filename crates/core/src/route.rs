//! Routes: which policy and upstream a request path belongs to, and the URL it is forwarded to.

use std::borrow::Cow;

use crate::path::{normalize_path, PathError};
use crate::policy::CorsPolicy;
use crate::request_origin::Scheme;
use crate::text::{List, Text};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutePath {
    /// `path = "/health"`: that path only.
    Exact(Text),
    /// `path = "/users/..."`, stored as `/users` (`""` for `/...`): `/users` and everything
    /// under `/users/`.
    Prefix(Text),
}

impl RoutePath {
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub scheme: Scheme,
    /// `host[:port]`, as the `Host` header and the connection target.
    pub authority: Text,
    /// Base path without a trailing slash (`""` when the upstream has none).
    pub base_path: Text,
}

impl Upstream {
    /// Another component of the same Spin app, reached by local service chaining
    /// (`http://<component>.spin.internal`): the request never leaves the Spin host.
    pub fn is_spin_component(&self) -> bool {
        let host = self
            .authority
            .rsplit_once(':')
            .map_or(&*self.authority, |(h, _)| h);
        host.len() > ".spin.internal".len() && host.to_ascii_lowercase().ends_with(".spin.internal")
    }

    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority,
            self.base_path
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The policy file's stem.
    pub name: Text,
    pub path: RoutePath,
    pub upstream: Upstream,
    pub strip_prefix: bool,
    /// Upstream response-head timeout.
    pub timeout_ms: u32,
    pub cors: CorsPolicy,
}

impl Route {
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
    pub route: &'t Route,
    pub path: Cow<'p, str>,
}

/// Every route, in matching order: exact paths first, then prefixes longest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// `paths[i]` is `routes[i].path`, kept apart so that matching reads one small array (and,
    /// baked into the component, one contiguous string of paths) instead of striding across
    /// every route's policy. A fresh instance per request starts with cold caches, and
    /// striding across 100 route structs to their scattered path strings cost the 100 × 100
    /// policy 7 % of its preflight throughput (BENCHMARKS.md, policy size).
    pub paths: List<RoutePath>,
    pub routes: List<Route>,
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
