//! Which request headers a page may set without a preflight: the CORS-safelisted request-header
//! rule (<https://fetch.spec.whatwg.org/#cors-safelisted-request-header>) and the list a browser
//! puts in `Access-Control-Request-Headers`
//! (<https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names>).
//!
//! The gateway itself never needs this (browsers decide what to preflight); `corsgate explain`
//! does, to predict the preflight a browser sends for a page's `fetch()`.

/// Longest value a safelisted header may have (the rule's step 1).
const MAX_SAFELISTED_VALUE_LEN: usize = 128;
/// Past this many bytes of safelisted values in one request, every one of them needs permission.
const MAX_SAFELISTED_TOTAL_LEN: usize = 1024;

/// "A CORS-unsafe request-header byte": controls other than tab, `"():<>?@[\]{}` and DEL.
fn is_cors_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b"\"():<>?@[\\]{}\x7f".contains(&b)
}

/// Whether `name: value` is a CORS-safelisted request-header (the Fetch Standard's algorithm,
/// step by step; `Content-Type` parsed as far as its essence).
pub fn is_cors_safelisted_request_header(name: &str, value: &[u8]) -> bool {
    if value.len() > MAX_SAFELISTED_VALUE_LEN {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" => !value.iter().any(|&b| is_cors_unsafe_byte(b)),
        "accept-language" | "content-language" => value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "content-type" => {
            !value.iter().any(|&b| is_cors_unsafe_byte(b))
                && matches!(
                    mime_essence(value).as_deref(),
                    Some(
                        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
                    )
                )
        }
        "range" => is_simple_range_with_start(value),
        _ => false,
    }
}

/// The lowercase `type/subtype` of a MIME type, or `None` when it does not parse.
fn mime_essence(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    let essence = text
        .split(';')
        .next()?
        .trim_matches([' ', '\t', '\r', '\n']);
    let (kind, subtype) = essence.split_once('/')?;
    let token = |s: &str| crate::method::is_token(s.as_bytes());
    (token(kind) && token(subtype)).then(|| essence.to_ascii_lowercase())
}

/// `bytes=START-` or `bytes=START-END` (START ≤ END), no whitespace: "parse a single range
/// header value" with a start; suffix ranges (`bytes=-500`) are not safelisted.
fn is_simple_range_with_start(value: &[u8]) -> bool {
    let Some(range) = value.strip_prefix(b"bytes=") else {
        return false;
    };
    let Some(dash) = range.iter().position(|&b| b == b'-') else {
        return false;
    };
    let (start, end) = (&range[..dash], &range[dash + 1..]);
    let number = |digits: &[u8]| -> Option<u64> {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let Some(start) = number(start) else {
        return false;
    };
    end.is_empty() || number(end).is_some_and(|end| start <= end)
}

/// The names a browser lists in `Access-Control-Request-Headers` for a request setting
/// `headers`: every name that is not safelisted, plus all safelisted ones once their values
/// together exceed 1024 bytes; lowercase, sorted, without duplicates.
pub fn cors_unsafe_request_header_names<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Vec<String> {
    let mut unsafe_names = Vec::new();
    let mut safelisted = Vec::new();
    let mut safelisted_len = 0;
    for (name, value) in headers {
        if is_cors_safelisted_request_header(name, value) {
            safelisted_len += value.len();
            safelisted.push(name);
        } else {
            unsafe_names.push(name);
        }
    }
    if safelisted_len > MAX_SAFELISTED_TOTAL_LEN {
        unsafe_names.append(&mut safelisted);
    }
    let mut names: Vec<String> = unsafe_names
        .into_iter()
        .map(str::to_ascii_lowercase)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safelisted_request_headers() {
        let long = "a".repeat(129);
        let cases: &[(&str, &str, &str, bool)] = &[
            ("accept, any type", "Accept", "application/json", true),
            ("accept with a parenthesis", "accept", "text/html(1)", false),
            ("accept-language", "Accept-Language", "en-US,en;q=0.9", true),
            (
                "content-language with a slash",
                "content-language",
                "de/at",
                false,
            ),
            (
                "form content type",
                "Content-Type",
                "application/x-www-form-urlencoded",
                true,
            ),
            (
                "multipart with boundary",
                "content-type",
                "multipart/form-data; boundary=x",
                true,
            ),
            (
                "text/plain with charset",
                "Content-Type",
                "text/plain;charset=UTF-8",
                true,
            ),
            ("text/plain uppercase", "content-type", "TEXT/PLAIN", true),
            (
                "json content type",
                "Content-Type",
                "application/json",
                false,
            ),
            ("content type without a value", "Content-Type", "", false),
            (
                "content type with an unsafe byte",
                "content-type",
                "text/plain; a=\"b\"",
                false,
            ),
            ("value over 128 bytes", "accept", long.as_str(), false),
            ("range with start", "Range", "bytes=0-499", true),
            ("open range", "range", "bytes=500-", true),
            ("suffix range", "range", "bytes=-500", false),
            ("range end before start", "range", "bytes=9-1", false),
            ("range with whitespace", "range", "bytes= 0-1", false),
            ("authorization", "Authorization", "Bearer x", false),
            ("custom header", "X-Token", "1", false),
        ];
        for (case, name, value, safelisted) in cases {
            assert_eq!(
                is_cors_safelisted_request_header(name, value.as_bytes()),
                *safelisted,
                "case {case}"
            );
        }
    }

    #[test]
    fn unsafe_names_as_a_browser_lists_them() {
        let accept = "a".repeat(128);
        let many_safelisted: Vec<(&str, &[u8])> =
            (0..9).map(|_| ("Accept", accept.as_bytes())).collect();
        struct Case<'a> {
            name: &'static str,
            /// The headers the page sets, as (name, value).
            headers: Vec<(&'a str, &'a [u8])>,
            /// The names the browser lists in `Access-Control-Request-Headers`.
            listed: Vec<&'static str>,
        }
        let cases: Vec<Case> = vec![
            Case {
                name: "none",
                headers: vec![],
                listed: vec![],
            },
            Case {
                name: "only safelisted",
                headers: vec![("Accept", b"*/*"), ("Content-Type", b"text/plain")],
                listed: vec![],
            },
            Case {
                name: "sorted, lowercase, unique",
                headers: vec![
                    ("X-B", b"1"),
                    ("Authorization", b"x"),
                    ("x-b", b"2"),
                    ("Content-Type", b"application/json"),
                ],
                listed: vec!["authorization", "content-type", "x-b"],
            },
            Case {
                name: "safelisted values over 1024 bytes in all",
                headers: many_safelisted,
                listed: vec!["accept"],
            },
        ];
        for case in cases {
            assert_eq!(
                cors_unsafe_request_header_names(case.headers),
                case.listed,
                "case {}",
                case.name
            );
        }
    }
}
