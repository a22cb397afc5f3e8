//! corsgate as a WASIp3 HTTP middleware (`wasi:http/middleware`): it exports
//! `wasi:http/handler` and imports the next one, the app it guards, composed into one component
//! (`wac plug`) or chained by the host (Spin 4.1's `dependencies.middleware`). Preflights are
//! answered here without calling the app; actual requests go to the app as they came and come
//! back with the policy's CORS headers (the app's own `Access-Control-*` removed, `Vary`
//! merged). Paths without a policy pass through untouched. This package is the shell: its
//! compiled-in policies and settings, its export and import, and one call into the WASIp3
//! adapter library (`corsgate-wasi-p3`).

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

    struct Middleware;

    impl wasip3::exports::http::handler::Guest for Middleware {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let settings = corsgate_wasi_p3::instance_settings(BUILT_IN_SETTINGS);
            let next = corsgate_wasi_p3_next::handle;
            corsgate_wasi_p3::middleware::serve(
                &ROUTES,
                settings,
                &crate::live::CHANNEL,
                request,
                next,
            )
            .await
        }
    }

    wasip3::http::service::export!(Middleware);
}

/// Where this build reads its live origin lists: one file for every shell.
#[cfg(target_arch = "wasm32")]
#[path = "../../live_channel.rs"]
mod live;
