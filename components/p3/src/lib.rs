//! corsgate as a WASIp3 HTTP component (`wasi:http/handler@0.3.0`): the same engine and
//! compiled-in policies as the WASIp2 gateway, behind an adapter of wasi I/O glue. Hosts reuse
//! an instance for many requests, several at once (Spin 4.1+: 128 requests, `wasmtime serve`
//! the same by default), so nothing about a request lives in a static; the settings are read
//! once per instance.

#[cfg(target_arch = "wasm32")]
mod routes {
    include!(concat!(env!("OUT_DIR"), "/routes.rs"));
}

/// The settings' defaults from the build's environment (CONTRACT.md §3).
#[cfg(target_arch = "wasm32")]
mod built_in {
    include!(concat!(env!("OUT_DIR"), "/settings.rs"));
}

#[cfg(target_arch = "wasm32")]
mod handler;
#[cfg(target_arch = "wasm32")]
mod incoming;
#[cfg(target_arch = "wasm32")]
mod instance;
#[cfg(target_arch = "wasm32")]
mod respond;
#[cfg(target_arch = "wasm32")]
mod upstream;

/// The `wasi:http/handler` export. The bindings' macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the crate allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use wasip3::http::types::{ErrorCode, Request, Response};

    struct Gateway;

    impl wasip3::exports::http::handler::Guest for Gateway {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            super::handler::handle(request).await
        }
    }

    wasip3::http::service::export!(Gateway);
}
