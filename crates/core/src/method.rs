//! HTTP methods as the CORS protocol sees them.

use crate::text::{List, Text};

/// `token` from RFC 9110 §5.6.2: the grammar of methods and header names.
pub fn is_token(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|&b| TCHAR[b as usize])
}

/// `tchar` from RFC 9110 §5.6.2.
pub const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// [`is_tchar`] as a lookup table: one load per byte on the request path.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_tchar(b as u8);
        b += 1;
    }
    table
};

/// "A CORS-safelisted method is a method that is `GET`, `HEAD`, or `POST`"
/// (<https://fetch.spec.whatwg.org/#cors-safelisted-method>). A byte match: `get` is not `GET`.
pub fn is_cors_safelisted_method(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"POST")
}

/// "A forbidden method is a method that is a byte-case-insensitive match for `CONNECT`, `TRACE`,
/// or `TRACK`" (<https://fetch.spec.whatwg.org/#forbidden-method>).
pub fn is_forbidden_method(method: &[u8]) -> bool {
    [&b"CONNECT"[..], b"TRACE", b"TRACK"]
        .iter()
        .any(|forbidden| forbidden.eq_ignore_ascii_case(method))
}

/// The methods a policy allows beyond the CORS-safelisted ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedMethods {
    /// `allow_methods = ["*"]`: any method (never with credentials, see validation).
    Any,
    /// Exact, case-sensitive tokens (methods are case-sensitive: RFC 9110 §9.1).
    Listed(List<Text>),
}

impl AllowedMethods {
    /// Whether a preflight asking for `method` may proceed. CORS-safelisted methods always pass:
    /// the browser does not check them against `Access-Control-Allow-Methods`
    /// (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>, step 7.5).
    pub fn allows(&self, method: &[u8]) -> bool {
        if is_cors_safelisted_method(method) {
            return true;
        }
        match self {
            AllowedMethods::Any => is_token(method),
            AllowedMethods::Listed(methods) => methods.iter().any(|m| m.as_bytes() == method),
        }
    }
}
