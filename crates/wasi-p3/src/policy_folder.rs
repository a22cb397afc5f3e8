//! A prebuilt artifact's policies: the folder mounted at [`MOUNT`], read and validated by the
//! engine's own validator (the one `corsgate check` and the compiled-in builds use, with the same
//! diagnostics) once per instance, on its first request, into the same route table a build
//! compiles in.
//!
//! Fail closed: when the folder is missing or invalid, every diagnostic is logged once, as
//! `file:line:column: message (help)`, and the instance has no route table. The gateway then
//! answers every request `503` with no CORS header; the middleware hands every request to the
//! app and adds nothing. Never a guessed policy.

use std::path::Path;
use std::sync::OnceLock;

use corsgate_core::config::load_policy_folder;
use corsgate_core::RouteTable;

use crate::instance::write;

/// Where a prebuilt artifact reads its policy folder: the destination of its files mount (Spin:
/// `files = [{ source = "policies", destination = "/corsgate/policies" }]` on the component, or
/// on the app a middleware inherits `files` from; `wasmtime serve --dir
/// policies::/corsgate/policies`). Namespaced: a middleware shares the app's mounts.
pub const MOUNT: &str = "/corsgate/policies";

/// The instance's route table, read from [`MOUNT`] on its first request and kept for every
/// other; `None` when the folder is missing or invalid (each problem then logged once).
/// `consequence` says in that log what the artifact does without a policy.
pub fn instance_routes(consequence: &str) -> Option<&'static RouteTable> {
    static ROUTES: OnceLock<Option<RouteTable>> = OnceLock::new();
    ROUTES
        .get_or_init(|| match load_policy_folder(Path::new(MOUNT)) {
            Ok(table) => Some(table),
            Err(errors) => {
                let mut report = format!(
                    "corsgate: no valid policy in {MOUNT} ({} error(s)); {consequence}\n",
                    errors.len()
                );
                for error in &errors {
                    report.push_str(&format!("{error}\n"));
                }
                write(&report);
                None
            }
        })
        .as_ref()
}
