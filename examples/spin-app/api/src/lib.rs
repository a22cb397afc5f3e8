//! An API of the example app (examples/spin-app): one Spin component per API on a private
//! route, reached only through the gateway by local service chaining. It answers every request
//! with JSON naming the API (`API_NAME` from its environment), the method, path and the headers
//! it received, and, as APIs that answered CORS themselves often do, its own
//! `Access-Control-Allow-Origin: *`, which the gateway replaces with the policy's.

/// The `wasi:http/incoming-handler` export (spin-sdk's macro generates `unsafe` ABI glue).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IntoResponse, Request, Response};

    #[spin_sdk::http_component]
    fn handle(request: Request) -> impl IntoResponse {
        let name = std::env::var("API_NAME").unwrap_or_else(|_| "api".into());
        let headers: Vec<String> = request
            .headers()
            .map(|(n, v)| format!("[{:?},{:?}]", n, String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let body = format!(
            "{{\"api\":{name:?},\"method\":{:?},\"path\":{:?},\"headers\":[{}]}}",
            request.method().to_string(),
            request.path_and_query().unwrap_or("/"),
            headers.join(",")
        );
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("access-control-allow-origin", "*")
            .body(body)
            .build()
    }
}
