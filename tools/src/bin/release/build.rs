//! The reproducible build: the same sources give byte-identical artifacts whatever the
//! checkout's path, the target folder, the user's `CARGO_HOME` or the time of day.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use corsgate_core::settings::Settings;

use crate::artifacts::{Component, CLI_PACKAGE, CLI_TARGET, COMPONENTS, PLUGIN_NAME};

/// What one build produced, in the target folder.
#[derive(Debug)]
pub(crate) struct Built {
    /// Each released component's `.wasm`, in table order.
    pub(crate) components: Vec<(Component, PathBuf)>,
    /// The CLI for [`CLI_TARGET`].
    pub(crate) cli: PathBuf,
    /// The seconds since the epoch every timestamp of the release is set to.
    pub(crate) epoch: u64,
}

/// Builds every released artifact from the checkout `source` into `target_dir`.
pub(crate) fn build(source: &Path, target_dir: &Path) -> Result<Built, String> {
    let epoch = source_date_epoch(source)?;
    let wasm: Vec<&str> = COMPONENTS.iter().map(|c| c.package).collect();
    cargo(source, target_dir, epoch, "wasm32-wasip2", &wasm)?;
    cargo(source, target_dir, epoch, CLI_TARGET, &[CLI_PACKAGE])?;
    let release = |target: &str| target_dir.join(target).join("release");
    Ok(Built {
        components: COMPONENTS
            .iter()
            .map(|c| (*c, release("wasm32-wasip2").join(c.file_name())))
            .collect(),
        cli: release(CLI_TARGET).join(PLUGIN_NAME),
        epoch,
    })
}

/// `SOURCE_DATE_EPOCH` when the caller sets it (reproducible-builds.org), else the time of the
/// checkout's last commit: fixed by the sources, unlike the clock.
fn source_date_epoch(source: &Path) -> Result<u64, String> {
    let text = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value,
        Err(_) => {
            let output = Command::new("git")
                .args(["log", "-1", "--format=%ct"])
                .current_dir(source)
                .output()
                .map_err(|e| format!("run git in {}: {e}", source.display()))?;
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    };
    text.trim().parse().map_err(|_| {
        format!(
            "no commit time in {} and no SOURCE_DATE_EPOCH",
            source.display()
        )
    })
}

fn cargo(
    source: &Path,
    target_dir: &Path,
    epoch: u64,
    target: &str,
    packages: &[&str],
) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(source)
        .args(["build", "--locked", "--release", "--target", target])
        .args(packages.iter().flat_map(|p| ["--package", p]))
        .env("CARGO_TARGET_DIR", target_dir)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        // Set as a whole, so no flag from the caller's environment or cargo configuration
        // (which these variables override) changes the code.
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            remap_flags(source, target_dir).join("\x1f"),
        )
        .env_remove("RUSTFLAGS")
        // The build compiles these in: the policy folder and the settings' defaults. A release
        // ships the shipped defaults, whatever the releaser's shell holds.
        .env_remove("CORSGATE_POLICIES")
        .stdin(Stdio::null());
    for name in Settings::variables() {
        command.env_remove(name);
    }
    let status = command
        .status()
        .map_err(|e| format!("run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --target {target} failed ({status})"));
    }
    Ok(())
}

/// `--remap-path-prefix` for every folder whose path would otherwise end up in the binaries
/// (panic locations name source files): the checkout, cargo's home (registry sources) and the
/// target folder (generated sources under `OUT_DIR`). rustc applies the last matching flag, so
/// the target folder, often inside the checkout, comes last.
fn remap_flags(source: &Path, target_dir: &Path) -> Vec<String> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    [
        Some((absolute(source), "/corsgate")),
        cargo_home.map(|home| (absolute(&home), "/cargo")),
        Some((absolute(target_dir), "/target")),
    ]
    .into_iter()
    .flatten()
    .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
    .collect()
}
