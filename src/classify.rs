//! The host's wasi-http error codes as the engine's failure classes. WASI 0.2 and 0.3 name the
//! codes alike, so the WASIp2 and WASIp3 components both include this file (as a child module
//! of their `upstream` module, whose `ErrorCode` it matches on).

use corsgate_core::{UpstreamCause, UpstreamFailure};

use super::ErrorCode;

/// The host's error code, as the engine's failure classes.
pub fn classify(code: &ErrorCode) -> UpstreamFailure {
    use UpstreamCause as Cause;
    UpstreamFailure::Unreachable(match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::HttpResponseTimeout => return UpstreamFailure::Timeout,
        ErrorCode::ConnectionRefused => Cause::ConnectionRefused,
        ErrorCode::ConnectionTerminated | ErrorCode::ConnectionLimitReached => {
            Cause::ConnectionClosed
        }
        ErrorCode::DnsError(_) => Cause::NameNotResolved,
        ErrorCode::DestinationUnavailable | ErrorCode::DestinationNotFound => Cause::Unavailable,
        ErrorCode::DestinationIpUnroutable | ErrorCode::DestinationIpProhibited => {
            Cause::AddressUnreachable
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => Cause::TlsFailed,
        ErrorCode::HttpProtocolError
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::HttpResponseBodySize(_) => Cause::Malformed,
        ErrorCode::HttpRequestDenied => Cause::DeniedByHost,
        other => Cause::Other(format!("{other:?}")),
    })
}
