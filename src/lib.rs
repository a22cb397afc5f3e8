//! corsgate, the WASIp2 gateway: its compiled-in policies and settings, its export, and one call
//! into the WASIp2 adapter library (`corsgate-wasi-p2`), which does the rest.

/// The route table and the settings' defaults this build compiled in (`build.rs`; CONTRACT.md
/// §3).
#[cfg(target_arch = "wasm32")]
mod compiled {
    include!(concat!(env!("OUT_DIR"), "/compiled.rs"));
}

/// The `wasi:http/incoming-handler` export. spin-sdk's macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the package allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use crate::compiled::{BUILT_IN_SETTINGS, ROUTES};

    #[spin_sdk::http_component]
    async fn handle(
        request: spin_sdk::http::IncomingRequest,
        out: spin_sdk::http::ResponseOutparam,
    ) {
        let settings = corsgate_wasi_p2::settings(BUILT_IN_SETTINGS);
        corsgate_wasi_p2::serve(&ROUTES, &settings, request, out.into_inner());
    }
}
