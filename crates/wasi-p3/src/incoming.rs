//! The parts of an incoming WASIp3 request the plan reads, owned: the request itself moves on
//! (its body is consumed when forwarding), and its header fields are a child resource that
//! must be gone before it does.

use corsgate_core::decision::CORS_REQUEST_HEADERS;
use corsgate_core::forwarding::header_values;
use corsgate_core::{CorsRequest, RequestHead};
use wasip3::http::types::{Method, Request};

corsgate_wasi_http::method_name!(Method);

/// What was read of a request.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) path_with_query: String,
    /// Every header line, in order: read in one host call (a WASIp3 request is read once
    /// whatever its kind; there is no cheaper call for four names).
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

/// Borrowed views of the CORS header lines, as [`CorsRequest`] takes them.
pub(crate) type CorsLines<'a> = [Vec<&'a [u8]>; 4];

impl Incoming {
    /// The rest of a request whose path the caller read (the middleware reads it first, to
    /// hand a path without a policy on at once; each host call counts: BENCHMARKS.md).
    pub(crate) fn read(request: &Request, path_with_query: String) -> Incoming {
        let headers = request.get_headers().copy_all();
        Incoming {
            method: request.get_method(),
            path_with_query,
            headers,
        }
    }

    pub(crate) fn cors_lines(&self) -> CorsLines<'_> {
        CORS_REQUEST_HEADERS.map(|name| header_values(&self.headers, name))
    }

    /// The plan's view of the request.
    pub(crate) fn head<'a>(&'a self, lines: &'a CorsLines<'a>) -> RequestHead<'a> {
        RequestHead {
            path_and_query: &self.path_with_query,
            cors: CorsRequest::from_lines(method_name(&self.method).as_bytes(), lines),
        }
    }
}
