//! What `wasi:http` 0.2 and 0.3 name alike: the request methods, the error codes, the header
//! fields' constructors, the client's scheme and the outgoing request's setters. Their bindings are distinct Rust types (spin-sdk's for WASIp2, wasip3's
//! for WASIp3), so each piece is written once here as a macro, and each adapter library expands
//! it against its own bindings, naming every type it uses: nothing relies on what the caller
//! happened to import.

#![no_std]
#![forbid(unsafe_code)]

/// `$vis fn method_name(method: &$Method) -> &str`: the method exactly as sent (methods are
/// case-sensitive, RFC 9110 §9.1).
#[macro_export]
macro_rules! method_name {
    ($vis:vis $Method:ty) => {
        /// The method exactly as sent (methods are case-sensitive, RFC 9110 §9.1).
        $vis fn method_name(method: &$Method) -> &str {
            type M = $Method;
            match method {
                M::Get => "GET",
                M::Head => "HEAD",
                M::Post => "POST",
                M::Put => "PUT",
                M::Delete => "DELETE",
                M::Connect => "CONNECT",
                M::Options => "OPTIONS",
                M::Trace => "TRACE",
                M::Patch => "PATCH",
                M::Other(other) => other,
            }
        }
    };
}

/// `$vis fn classify(code: &$ErrorCode) -> corsgate_core::UpstreamFailure`: the host's error code
/// as the engine's failure classes.
#[macro_export]
macro_rules! classify {
    ($vis:vis $ErrorCode:ty) => {
        /// The host's error code, as the engine's failure classes.
        $vis fn classify(code: &$ErrorCode) -> ::corsgate_core::UpstreamFailure {
            use ::corsgate_core::{UpstreamCause as Cause, UpstreamFailure};
            type E = $ErrorCode;
            UpstreamFailure::Unreachable(match code {
                E::ConnectionTimeout | E::ConnectionReadTimeout | E::HttpResponseTimeout => {
                    return UpstreamFailure::Timeout
                }
                E::ConnectionRefused => Cause::ConnectionRefused,
                E::ConnectionTerminated | E::ConnectionLimitReached => Cause::ConnectionClosed,
                E::DnsError(_) => Cause::NameNotResolved,
                E::DestinationUnavailable | E::DestinationNotFound => Cause::Unavailable,
                E::DestinationIpUnroutable | E::DestinationIpProhibited => {
                    Cause::AddressUnreachable
                }
                E::TlsProtocolError | E::TlsCertificateError | E::TlsAlertReceived(_) => {
                    Cause::TlsFailed
                }
                E::HttpProtocolError
                | E::HttpResponseIncomplete
                | E::HttpResponseHeaderSectionSize(_)
                | E::HttpResponseHeaderSize(_)
                | E::HttpResponseBodySize(_) => Cause::Malformed,
                E::HttpRequestDenied => Cause::DeniedByHost,
                other => Cause::Other(::std::format!("{other:?}")),
            })
        }
    };
}

/// `$vis fn fields(headers) -> $Fields`: header fields from name/value pairs, in one host call.
/// Should the host refuse the list (a forbidden name or bytes not allowed in a field, which can
/// only come from the upstream, never from policy), the pairs are added one by one and the
/// refused ones skipped.
#[macro_export]
macro_rules! fields {
    ($vis:vis $Fields:ty) => {
        /// Header fields from name/value pairs, in one host call; pairs the host refuses are
        /// skipped (they can only come from the upstream, never from policy).
        $vis fn fields<'n, V: AsRef<[u8]>>(
            headers: impl IntoIterator<Item = (&'n str, V)>,
        ) -> $Fields {
            /// The host calls, written once whatever the caller's value type (each copy of a
            /// generic function is code in the component).
            fn from_list(list: &[(::std::string::String, ::std::vec::Vec<u8>)]) -> $Fields {
                type F = $Fields;
                F::from_list(list).unwrap_or_else(|_| {
                    let fields = F::new();
                    for (name, value) in list {
                        let _ = fields.append(name, value);
                    }
                    fields
                })
            }
            let list: ::std::vec::Vec<(::std::string::String, ::std::vec::Vec<u8>)> = headers
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.as_ref().to_vec()))
                .collect();
            from_list(&list)
        }
    };
}

/// `$vis fn set_target(request: &$Request, method: &$Method, upstream: &UpstreamRequest) ->
/// Result<(), UpstreamFailure>`: the upstream request's method, scheme, authority and path. A
/// part the host refuses is never left at the host's default: nothing is sent, and the client
/// gets a `502` that names the part.
#[macro_export]
macro_rules! set_target {
    ($vis:vis $Request:ty, $Method:ty, $Scheme:ty) => {
        /// Sets the upstream request's method, scheme, authority and path; a part the host
        /// refuses fails the exchange (a `502` naming it), never the host's default.
        $vis fn set_target(
            outgoing: &$Request,
            method: &$Method,
            upstream: &::corsgate_core::exchange::UpstreamRequest<'_>,
        ) -> Result<(), ::corsgate_core::UpstreamFailure> {
            use ::corsgate_core::exchange::TargetPart;
            type S = $Scheme;
            let scheme = match upstream.scheme {
                ::corsgate_core::Scheme::Http => S::Http,
                ::corsgate_core::Scheme::Https => S::Https,
            };
            let refused = |part| move |()| ::corsgate_core::UpstreamFailure::refused(part);
            outgoing
                .set_method(method)
                .map_err(refused(TargetPart::Method))?;
            outgoing
                .set_scheme(Some(&scheme))
                .map_err(refused(TargetPart::Scheme))?;
            outgoing
                .set_authority(Some(&upstream.authority))
                .map_err(refused(TargetPart::Authority))?;
            outgoing
                .set_path_with_query(Some(upstream.path_with_query))
                .map_err(refused(TargetPart::PathWithQuery))
        }
    };
}

/// `$vis fn client_scheme(scheme: &Option<$Scheme>) -> corsgate_core::ClientScheme<'_>`: the
/// scheme the host says the client used, as the engine's type (`http` when it says none).
#[macro_export]
macro_rules! client_scheme {
    ($vis:vis $Scheme:ty) => {
        /// The scheme the host says the client used (`http` when it says none).
        $vis fn client_scheme(scheme: &Option<$Scheme>) -> ::corsgate_core::ClientScheme<'_> {
            use ::corsgate_core::ClientScheme;
            type S = $Scheme;
            match scheme {
                Some(S::Https) => ClientScheme::Https,
                Some(S::Other(other)) => ClientScheme::Other(other),
                Some(S::Http) | None => ClientScheme::Http,
            }
        }
    };
}
