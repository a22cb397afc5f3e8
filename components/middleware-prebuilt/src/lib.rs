//! corsgate's prebuilt WASIp3 HTTP middleware: the same middleware as `corsgate-middleware`,
//! with no policy compiled in. Each instance reads its policy folder from the files mount
//! (`/corsgate/policies`) on its first request, validates it with the engine's validator and guards the
//! app by the route table that gives; without a valid one it hands every request to the app and
//! adds nothing (no CORS header: the browser then refuses cross-origin reads, which is closed).

/// The `wasi:http/handler` export. The bindings' macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the package allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use corsgate_wasi_p3::{instance_settings, middleware, policy_folder};
    use wasip3::http::types::{ErrorCode, Request, Response};

    struct PrebuiltMiddleware;

    impl wasip3::exports::http::handler::Guest for PrebuiltMiddleware {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let settings = instance_settings(&[]);
            match policy_folder::instance_routes(
                "every request goes to the app as it came, with no CORS header added",
            ) {
                Some(routes) => {
                    middleware::serve(
                        routes,
                        settings,
                        &crate::live::CHANNEL,
                        request,
                        corsgate_wasi_p3_next::handle,
                    )
                    .await
                }
                None => corsgate_wasi_p3_next::handle(request).await,
            }
        }
    }

    wasip3::http::service::export!(PrebuiltMiddleware);
}

/// Where this build reads its live origin lists: one file for every shell.
#[cfg(target_arch = "wasm32")]
#[path = "../../live_channel.rs"]
mod live;
