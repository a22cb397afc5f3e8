//! The parts of an incoming wasi-http request the gateway reads before deciding.
//!
//! Every host call and every string lifted into the component costs about a microsecond, far
//! more than the CORS decision itself (BENCHMARKS.md), so each request is read with as few
//! calls as its path needs: an `OPTIONS` request, usually a preflight answered at the edge,
//! fetches only the four headers a decision looks at; any other request will be forwarded
//! with all its headers, so they are read once, in one call, and the four are picked from them.

use std::cell::OnceCell;

use spin_sdk::http::{Fields, IncomingRequest, Method};

pub struct RequestHead {
    pub method: Method,
    /// The method exactly as sent (methods are case-sensitive).
    pub method_name: String,
    pub path_with_query: String,
    pub origin: Vec<Vec<u8>>,
    pub request_method: Vec<Vec<u8>>,
    pub request_headers: Vec<Vec<u8>>,
    pub request_private_network: Vec<Vec<u8>>,
    fields: Fields,
    all: OnceCell<Vec<(String, Vec<u8>)>>,
}

impl RequestHead {
    pub fn read(request: &IncomingRequest) -> RequestHead {
        let method = request.method();
        let fields = request.headers();
        let mut head = RequestHead {
            method_name: method_name(&method),
            method,
            path_with_query: request.path_with_query().unwrap_or_default(),
            origin: Vec::new(),
            request_method: Vec::new(),
            request_headers: Vec::new(),
            request_private_network: Vec::new(),
            fields,
            all: OnceCell::new(),
        };
        if head.method == Method::Options {
            head.origin = head.fields.get("origin");
            head.request_method = head.fields.get("access-control-request-method");
            head.request_headers = head.fields.get("access-control-request-headers");
            head.request_private_network =
                head.fields.get("access-control-request-private-network");
        } else {
            let all = head.fields.entries();
            for (name, value) in &all {
                if let Some(lines) = head.cors_lines_named(name) {
                    lines.push(value.clone());
                }
            }
            let _ = head.all.set(all);
        }
        head
    }

    /// Where lines of a header the CORS decision reads go (names compared case-insensitively).
    fn cors_lines_named(&mut self, name: &str) -> Option<&mut Vec<Vec<u8>>> {
        [
            ("origin", &mut self.origin),
            ("access-control-request-method", &mut self.request_method),
            ("access-control-request-headers", &mut self.request_headers),
            (
                "access-control-request-private-network",
                &mut self.request_private_network,
            ),
        ]
        .into_iter()
        .find_map(|(known, lines)| name.eq_ignore_ascii_case(known).then_some(lines))
    }

    /// Every header line, in order (read from the host once, when first needed).
    pub fn all_headers(&self) -> &[(String, Vec<u8>)] {
        self.all.get_or_init(|| self.fields.entries())
    }

    pub fn path(&self) -> &str {
        self.path_with_query
            .split_once('?')
            .map_or(&self.path_with_query, |(path, _)| path)
    }

    pub fn query(&self) -> Option<&str> {
        self.path_with_query.split_once('?').map(|(_, query)| query)
    }
}

/// Borrowed views of header lines, as the engine takes them.
pub fn lines(values: &[Vec<u8>]) -> Vec<&[u8]> {
    values.iter().map(Vec::as_slice).collect()
}

pub fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    }
}
