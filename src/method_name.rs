//! A request's method as sent. WASI 0.2 and 0.3 name the methods alike, so the WASIp2 and
//! WASIp3 components both include this file (as a child module of their `incoming` module,
//! whose `Method` it reads).

use super::Method;

/// The method exactly as sent (methods are case-sensitive).
pub fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
}
