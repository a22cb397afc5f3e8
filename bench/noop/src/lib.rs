//! The host's limit: same SDK and release profile as corsgate, and only the host calls of the
//! chosen mode, fixed at build time by `BENCH_MODE`:
//!
//! - unset: no work at all, a bare `204`;
//! - `cors`: the host calls every CORS answer needs (read the four headers a preflight decision
//!   looks at, answer with six fixed headers), and no logic;
//! - `cors-logged`: that, plus what one access log line needs (read the method and path, two
//!   clock readings, one line written to stderr).
//!
//! Side by side with corsgate they split its cost into what the host charges for any CORS answer
//! and what corsgate's own code adds.

#[cfg(target_arch = "wasm32")]
mod answer;

/// The `wasi:http/incoming-handler` export (spin-sdk's macro generates `unsafe` ABI glue).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use std::io::Write;

    use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
    use wasi::clocks::monotonic_clock;

    const MODE: &str = match option_env!("BENCH_MODE") {
        Some(mode) => mode,
        None => "",
    };

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let logged = MODE == "cors-logged";
        let started = logged.then(monotonic_clock::now);
        let fields = if MODE.starts_with("cors") {
            cors_answer(&request)
        } else {
            Fields::new()
        };
        let response = OutgoingResponse::new(fields);
        let _ = response.set_status_code(204);
        out.set(response);
        if let Some(started) = started {
            let method = request.method();
            let path = request.path_with_query().unwrap_or_default();
            let micros = (monotonic_clock::now() - started) / 1000;
            // The length of corsgate's line for an allowed preflight, written the same way.
            let line = format!(
                "corsgate route=api kind=preflight method={method} path={path} \
                 origin=https://app.example.com decision=allowed status=204 upstream_status=- \
                 duration_ms={}.{:03}\n",
                micros / 1000,
                micros % 1000
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    fn cors_answer(request: &IncomingRequest) -> Fields {
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
        let list = crate::answer::answer_headers(&origin);
        Fields::from_list(&list).unwrap_or_else(|_| Fields::new())
    }
}
