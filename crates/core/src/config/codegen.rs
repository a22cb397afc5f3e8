//! Bakes a [`RouteTable`] into Rust source: a constant expression of `static` data, so the
//! component carries its policies compiled in and an instance starts with nothing to build.

use std::fmt::Write;

use crate::method::AllowedMethods;
use crate::origin_set::OriginSet;
use crate::origins::{AllowedOrigins, HostPattern, OriginPattern, PortPattern};
use crate::policy::{CorsPolicy, PreflightMode};
use crate::request_headers::AllowedHeaders;
use crate::request_origin::Scheme;
use crate::route::{Route, RoutePath, RouteTable, Upstream};
use crate::text::Text;

const CRATE: &str = "::corsgate_core";

/// A constant expression of type `corsgate_core::RouteTable`, for
/// `static ROUTES: corsgate_core::RouteTable = <expression>;`.
pub fn route_table_expression(table: &RouteTable) -> String {
    let mut out = String::new();
    write!(
        out,
        "{CRATE}::route::RouteTable {{ routes: ::std::borrow::Cow::Borrowed(&["
    )
    .unwrap();
    for route in table.routes.iter() {
        out.push_str(&route_expr(route));
        out.push(',');
    }
    out.push_str("]) }");
    out
}

fn text(t: &Text) -> String {
    // `str`'s Debug output is a valid Rust string literal.
    format!("::std::borrow::Cow::Borrowed({:?})", &**t)
}

fn list<T>(items: &[T], item: impl Fn(&T) -> String) -> String {
    let inner: Vec<String> = items.iter().map(item).collect();
    format!("::std::borrow::Cow::Borrowed(&[{}])", inner.join(","))
}

fn option(value: &Option<Text>) -> String {
    match value {
        Some(t) => format!("Some({})", text(t)),
        None => "None".into(),
    }
}

fn scheme(s: Scheme) -> String {
    format!("{CRATE}::request_origin::Scheme::{s:?}")
}

fn route_expr(r: &Route) -> String {
    let path = match &r.path {
        RoutePath::Exact(p) => format!("{CRATE}::route::RoutePath::Exact({})", text(p)),
        RoutePath::Prefix(p) => format!("{CRATE}::route::RoutePath::Prefix({})", text(p)),
    };
    let Upstream {
        scheme: s,
        authority,
        base_path,
    } = &r.upstream;
    format!(
        "{CRATE}::route::Route {{ name: {}, path: {path}, upstream: {CRATE}::route::Upstream {{ scheme: {}, authority: {}, base_path: {} }}, strip_prefix: {}, timeout_ms: {}, cors: {} }}",
        text(&r.name), scheme(*s), text(authority), text(base_path), r.strip_prefix, r.timeout_ms, cors_expr(&r.cors)
    )
}

fn cors_expr(c: &CorsPolicy) -> String {
    let origins = match &c.origins {
        AllowedOrigins::Any => format!("{CRATE}::origins::AllowedOrigins::Any"),
        AllowedOrigins::Listed { exact, patterns } => format!(
            "{CRATE}::origins::AllowedOrigins::Listed {{ exact: {}, patterns: {} }}",
            origin_set(exact),
            list(patterns, pattern)
        ),
    };
    let methods = match &c.methods {
        AllowedMethods::Any => format!("{CRATE}::method::AllowedMethods::Any"),
        AllowedMethods::Listed(m) => {
            format!("{CRATE}::method::AllowedMethods::Listed({})", list(m, text))
        }
    };
    let AllowedHeaders { any, names } = &c.headers;
    let preflight = match c.preflight {
        PreflightMode::Edge => "Edge",
        PreflightMode::Forward => "Forward",
    };
    format!(
        "{CRATE}::policy::CorsPolicy {{ origins: {origins}, methods: {methods}, headers: {CRATE}::request_headers::AllowedHeaders {{ any: {any}, names: {} }}, allow_credentials: {}, allow_private_network: {}, preflight: {CRATE}::policy::PreflightMode::{preflight}, allow_methods_value: {}, allow_headers_value: {}, expose_headers_value: {}, max_age_value: {} }}",
        list(names, text), c.allow_credentials, c.allow_private_network, text(&c.allow_methods_value), text(&c.allow_headers_value), option(&c.expose_headers_value), option(&c.max_age_value)
    )
}

fn origin_set(set: &OriginSet) -> String {
    format!(
        "{CRATE}::origin_set::OriginSet {{ slots: {}, entries: {} }}",
        list(&set.slots, |s| format!("{s}u32")),
        list(&set.entries, text)
    )
}

fn pattern(p: &OriginPattern) -> String {
    let host = match &p.host {
        HostPattern::Exact(h) => format!("{CRATE}::origins::HostPattern::Exact({})", text(h)),
        HostPattern::Subdomains(s) => {
            format!("{CRATE}::origins::HostPattern::Subdomains({})", text(s))
        }
    };
    let port = match p.port {
        PortPattern::Default => "Default".to_string(),
        PortPattern::Any => "Any".to_string(),
        PortPattern::Exact(n) => format!("Exact({n})"),
    };
    format!("{CRATE}::origins::OriginPattern {{ scheme: {}, host: {host}, port: {CRATE}::origins::PortPattern::{port} }}", scheme(p.scheme))
}
