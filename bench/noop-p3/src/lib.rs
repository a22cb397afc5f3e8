//! The WASIp3 host's limit: same bindings and release profile as the WASIp3 gateway, and only
//! the host calls of the chosen mode, fixed at build time by `BENCH_MODE`:
//!
//! - unset: no work at all, a bare `204`;
//! - `cors-logged`: the host calls the WASIp3 gateway makes for an allowed preflight with its
//!   default log setting (read the method, path and header fields, answer with six fixed
//!   headers, two clock readings, one line written to stderr), and no logic.

#[cfg(target_arch = "wasm32")]
#[path = "../../noop/src/answer.rs"]
mod answer;

/// The `wasi:http/handler` export (the bindings' macro generates `unsafe` ABI glue).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use std::io::Write;

    use wasip3::clocks::monotonic_clock;
    use wasip3::http::types::{ErrorCode, Fields, Request, Response};
    use wasip3::wit_future;

    const MODE: &str = match option_env!("BENCH_MODE") {
        Some(mode) => mode,
        None => "",
    };

    struct Noop;

    impl wasip3::exports::http::handler::Guest for Noop {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let (_trailers_writer, trailers) = wit_future::new(|| Ok(None));
            if MODE != "cors-logged" {
                let (response, _) = Response::new(Fields::new(), None, trailers);
                let _ = response.set_status_code(204);
                return Ok(response);
            }
            let started = monotonic_clock::now();
            let method = request.get_method();
            let path = request.get_path_with_query().unwrap_or_default();
            let headers = request.get_headers().copy_all();
            let origin = headers
                .iter()
                .find(|(n, _)| n == "origin")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let list = crate::answer::answer_headers(&origin);
            let fields = Fields::from_list(&list).map_err(|_| ErrorCode::InternalError(None))?;
            let (response, _) = Response::new(fields, None, trailers);
            let _ = response.set_status_code(204);
            let micros = (monotonic_clock::now() - started) / 1000;
            // The length of corsgate's line for an allowed preflight, written the same way.
            let line = format!(
                "corsgate route=api kind=preflight method={method:?} path={path} \
                 origin=https://app.example.com decision=allowed status=204 upstream_status=- \
                 duration_ms={}.{:03}\n",
                micros / 1000,
                micros % 1000
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            Ok(response)
        }
    }

    wasip3::http::service::export!(Noop);
}
