//! `Access-Control-Request-Headers`: bounded parsing and the policy's allowed header names.
//!
//! Browsers send one line of sorted, lowercase, unique names
//! (<https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names>), but intermediaries may
//! split it over several lines or leave empty elements and whitespace, which RFC 9110 §5.6.1
//! tells recipients to tolerate. A hostile client can send megabytes of commas, so the parser
//! stops at fixed bounds and fails the preflight instead of scanning on.

use crate::method::is_token;
use crate::text::{List, Text};

/// Most bytes looked at over all `Access-Control-Request-Headers` lines.
pub const MAX_REQUEST_HEADERS_BYTES: usize = 8 * 1024;
/// Most header names one preflight may ask for.
pub const MAX_REQUEST_HEADER_NAMES: usize = 64;
/// Most empty list elements tolerated (`a,,b` has one), as jub0bs/cors does: enough for any
/// intermediary's reformatting, too few to be a way of making the parser work.
pub const MAX_EMPTY_ELEMENTS: usize = 16;

/// Why an `Access-Control-Request-Headers` value could not be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderRejection<'a> {
    /// This name is not allowed by the policy.
    NotAllowed(&'a [u8]),
    /// An element is not a `token` (RFC 9110 §5.6.2).
    Malformed,
    /// More bytes, names or empty elements than the bounds above.
    TooLong,
}

/// Whether `*` in `Access-Control-Allow-Headers` covers the request header `name`: every name
/// but `Authorization`, which must be listed
/// (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>, step 7.8).
pub fn wildcard_covers(name: &[u8]) -> bool {
    !name.eq_ignore_ascii_case(b"authorization")
}

/// The request header names a policy allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHeaders {
    /// `"*"` was configured: any name except `authorization`, which the Fetch Standard never
    /// lets a wildcard cover (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>, step 7.8).
    pub(crate) any: bool,
    /// Explicitly listed names, lowercase.
    pub(crate) names: List<Text>,
}

impl AllowedHeaders {
    /// The names a policy allows: `any` for `"*"`, and the listed `names`, lowercase (the
    /// validator and generated code build them).
    pub const fn new(any: bool, names: List<Text>) -> AllowedHeaders {
        AllowedHeaders { any, names }
    }

    /// Whether a preflight may ask for the request header `name` (compared
    /// case-insensitively): listed, or covered by `"*"`.
    pub fn allows(&self, name: &[u8]) -> bool {
        self.lists(name) || self.allows_unlisted(name)
    }

    /// Whether `name` is explicitly listed (names are stored lowercase; browsers send them so).
    fn lists(&self, name: &[u8]) -> bool {
        self.names
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Whether the wildcard covers a name that is not listed.
    fn allows_unlisted(&self, name: &[u8]) -> bool {
        self.any && wildcard_covers(name)
    }

    /// Checks every name of the `Access-Control-Request-Headers` lines against the policy.
    /// Returns whether any name was asked for at all.
    pub fn check_request<'a>(&self, lines: &[&'a [u8]]) -> Result<bool, HeaderRejection<'a>> {
        let mut budget = MAX_REQUEST_HEADERS_BYTES;
        let mut names = 0usize;
        let mut empty = 0usize;
        for line in lines {
            // A line costs its length even when it is rejected early.
            budget = budget
                .checked_sub(line.len())
                .ok_or(HeaderRejection::TooLong)?;
            for element in line.split(|&b| b == b',') {
                let name = trim_ows(element);
                if name.is_empty() {
                    empty += 1;
                    if empty > MAX_EMPTY_ELEMENTS {
                        return Err(HeaderRejection::TooLong);
                    }
                    continue;
                }
                names += 1;
                if names > MAX_REQUEST_HEADER_NAMES {
                    return Err(HeaderRejection::TooLong);
                }
                // A listed name is a token, and so is anything matching it case-insensitively:
                // the grammar needs checking only for names the list does not hold.
                if self.lists(name) {
                    continue;
                }
                if !is_token(name) {
                    return Err(HeaderRejection::Malformed);
                }
                if !self.allows_unlisted(name) {
                    return Err(HeaderRejection::NotAllowed(name));
                }
            }
        }
        // A line with only empty elements (`""`, `" , "`) asks for nothing.
        Ok(names > 0)
    }
}

