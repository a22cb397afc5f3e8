//! What a release ships: the one table of prebuilt components, and the CLI plugin.

/// How a released component is used, which decides where the app manifest puts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The gateway the pushed app serves.
    Gateway,
    /// The middleware users attach to their own app (pushed as a component only).
    Middleware,
}

/// A WASIp3 component built from a workspace package for `wasm32-wasip2`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Component {
    pub(crate) package: &'static str,
    pub(crate) role: Role,
}

/// The released components: the prebuilt ones, which read their policies from a files mount,
/// so that users need no Rust toolchain.
pub(crate) const COMPONENTS: [Component; 2] = [
    Component::new("corsgate-p3-prebuilt", Role::Gateway),
    Component::new("corsgate-middleware-prebuilt", Role::Middleware),
];

impl Component {
    const fn new(package: &'static str, role: Role) -> Component {
        Component { package, role }
    }

    /// The file cargo writes, which is also its name in the release folder.
    pub(crate) fn file_name(&self) -> String {
        format!("{}.wasm", self.package.replace('-', "_"))
    }

    /// Its repository in a registry, under the release's namespace.
    pub(crate) fn repository(&self) -> String {
        format!("corsgate/{}", self.package)
    }
}

/// The gateway the pushed app serves.
pub(crate) fn gateway() -> Component {
    COMPONENTS
        .into_iter()
        .find(|c| c.role == Role::Gateway)
        .expect("the table holds a gateway")
}

/// The CLI's package and binary; Spin runs a plugin by its name, so the binary's name is the
/// plugin's (`spin corsgate`).
pub(crate) const CLI_PACKAGE: &str = "corsgate-cli";
pub(crate) const PLUGIN_NAME: &str = "corsgate";

/// The CLI is released for this target only, and the plugin manifest says so.
pub(crate) const CLI_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The release's version: the workspace's, which this tool shares.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
