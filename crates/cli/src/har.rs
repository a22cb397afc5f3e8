//! Reading a request from a HAR file (DevTools → Network → "Save all as HAR"): what users have
//! in hand when a request was blocked.

use std::path::Path;

use serde_json::Value;

use crate::error::CliError;

/// The page's request as the browser made it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PageRequest {
    /// `scheme://host[:port]` the request went to.
    pub gateway: String,
    /// Path and query.
    pub path: String,
    pub origin: Option<String>,
    pub method: String,
    /// Header names (and values when known) the page's script set.
    pub headers: Vec<(String, Option<String>)>,
    pub credentials: bool,
    /// The entry was the preflight itself.
    pub was_preflight: bool,
}

/// Headers the browser adds on its own: never part of what the page's script set.
const BROWSER_HEADERS: &[&str] = &[
    "host",
    "origin",
    "referer",
    "user-agent",
    "accept-encoding",
    "accept-language",
    "connection",
    "content-length",
    "cookie",
    "pragma",
    "cache-control",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
    "priority",
    "dnt",
];

pub(crate) fn read(path: &Path, entry: Option<usize>) -> Result<PageRequest, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Io(format!("{}: {e}", path.display())))?;
    let har: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{}: not a HAR file: {e}", path.display())))?;
    let entries = har["log"]["entries"]
        .as_array()
        .ok_or_else(|| CliError::Usage(format!("{}: no log.entries", path.display())))?;
    let requests: Vec<&Value> = entries.iter().map(|e| &e["request"]).collect();
    let cross_origin: Vec<&Value> = requests
        .iter()
        .copied()
        .filter(|r| page_origin(r).is_some())
        .collect();
    let chosen = match entry {
        Some(i) => *requests.get(i).ok_or_else(|| CliError::Usage(format!("{}: no entry {i} (it has {})", path.display(), requests.len())))?,
        None => cross_origin
            .iter()
            .find(|r| r["method"] != "OPTIONS")
            .or_else(|| cross_origin.first())
            .copied()
            .ok_or_else(|| CliError::Usage(format!("{}: no cross-origin request (none has an Origin header); pick one with --entry", path.display())))?,
    };
    Ok(from_request(chosen))
}

/// The page's origin: the `Origin` header, else the origin of the `Referer` when it differs from
/// the request's own (Chromium's HAR omits `Origin` on requests CORS blocked).
fn page_origin(request: &Value) -> Option<String> {
    if let Some(origin) = header(request, "origin") {
        return Some(origin);
    }
    let referer_origin = origin_of(&header(request, "referer")?)?;
    let url_origin = origin_of(request["url"].as_str()?)?;
    (referer_origin != url_origin).then_some(referer_origin)
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{authority}"))
}

fn header(request: &Value, name: &str) -> Option<String> {
    request["headers"]
        .as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str().map(String::from))
}

fn from_request(request: &Value) -> PageRequest {
    let url = request["url"].as_str().unwrap_or_default();
    let (gateway, path) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            (
                format!("{scheme}://{}", &rest[..slash]),
                if slash < rest.len() {
                    rest[slash..].to_string()
                } else {
                    "/".into()
                },
            )
        }
        None => (String::new(), url.to_string()),
    };
    let method = request["method"].as_str().unwrap_or("GET").to_string();
    let request_method = header(request, "access-control-request-method");
    let was_preflight = method == "OPTIONS" && request_method.is_some();
    let headers: Vec<(String, Option<String>)> = if was_preflight {
        header(request, "access-control-request-headers")
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .map(|n| (n, None))
            .collect()
    } else {
        request["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some((
                    h["name"].as_str()?.to_string(),
                    h["value"].as_str().map(String::from),
                ))
            })
            .filter(|(n, _)| {
                !n.starts_with(':')
                    && !n.to_ascii_lowercase().starts_with("sec-")
                    && !BROWSER_HEADERS.contains(&n.to_ascii_lowercase().as_str())
            })
            .collect()
    };
    PageRequest {
        gateway,
        path,
        origin: page_origin(request),
        method: request_method.filter(|_| was_preflight).unwrap_or(method),
        headers,
        // A cookie the browser attached means credentials mode `include` (a script-set
        // `Authorization` header says nothing about the mode).
        credentials: header(request, "cookie").is_some(),
        was_preflight,
    }
}
