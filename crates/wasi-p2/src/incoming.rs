//! The parts of an incoming wasi-http request the plan reads.
//!
//! Every host call and every string lifted into the component costs about a microsecond, far
//! more than the CORS decision itself (BENCHMARKS.md), so each request is read with as few
//! calls as its path needs: an `OPTIONS` request, usually a preflight answered at the edge,
//! fetches only the four headers a decision looks at; any other request will be forwarded
//! with all its headers, so they are read once, in one call, and the four are picked from them.

use std::cell::OnceCell;

use corsgate_core::decision::CORS_REQUEST_HEADERS;
use corsgate_core::{CorsRequest, RequestHead};
use spin_sdk::http::{Fields, IncomingRequest, Method};

corsgate_wasi_http::method_name!(Method);

/// What was read of a request.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) path_with_query: String,
    /// Every line of each of [`CORS_REQUEST_HEADERS`].
    cors: [Vec<Vec<u8>>; 4],
    fields: Fields,
    all: OnceCell<Vec<(String, Vec<u8>)>>,
}

/// Borrowed views of the CORS header lines, as [`CorsRequest`] takes them.
pub(crate) type CorsLines<'a> = [Vec<&'a [u8]>; 4];

impl Incoming {
    pub(crate) fn read(request: &IncomingRequest) -> Incoming {
        let method = request.method();
        let fields = request.headers();
        let mut cors: [Vec<Vec<u8>>; 4] = Default::default();
        let all = OnceCell::new();
        if method == Method::Options {
            for (name, lines) in CORS_REQUEST_HEADERS.iter().zip(&mut cors) {
                *lines = fields.get(name);
            }
        } else {
            let entries = fields.entries();
            for (name, value) in &entries {
                // Names compared case-insensitively, whatever case the host hands them in.
                if let Some(i) = CORS_REQUEST_HEADERS
                    .iter()
                    .position(|k| name.eq_ignore_ascii_case(k))
                {
                    cors[i].push(value.clone());
                }
            }
            let _ = all.set(entries);
        }
        Incoming {
            method,
            path_with_query: request.path_with_query().unwrap_or_default(),
            cors,
            fields,
            all,
        }
    }

    pub(crate) fn cors_lines(&self) -> CorsLines<'_> {
        self.cors
            .each_ref()
            .map(|lines| lines.iter().map(Vec::as_slice).collect())
    }

    /// The plan's view of the request.
    pub(crate) fn head<'a>(&'a self, lines: &'a CorsLines<'a>) -> RequestHead<'a> {
        RequestHead {
            path_and_query: &self.path_with_query,
            cors: CorsRequest::from_lines(method_name(&self.method).as_bytes(), lines),
        }
    }

    /// Every header line, in order (read from the host once, when first needed).
    pub(crate) fn all_headers(&self) -> &[(String, Vec<u8>)] {
        self.all.get_or_init(|| self.fields.entries())
    }
}
