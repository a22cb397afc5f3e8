//! A small WASIp3 API (`wasi:http/handler@0.3.0`): it answers every request with its method,
//! path and body size as JSON, and sets CORS headers of its own (`*`) and a `Vary`, as an app
//! that knows nothing of the gateway would: corsgate in front must replace the first and merge
//! the second.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the bindings' export glue
mod export {
    use wasip3::http::types::{ErrorCode, Fields, Method, Request, Response};
    use wasip3::wit_bindgen::StreamResult;
    use wasip3::{wit_bindgen, wit_future, wit_stream};

    struct Api;

    impl wasip3::exports::http::handler::Guest for Api {
        async fn handle(request: Request) -> Result<Response, ErrorCode> {
            let method = match request.get_method() {
                Method::Get => "GET".to_string(),
                Method::Post => "POST".to_string(),
                Method::Put => "PUT".to_string(),
                Method::Delete => "DELETE".to_string(),
                Method::Options => "OPTIONS".to_string(),
                Method::Head => "HEAD".to_string(),
                Method::Patch => "PATCH".to_string(),
                Method::Connect => "CONNECT".to_string(),
                Method::Trace => "TRACE".to_string(),
                Method::Other(other) => other,
            };
            let path = request.get_path_with_query().unwrap_or_default();
            let (_done, done_reader) = wit_future::new(|| Ok(()));
            let (mut body, _trailers) = Request::consume_body(request, done_reader);
            let mut body_bytes = 0usize;
            loop {
                let (result, data) = body.read(Vec::with_capacity(64 * 1024)).await;
                match result {
                    StreamResult::Complete(_) => body_bytes += data.len(),
                    StreamResult::Dropped | StreamResult::Cancelled => break,
                }
            }
            let json = format!(
                "{{\"app\":\"example-p3-api\",\"method\":{method:?},\"path\":{path:?},\"body_bytes\":{body_bytes}}}"
            );
            let headers = Fields::from_list(&[
                ("content-type".into(), b"application/json".to_vec()),
                ("access-control-allow-origin".into(), b"*".to_vec()),
                ("vary".into(), b"Accept-Encoding".to_vec()),
            ])
            .map_err(|_| ErrorCode::InternalError(None))?;
            let (mut writer, reader) = wit_stream::new();
            let (_trailers_writer, trailers) = wit_future::new(|| Ok(None));
            let (response, _transmitted) = Response::new(headers, Some(reader), trailers);
            wit_bindgen::spawn(async move {
                let _unwritten = writer.write_all(json.into_bytes()).await;
            });
            Ok(response)
        }
    }

    wasip3::http::service::export!(Api);
}
