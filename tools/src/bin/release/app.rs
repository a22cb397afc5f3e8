//! The app pushed with `spin registry push`: the prebuilt gateway serving the policy folder
//! mounted beside it, with the outbound hosts its upstreams need.

use std::path::Path;

use corsgate_core::config::load_route_table;

use crate::artifacts::{gateway, VERSION};

/// Where the prebuilt gateway reads its policies (CONTRACT.md).
const POLICIES_MOUNT: &str = "/corsgate/policies";

/// Writes `dir/spin.toml` and `dir/policies/` (a copy of `policies`), the gateway being
/// `../<file>` in the release folder. Fails with every error when a policy is invalid: an app
/// that would refuse to start is not released.
pub(crate) fn write(dir: &Path, policies: &Path) -> Result<(), String> {
    let table = load_route_table(policies).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!(
            "invalid policies in {}:\n{}",
            policies.display(),
            lines.join("\n")
        )
    })?;
    let mut hosts: Vec<String> = table
        .routes()
        .iter()
        .map(|route| {
            let upstream = route.upstream();
            format!(
                "\"{}://{}\"",
                upstream.scheme().as_str(),
                upstream.authority()
            )
        })
        .collect();
    hosts.sort();
    hosts.dedup();

    let copy = dir.join("policies");
    std::fs::create_dir_all(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    let entries =
        std::fs::read_dir(policies).map_err(|e| format!("{}: {e}", policies.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().expect("a file has a name");
            std::fs::copy(&path, copy.join(name))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }

    let manifest = format!(
        r#"#:schema https://schemas.spinframework.dev/spin/manifest-v2/latest.json
# The prebuilt WASIp3 gateway (Spin 4.1 or later) serving the policies in policies/, which it
# reads at start-up from its files mount: edit them and push again, no Rust toolchain needed.
# `spin corsgate check policies` checks them and that allowed_outbound_hosts covers every upstream.
spin_manifest_version = 2

[application]
name = "corsgate"
version = "{VERSION}"
description = "Edge CORS gateway (prebuilt, WASIp3): answers preflights at the edge, forwards to the origin APIs"

[[trigger.http]]
route = "/..."
component = "corsgate"

[component.corsgate]
source = "../{wasm}"
files = [{{ source = "policies", destination = "{POLICIES_MOUNT}" }}]
allowed_outbound_hosts = [{hosts}]
environment = {{ CORSGATE_ACCESS_LOG = "all", CORSGATE_CLIENT_ADDRESS = "spin" }}
"#,
        wasm = gateway().file_name(),
        hosts = hosts.join(", "),
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).map_err(|e| format!("{}: {e}", path.display()))
}
