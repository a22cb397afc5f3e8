//! The browser's side: which preflight a page's `fetch()` makes, and what a credentialed
//! request finds wrong with the CORS headers it gets.

use corsgate_core::decision::{ALLOW_CREDENTIALS, ALLOW_ORIGIN};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::safelist::cors_unsafe_request_header_names;

use super::console::Blocked;
use crate::har::PageRequest;

/// The preflight a browser sends before `request`, with why; `None` when it sends none.
pub(super) struct Preflight {
    /// `Access-Control-Request-Headers`: the names that need permission.
    pub request_headers: Vec<String>,
    pub why: String,
}

pub(super) fn preflight_for(request: &PageRequest) -> Option<Preflight> {
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

/// What a credentialed request finds wrong with a response's CORS headers, if anything
/// (https://fetch.spec.whatwg.org/#cors-check, steps 3 to 7).
pub(super) fn credentials_problem(
    headers: &[(&str, &[u8])],
    credentials: bool,
    preflight: bool,
) -> Option<Blocked> {
    if !credentials {
        return None;
    }
    let value = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match (value(ALLOW_ORIGIN), value(ALLOW_CREDENTIALS)) {
        (Some(b"*"), _) => Some(Blocked::WildcardOriginWithCredentials { preflight }),
        (_, None) => Some(Blocked::CredentialsNotAllowed { preflight }),
        _ => None,
    }
}
