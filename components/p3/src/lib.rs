//! corsgate as a WASIp3 HTTP component (`wasi:http/handler@0.3.0`): its compiled-in policies and
//! settings, its export, and one call into the WASIp3 adapter library (`corsgate-wasi-p3`),
//! which serves it. Hosts reuse an instance for many requests, several at once.

/// The route table and the settings' defaults this build compiled in (`build.rs`; CONTRACT.md
/// §3).
#[cfg(target_arch = "wasm32")]
mod compiled {
    include!(concat!(env!("OUT_DIR"), "/compiled.rs"));
}

/// The `wasi:http/handler` export. The bindings' macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the package allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use wasip3::http::types::{ErrorCode, Request, Response};

    use crate::compiled::{BUILT_IN_SETTINGS, ROUTES};

    struct Gateway;

    impl wasip3::exports::http::handler::Guest for Gateway {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let settings = corsgate_wasi_p3::instance_settings(BUILT_IN_SETTINGS);
            corsgate_wasi_p3::gateway::serve(&ROUTES, settings, &crate::live::CHANNEL, request)
                .await
        }
    }

    wasip3::http::service::export!(Gateway);
}

/// Where this build reads its live origin lists: one file for every shell.
#[cfg(target_arch = "wasm32")]
#[path = "../../live_channel.rs"]
mod live;