/// Strips optional whitespace (RFC 9110 §5.6.3: SP and HTAB).
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t');
    match start {
        None => &[],
        Some(start) => {
            let end = bytes
                .iter()
                .rposition(|&b| b != b' ' && b != b'\t')
                .unwrap_or(start);
            &bytes[start..=end]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(any: bool, names: &[&'static str]) -> AllowedHeaders {
        AllowedHeaders {
            any,
            names: names
                .iter()
                .map(|n| Text::Borrowed(*n))
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn request_header_lists() {
        let listed = policy(false, &["authorization", "content-type", "x-a"]);
        let wildcard = policy(true, &[]);
        let wildcard_with_auth = policy(true, &["authorization"]);
        let commas = ",".repeat(1 << 20);
        let many_names = vec!["x-a"; MAX_REQUEST_HEADER_NAMES + 1].join(",");
        struct Case<'a> {
            name: &'static str,
            allowed: &'a AllowedHeaders,
            /// The `Access-Control-Request-Headers` lines.
            lines: Vec<&'a str>,
            /// Whether any name was asked for, or why the list is refused.
            expected: Result<bool, HeaderRejection<'a>>,
        }
        let cases: Vec<Case> = vec![
            Case {
                name: "one allowed name",
                allowed: &listed,
                lines: vec!["content-type"],
                expected: Ok(true),
            },
            Case {
                name: "several allowed names",
                allowed: &listed,
                lines: vec!["authorization,content-type"],
                expected: Ok(true),
            },
            Case {
                name: "case-insensitive",
                allowed: &listed,
                lines: vec!["Content-Type, X-A"],
                expected: Ok(true),
            },
            Case {
                name: "split over lines",
                allowed: &listed,
                lines: vec!["authorization", "content-type"],
                expected: Ok(true),
            },
            Case {
                name: "empty elements and whitespace",
                allowed: &listed,
                lines: vec![",,x-a,, \t,content-type ,"],
                expected: Ok(true),
            },
            Case {
                name: "empty value asks nothing",
                allowed: &listed,
                lines: vec![""],
                expected: Ok(false),
            },
            Case {
                name: "only commas asks nothing",
                allowed: &listed,
                lines: vec![" , ,"],
                expected: Ok(false),
            },
            Case {
                name: "no lines asks nothing",
                allowed: &listed,
                lines: vec![],
                expected: Ok(false),
            },
            Case {
                name: "name not allowed",
                allowed: &listed,
                lines: vec!["content-type,x-b"],
                expected: Err(HeaderRejection::NotAllowed(b"x-b")),
            },
            Case {
                name: "not a token",
                allowed: &listed,
                lines: vec!["content type"],
                expected: Err(HeaderRejection::Malformed),
            },
            Case {
                name: "non-ascii",
                allowed: &listed,
                lines: vec!["x-\u{e9}"],
                expected: Err(HeaderRejection::Malformed),
            },
            Case {
                name: "sixteen empty elements tolerated",
                allowed: &listed,
                lines: vec![",,,,,,,,,,,,,,,x-a"],
                expected: Ok(true),
            },
            Case {
                name: "seventeen empty elements rejected",
                allowed: &listed,
                lines: vec![",,,,,,,,,,,,,,,,,x-a"],
                expected: Err(HeaderRejection::TooLong),
            },
            Case {
                name: "a megabyte of commas",
                allowed: &listed,
                lines: vec![&commas],
                expected: Err(HeaderRejection::TooLong),
            },
            Case {
                name: "too many names",
                allowed: &listed,
                lines: vec![&many_names],
                expected: Err(HeaderRejection::TooLong),
            },
            Case {
                name: "wildcard allows any token",
                allowed: &wildcard,
                lines: vec!["x-anything,content-type"],
                expected: Ok(true),
            },
            Case {
                name: "wildcard never covers authorization",
                allowed: &wildcard,
                lines: vec!["authorization"],
                expected: Err(HeaderRejection::NotAllowed(b"authorization")),
            },
            Case {
                name: "explicit authorization with wildcard",
                allowed: &wildcard_with_auth,
                lines: vec!["Authorization,x-b"],
                expected: Ok(true),
            },
        ];
        for case in cases {
            let lines: Vec<&[u8]> = case.lines.iter().map(|l| l.as_bytes()).collect();
            assert_eq!(
                case.allowed.check_request(&lines),
                case.expected,
                "case {}",
                case.name
            );
        }
    }

    #[test]
    fn many_lines_share_one_byte_budget() {
        // Each line alone is within every bound; together they exceed the byte budget.
        let line = format!("{},x-a", " ".repeat(4000));
        let lines: Vec<&[u8]> = vec![line.as_bytes(); 3];
        assert_eq!(
            policy(false, &["x-a"]).check_request(&lines),
            Err(HeaderRejection::TooLong)
        );
    }
}
