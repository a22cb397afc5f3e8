//! The host's limit: same SDK and release profile as corsgate, no work at all. Built with
//! `BENCH_CORS_SHAPED=1` it makes the host calls every CORS answer needs (reads the four
//! headers a preflight decision looks at, answers with seven fixed headers) and nothing else:
//! the host's limit for a CORS answer.

/// The `wasi:http/incoming-handler` export (spin-sdk's macro generates `unsafe` ABI glue).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};

    const CORS_SHAPED: bool = option_env!("BENCH_CORS_SHAPED").is_some();

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let fields = if CORS_SHAPED {
            let headers = request.headers();
            let origin = headers.get("origin");
            for name in [
                "access-control-request-method",
                "access-control-request-headers",
                "access-control-request-private-network",
            ] {
                std::hint::black_box(headers.get(name));
            }
            let origin = origin.into_iter().next().unwrap_or_default();
            let list: Vec<(String, Vec<u8>)> = [
                ("access-control-allow-origin", origin.as_slice()),
                ("access-control-allow-credentials", b"true"),
                ("access-control-allow-methods", b"GET, POST, PUT, DELETE"),
                (
                    "access-control-allow-headers",
                    b"authorization, content-type",
                ),
                ("access-control-max-age", b"600"),
                (
                    "vary",
                    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ),
                ("x-content-type-options", b"nosniff"),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect();
            Fields::from_list(&list).unwrap_or_else(|_| Fields::new())
        } else {
            Fields::new()
        };
        let response = OutgoingResponse::new(fields);
        let _ = response.set_status_code(204);
        out.set(response);
    }
}
