//! A trivial forwarder: every request goes to `BENCH_UPSTREAM` (build-time, default
//! 127.0.0.1:8081) through the WASIp2 adapter library's upstream exchange, with hop-by-hop
//! headers dropped, and the response streamed back as it is. No routing, no CORS: the difference
//! to corsgate is what the CORS work costs.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use corsgate_core::forwarding::is_hop_by_hop;
    use corsgate_wasi_p2::fields;
    use corsgate_wasi_p2::upstream::{relay_body, send};
    use spin_sdk::http::{
        Fields, IncomingRequest, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme,
    };

    const UPSTREAM: &str = match option_env!("BENCH_UPSTREAM") {
        Some(upstream) => upstream,
        None => "127.0.0.1:8081",
    };

    /// The headers minus hop-by-hop ones and `host`, in one host call as corsgate builds them.
    fn forwarded_fields(entries: &[(String, Vec<u8>)]) -> Fields {
        fields(
            entries
                .iter()
                .filter(|(n, _)| !is_hop_by_hop(n) && n != "host")
                .map(|(n, v)| (n.as_str(), v.as_slice())),
        )
    }

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let entries = request.headers().entries();
        let has_length = entries
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        let outgoing = OutgoingRequest::new(forwarded_fields(&entries));
        let _ = outgoing.set_method(&request.method());
        let _ = outgoing.set_scheme(Some(&Scheme::Http));
        let _ = outgoing.set_authority(Some(UPSTREAM));
        let _ = outgoing.set_path_with_query(request.path_with_query().as_deref());
        let out = out.into_inner();
        match send(&request, outgoing, has_length, 10_000) {
            Ok(response) => {
                let client = OutgoingResponse::new(forwarded_fields(&response.headers().entries()));
                let _ = client.set_status_code(response.status());
                let body = client.body();
                spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam::set(out, Ok(client));
                if let Ok(body) = body {
                    relay_body(&response, body);
                }
            }
            Err(_) => {
                let client = OutgoingResponse::new(Fields::new());
                let _ = client.set_status_code(502);
                spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam::set(out, Ok(client));
            }
        }
    }
}
