//! The parts of an incoming wasi-http request the gateway reads before deciding.

use spin_sdk::http::{IncomingRequest, Method, Scheme};

pub struct RequestHead {
    /// The method exactly as sent (methods are case-sensitive).
    pub method: String,
    pub path_with_query: String,
    /// The scheme the client used (`http` under a plain `wasmtime serve`).
    pub scheme: String,
    /// The client's `Host` (hosts move it from the header into the authority).
    pub authority: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    pub fn read(request: &IncomingRequest) -> RequestHead {
        RequestHead {
            method: method_name(&request.method()),
            path_with_query: request.path_with_query().unwrap_or_default(),
            scheme: match request.scheme() {
                Some(Scheme::Https) => "https".into(),
                Some(Scheme::Other(other)) => other,
                Some(Scheme::Http) | None => "http".into(),
            },
            authority: request.authority(),
            headers: request.headers().entries(),
        }
    }

    /// Every line of header `name`, in order.
    pub fn lines(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
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
