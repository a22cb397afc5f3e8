//! The CORS expectations the black-box tests share, one definition each, so that every suite
//! means the same thing by "allowed" and "refused". Each failure names the request as it was
//! sent (method, target, and its Origin and Access-Control-Request-* lines) and the header.

use crate::client::{send, Request, Response};
use crate::harness::Server;

/// The page's origin in every test world and in the benchmark and soak policies.
pub const APP: &str = "https://app.example.com";

/// `Vary` of an edge preflight: its answer depends on all three request headers.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Sends `request` to `server` and returns the answer, whatever its status; panics naming the
/// request when there is none (refused, reset, malformed).
pub fn answered(server: &Server, request: Request) -> Response {
    send(server.addr, &request).unwrap_or_else(|e| panic!("{}: {e}", request.describe()))
}

/// Exactly one `Access-Control-Allow-Origin`, equal to `origin` (an exact origin or `*`).
pub fn allows_origin(r: &Response, origin: &str) {
    let values = allow_origin_values(r);
    assert!(
        values.len() == 1 && values[0] == origin,
        "{}: expected one `Access-Control-Allow-Origin: {origin}`, got {values:?} (status {})",
        r.request,
        r.status
    );
}

/// No `Access-Control-Allow-Origin`: the page's script cannot read the answer.
pub fn no_allow_origin(r: &Response) {
    let values = allow_origin_values(r);
    assert!(
        values.is_empty(),
        "{}: expected no `Access-Control-Allow-Origin`, got {values:?} (status {})",
        r.request,
        r.status
    );
}

/// No `Access-Control-Allow-*` header at all: the browser is granted nothing.
pub fn no_allow_headers(r: &Response) {
    let names = r.head.names_starting_with("access-control-allow-");
    assert!(
        names.is_empty(),
        "{}: expected no `Access-Control-Allow-*` header, got {names:?} in {:?}",
        r.request,
        r.head.headers
    );
}

/// A preflight answered `204` that allows `origin`.
pub fn preflight_granted(r: &Response, origin: &str) {
    assert_eq!(
        r.status,
        204,
        "{}: expected the preflight granted (204), body {:?}",
        r.request,
        r.text()
    );
    allows_origin(r, origin);
}

/// A preflight answered `403` with no `Access-Control-Allow-*` header.
pub fn preflight_refused(r: &Response) {
    assert_eq!(
        r.status,
        403,
        "{}: expected the preflight refused (403), body {:?}",
        r.request,
        r.text()
    );
    no_allow_headers(r);
}

/// The comma-separated tokens of every `Vary` line, in order.
pub fn vary_tokens(r: &Response) -> Vec<String> {
    r.head
        .all("vary")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// `Vary` names `Origin` exactly once, across all its lines.
pub fn vary_origin_once(r: &Response) {
    let n = vary_tokens(r)
        .iter()
        .filter(|t| t.eq_ignore_ascii_case("origin"))
        .count();
    assert_eq!(
        n,
        1,
        "{}: `Vary` must name Origin exactly once: {:?}",
        r.request,
        r.head.all("vary")
    );
}

fn allow_origin_values(r: &Response) -> Vec<String> {
    r.head
        .all("access-control-allow-origin")
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Head;

    fn answer(request: &Request, status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            request: request.describe(),
            status,
            head: Head {
                start_line: format!("HTTP/1.1 {status}"),
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                    .collect(),
            },
            body: Vec::new(),
        }
    }

    fn failure(check: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(check).expect_err("the expectation must fail");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn failures_name_the_request_and_the_header() {
        let request = Request::new("OPTIONS", "/api/x")
            .origin("https://evil.example")
            .header("Access-Control-Request-Method", "PUT");
        let r = answer(&request, 204, &[("Access-Control-Allow-Origin", "*")]);
        let message = failure(|| allows_origin(&r, APP));
        assert!(
            message.starts_with(
                "OPTIONS /api/x [Origin: https://evil.example] [Access-Control-Request-Method: PUT]: "
            ),
            "{message}"
        );
        assert!(message.contains("`Access-Control-Allow-Origin: https://app.example.com`"));
        assert!(message.contains("[\"*\"]"), "{message}");
    }

    #[test]
    fn one_allow_origin_exactly() {
        let request = Request::new("GET", "/api/x").origin(APP);
        let twice = answer(
            &request,
            200,
            &[
                ("Access-Control-Allow-Origin", APP),
                ("access-control-allow-origin", APP),
            ],
        );
        failure(|| allows_origin(&twice, APP));
        allows_origin(
            &answer(&request, 200, &[("Access-Control-Allow-Origin", APP)]),
            APP,
        );
        no_allow_origin(&answer(&request, 200, &[("Vary", "Origin")]));
    }

    #[test]
    fn a_refused_preflight_grants_nothing() {
        let request = Request::new("OPTIONS", "/api/x").origin("https://evil.example");
        preflight_refused(&answer(&request, 403, &[("Vary", "Origin")]));
        let message = failure(|| {
            preflight_refused(&answer(
                &request,
                403,
                &[("Access-Control-Allow-Methods", "PUT")],
            ))
        });
        assert!(
            message.contains("Access-Control-Allow-Methods"),
            "{message}"
        );
        failure(|| preflight_refused(&answer(&request, 204, &[])));
    }
}
