//! The parts of an incoming wasi-http request the gateway reads before deciding.
//!
//! Every host call and every string lifted into the component costs microseconds, far more than
//! the CORS decision itself, so only the four headers a decision needs are fetched up front;
//! the full header list is read only when the request is forwarded.

use spin_sdk::http::{Fields, IncomingRequest, Method};

pub struct RequestHead {
    /// The method exactly as sent (methods are case-sensitive).
    pub method: String,
    pub path_with_query: String,
    pub origin: Vec<Vec<u8>>,
    pub request_method: Vec<Vec<u8>>,
    pub request_headers: Vec<Vec<u8>>,
    pub request_private_network: Vec<Vec<u8>>,
    fields: Fields,
}

impl RequestHead {
    pub fn read(request: &IncomingRequest) -> RequestHead {
        let fields = request.headers();
        RequestHead {
            method: method_name(&request.method()),
            path_with_query: request.path_with_query().unwrap_or_default(),
            origin: fields.get("origin"),
            request_method: fields.get("access-control-request-method"),
            request_headers: fields.get("access-control-request-headers"),
            request_private_network: fields.get("access-control-request-private-network"),
            fields,
        }
    }

    /// Every header line, in order (read from the host on demand: forwarding needs them all).
    pub fn all_headers(&self) -> Vec<(String, Vec<u8>)> {
        self.fields.entries()
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
