//! A trivial forwarder: every request goes to `BENCH_UPSTREAM` (build-time, default
//! 127.0.0.1:8081) through corsgate's own upstream module, with hop-by-hop headers dropped, and
//! the response streamed back as it is. No routing, no CORS: the difference to corsgate is what
//! the CORS work costs.

#[cfg(target_arch = "wasm32")]
#[path = "../../../src/upstream.rs"]
#[allow(dead_code)] // The failure and byte-count details corsgate logs are not reported here.
mod upstream;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use corsgate_core::forwarding::is_hop_by_hop;
    use spin_sdk::http::{
        Fields, IncomingRequest, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme,
    };

    use crate::upstream::{exchange, relay_body};

    const UPSTREAM: &str = match option_env!("BENCH_UPSTREAM") {
        Some(upstream) => upstream,
        None => "127.0.0.1:8081",
    };

    fn fields(entries: &[(String, Vec<u8>)]) -> Fields {
        let fields = Fields::new();
        for (name, value) in entries
            .iter()
            .filter(|(n, _)| !is_hop_by_hop(n) && n != "host")
        {
            let _ = fields.append(name, value);
        }
        fields
    }

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let outgoing = OutgoingRequest::new(fields(&request.headers().entries()));
        let _ = outgoing.set_method(&request.method());
        let _ = outgoing.set_scheme(Some(&Scheme::Http));
        let _ = outgoing.set_authority(Some(UPSTREAM));
        let _ = outgoing.set_path_with_query(request.path_with_query().as_deref());
        let out = out.into_inner();
        match exchange(&request, outgoing, 10_000) {
            Ok(response) => {
                let client = OutgoingResponse::new(fields(&response.headers().entries()));
                let _ = client.set_status_code(response.status());
                let body = client.body().expect("a new response has a body");
                spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam::set(out, Ok(client));
                relay_body(&response, body);
            }
            Err(_) => {
                let client = OutgoingResponse::new(Fields::new());
                let _ = client.set_status_code(502);
                spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam::set(out, Ok(client));
            }
        }
    }
}
