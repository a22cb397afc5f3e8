//! The next handler of a middleware chain, the app behind the middleware: the one import a
//! corsgate middleware has beyond the WASI HTTP service world, under the name
//! `wasi:http/middleware` gives it (`wit/world.wit`). Composed into one component by
//! `wac plug`, or chained by the host (Spin 4.1's `dependencies.middleware`).
//!
//! A crate of its own, depended on by the middleware shells only: wit-bindgen keeps a world's
//! imports in every component that links its bindings, used or not, and a cargo feature of the
//! adapter library would be unified into the gateways whenever one `cargo build` builds both
//! (seen: the WASIp3 gateway then imported `wasi:http/handler`, which no gateway host provides).
//!
//! The bindings' macro generates the component ABI glue, which is `unsafe` code.

#![cfg(target_arch = "wasm32")]
#![allow(unsafe_code)]

wasip3::wit_bindgen::generate!({
    world: "next",
    path: "wit",
    runtime_path: "wasip3::wit_bindgen::rt",
    with: {
        "wasi:http/types@0.3.0": wasip3::http::types,
        "wasi:clocks/types@0.3.0": wasip3::clocks::types,
    },
    generate_all,
});

pub use self::wasi::http::handler::handle;
