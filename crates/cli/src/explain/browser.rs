//! The browser's side: which preflight a page's `fetch()` makes, and the console line
//! Chromium prints when it blocks a response (captured from Chromium 156, see the CLI tests).

use corsgate_core::decision::{ALLOW_CREDENTIALS, ALLOW_ORIGIN};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::safelist::cors_unsafe_request_header_names;

use crate::har::PageRequest;

/// The preflight a browser sends before `request`, with why; `None` when it sends none.
pub struct Preflight {
    /// `Access-Control-Request-Headers`: the names that need permission.
    pub request_headers: Vec<String>,
    pub why: String,
}

pub fn preflight_for(request: &PageRequest) -> Option<Preflight> {
    let headers = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_deref().unwrap_or("").as_bytes()));
    let request_headers = cors_unsafe_request_header_names(headers);
    let why = if !is_cors_safelisted_method(request.method.as_bytes()) {
        format!("{} is not a CORS-safelisted method", request.method)
    } else if !request_headers.is_empty() {
        format!("the page sets {}", request_headers.join(", "))
    } else if request.was_preflight {
        "asked for with --preflight".into()
    } else {
        return None;
    };
    Some(Preflight {
        request_headers,
        why,
    })
}

pub const MISSING_ALLOW_ORIGIN: &str =
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.";

pub const PREFLIGHT_FAILED: &str =
    "Response to preflight request doesn't pass access control check:";

/// Chromium's console line for a blocked fetch.
pub fn console(url: &str, origin: &str, message: &str) -> String {
    format!("the console shows:\n  Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: {message}")
}

/// What a credentialed request finds wrong with a response's CORS headers, if anything
/// (https://fetch.spec.whatwg.org/#cors-check, steps 3 to 7).
pub fn credentials_problem(headers: &[(&str, &[u8])], credentials: bool) -> Option<&'static str> {
    if !credentials {
        return None;
    }
    let value = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match (value(ALLOW_ORIGIN), value(ALLOW_CREDENTIALS)) {
        (Some(b"*"), _) => Some("The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."),
        (_, None) => Some("The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."),
        _ => None,
    }
}
