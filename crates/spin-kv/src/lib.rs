//! The Spin channel of live origin lists: one key in a Spin key-value store, read through
//! `spin:key-value@3.0.0`, whose calls are asynchronous in WASIp3 (the synchronous
//! `wasi:keyvalue` draft Spin also offers would stall the instance's other requests while it
//! waits on the store).
//!
//! A crate of its own, depended on by the Spin flavor of the artifacts only: wit-bindgen keeps
//! a world's imports in every component that links its bindings, and `wasmtime serve` has no
//! `spin:key-value`, so a component importing it does not start there (`crates/wasi-p3-next`
//! says the same of the middleware's import).
//!
//! The store stays open across the requests of an instance (Spin's Redis store sends a `PING`
//! on every open) until a read fails. Spin copies a value into the guest whole before the
//! gateway can measure it: the store's own limits (Redis `maxmemory`, an ACL that lets only the
//! publisher write) bound what an instance may be handed; the gateway refuses anything over
//! 64 KiB once it has it.
//!
//! The bindings' macro generates the component ABI glue, which is `unsafe` code.

#![cfg(target_arch = "wasm32")]
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::rc::Rc;

use corsgate_core::live::list::STORE_KEY;
use corsgate_wasi_p3::LiveStore;

mod bindings {
    wasip3::wit_bindgen::generate!({
        world: "spin-kv",
        path: "wit",
        runtime_path: "wasip3::wit_bindgen::rt",
        generate_all,
    });
}

use bindings::spin::key_value::key_value::{Error, Store};

/// The live origin list under [`STORE_KEY`] in the Spin key-value store labelled
/// [`SpinKv::LABEL`] (the manifest's `key_value_stores`; a middleware inherits its app's with
/// `inherit_configuration = ["key_value_stores"]`).
#[derive(Clone, Copy, Debug)]
pub struct SpinKv;

impl SpinKv {
    /// The store's label.
    pub const LABEL: &'static str = "corsgate";
}

std::thread_local! {
    /// The instance's open store (its requests interleave only at awaits).
    static STORE: RefCell<Option<Rc<Store>>> = const { RefCell::new(None) };
}

impl LiveStore for SpinKv {
    async fn read(&self) -> Result<Option<Vec<u8>>, String> {
        let store = match STORE.with_borrow(Clone::clone) {
            Some(store) => store,
            None => {
                let store = Rc::new(
                    Store::open(SpinKv::LABEL.to_string())
                        .await
                        .map_err(|e| describe(&e))?,
                );
                STORE.set(Some(Rc::clone(&store)));
                store
            }
        };
        let value = store.get(STORE_KEY.to_string()).await;
        if value.is_err() {
            // Opened afresh next time, in case the handle is what failed.
            STORE.set(None);
        }
        value.map_err(|e| describe(&e))
    }
}

fn describe(error: &Error) -> String {
    let label = SpinKv::LABEL;
    match error {
        Error::AccessDenied => format!(
            "key-value store `{label}` is not allowed: add `key_value_stores = [\"{label}\"]` to the component (a middleware inherits its app's with `inherit_configuration = [\"key_value_stores\"]`)"
        ),
        Error::NoSuchStore => format!("no key-value store `{label}` on this host"),
        Error::StoreTableFull => "too many key-value stores open".into(),
        Error::Other(message) => format!("key-value store `{label}`: {message}"),
    }
}
