//! The host's limit: same SDK and release profile as corsgate, no work at all.

/// The `wasi:http/incoming-handler` export (spin-sdk's macro generates `unsafe` ABI glue).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};

    #[spin_sdk::http_component]
    async fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let response = OutgoingResponse::new(Fields::new());
        let _ = response.set_status_code(204);
        out.set(response);
    }
}
