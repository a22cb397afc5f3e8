//! corsgate's prebuilt WASIp3 gateway (`wasi:http/handler@0.3.0`): the same gateway as
//! `corsgate-p3`, with no policy compiled in. Each instance reads its policy folder from the
//! files mount (`/corsgate/policies`) on its first request, validates it with the engine's validator and
//! serves by the route table that gives; without a valid one it fails closed. Settings come from
//! the environment only: a prebuilt artifact has no build of the user's to fix them in.

/// The `wasi:http/handler` export. The bindings' macro generates the component ABI glue,
/// which is `unsafe` code; this module is the only place in the package allowed to hold it.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use corsgate_wasi_p3::{gateway, instance_settings, policy_folder};
    use wasip3::http::types::{ErrorCode, Request, Response};

    struct PrebuiltGateway;

    impl wasip3::exports::http::handler::Guest for PrebuiltGateway {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let settings = instance_settings(&[]);
            match policy_folder::instance_routes(
                "every request is answered 503, with no CORS header",
            ) {
                Some(routes) => {
                    gateway::serve(routes, settings, &crate::live::CHANNEL, request).await
                }
                None => Ok(gateway::serve_without_policy(settings, request)),
            }
        }
    }

    wasip3::http::service::export!(PrebuiltGateway);
}

/// Where this build reads its live origin lists: one file for every shell.
#[cfg(target_arch = "wasm32")]
#[path = "../../live_channel.rs"]
mod live;
