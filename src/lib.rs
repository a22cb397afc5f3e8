//! corsgate: the WebAssembly HTTP component. A thin adapter: it reads the request, asks
//! corsgate-core what to do, and either answers (preflights, errors) or forwards to the route's
//! upstream with bodies streamed both ways.

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
mod respond;
#[cfg(target_arch = "wasm32")]
mod upstream;

/// The `wasi:http/incoming-handler` export. spin-sdk's macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the workspace allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    async fn handle(
        request: spin_sdk::http::IncomingRequest,
        out: spin_sdk::http::ResponseOutparam,
    ) {
        super::handler::handle(request, out.into_inner());
    }
}
