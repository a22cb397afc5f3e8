//! `corsgate-release`: builds the prebuilt artifacts reproducibly, records their digests,
//! packages the CLI as a Spin plugin, and pushes the app and the components to an OCI
//! registry. `scripts/release.sh` runs it; see there for the order.

#![forbid(unsafe_code)]

mod app;
mod artifacts;
mod build;
mod digests;
mod oci;
mod plugin;
mod tarball;
mod templates;
mod timestamp;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

use artifacts::{gateway, COMPONENTS, VERSION};

#[derive(Parser, Debug)]
#[command(name = "corsgate-release", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Step,
}

#[derive(Subcommand, Debug)]
enum Step {
    /// Build the artifacts from a checkout into a release folder: the components, the plugin
    /// tarball, SHA256SUMS, the plugin manifest and the app.
    Build {
        /// The release folder (emptied first).
        #[arg(long)]
        out: PathBuf,
        /// The checkout to build.
        #[arg(long, default_value = ".")]
        source: PathBuf,
        /// Cargo's target folder for the release build (its flags differ from a usual build's).
        #[arg(long)]
        target_dir: PathBuf,
        /// The policies the app serves (default: the checkout's policies/).
        #[arg(long)]
        policies: Option<PathBuf>,
        /// The URL the release folder will be served from, which the plugin manifest and the
        /// templates name (default: the folder's file:// URL, for installing on this machine).
        #[arg(long)]
        release_url: Option<String>,
    },
    /// Check that two release folders hold the same artifacts, byte for byte.
    Compare { first: PathBuf, second: PathBuf },
    /// Push a release folder's components and app to a registry over plain HTTP.
    Push {
        #[arg(long)]
        out: PathBuf,
        /// `host:port` of the registry.
        #[arg(long)]
        registry: String,
        /// The `spin` that pushes the app.
        #[arg(long, default_value = "spin")]
        spin: PathBuf,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Step::Build {
            out,
            source,
            target_dir,
            policies,
            release_url,
        } => {
            let policies = policies.unwrap_or_else(|| source.join("policies"));
            release(&out, &source, &target_dir, &policies, release_url)
        }
        Step::Compare { first, second } => compare(&first, &second),
        Step::Push {
            out,
            registry,
            spin,
        } => push(&out, &registry, &spin),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("corsgate-release: {message}");
            ExitCode::FAILURE
        }
    }
}

fn release(
    out: &Path,
    source: &Path,
    target_dir: &Path,
    policies: &Path,
    release_url: Option<String>,
) -> Result<(), String> {
    let built = build::build(source, target_dir)?;
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("{name}: {e}"))
    };

    let mut released = Vec::new();
    for (component, wasm) in &built.components {
        write(&component.file_name(), &read(wasm)?)?;
        released.push(component.file_name());
    }
    let tarball = plugin::tarball(&read(&built.cli)?, built.epoch)
        .map_err(|e| format!("plugin tarball: {e}"))?;
    write(&plugin::tarball_name(), &tarball)?;
    released.push(plugin::tarball_name());

    // The built artifacts only: the manifest and the templates name URLs, which vary with
    // where the release is served from.
    let sums = digests::write_sums(out, &released).map_err(|e| format!("SHA256SUMS: {e}"))?;
    let base = match release_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => plugin::file_url(out)?,
    };
    let plugin_url = format!("{base}/{}", plugin::tarball_name());
    write(
        plugin::MANIFEST_NAME,
        plugin::manifest(&tarball, &plugin_url).as_bytes(),
    )?;
    let gateway_file = gateway().file_name();
    let facts = templates::Facts {
        version: VERSION.to_string(),
        gateway_url: format!("{base}/{gateway_file}"),
        gateway_digest_hex: sums
            .iter()
            .find(|(name, _)| *name == gateway_file)
            .map(|(_, hex)| hex.clone())
            .expect("the gateway is in SHA256SUMS"),
        plugin_manifest_url: format!("{base}/{}", plugin::MANIFEST_NAME),
    };
    let templates = templates::tarball(&source.join("release/templates"), &facts, built.epoch)?;
    write(templates::TARBALL_NAME, &templates)?;
    app::write(&out.join("app"), policies)?;
    write(EPOCH_FILE, format!("{}\n", built.epoch).as_bytes())?;
    for (name, hex) in sums {
        println!("{hex}  {name}");
    }
    Ok(())
}

/// Both folders' SHA256SUMS, each checked against its files, must be equal.
fn compare(first: &Path, second: &Path) -> Result<(), String> {
    let (a, b) = (
        digests::read_and_verify(first)?,
        digests::read_and_verify(second)?,
    );
    if a != b {
        let differ: Vec<String> = a
            .iter()
            .filter(|entry| !b.contains(entry))
            .map(|(name, _)| name.clone())
            .collect();
        return Err(format!(
            "the two builds differ: {} (see {} and {})",
            differ.join(", "),
            first.join(digests::SUMS_FILE).display(),
            second.join(digests::SUMS_FILE).display()
        ));
    }
    println!("reproducible: {} artifacts byte-identical", a.len());
    Ok(())
}

fn push(out: &Path, registry_host: &str, spin: &Path) -> Result<(), String> {
    // Only what SHA256SUMS vouches for is pushed.
    let sums = digests::read_and_verify(out)?;
    let epoch = epoch_of(out)?;
    let registry = oci::Registry::insecure(registry_host);
    for component in COMPONENTS {
        let name = component.file_name();
        if !sums.iter().any(|(n, _)| *n == name) {
            return Err(format!("{name} is not in {}", digests::SUMS_FILE));
        }
        let wasm = std::fs::read(out.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        let reference = format!("{registry_host}/{}:{VERSION}", component.repository());
        let digest = registry.push_component(&component.repository(), VERSION, &wasm, epoch)?;
        println!("pushed {reference} ({digest})");
    }
    let reference = format!("{registry_host}/corsgate/app:{VERSION}");
    let manifest = out.join("app").join("spin.toml");
    let output = Command::new(spin)
        .args(["registry", "push", "--insecure", "--from"])
        .arg(&manifest)
        .arg(&reference)
        .output()
        .map_err(|e| format!("run {}: {e}", spin.display()))?;
    if !output.status.success() {
        return Err(format!(
            "spin registry push {reference} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    println!(
        "pushed {reference} (the app: {} and policies/)",
        gateway().file_name()
    );
    Ok(())
}

/// The file in the release folder that keeps the build's time, so that a push made later
/// stamps the components' configs with the time their build used.
const EPOCH_FILE: &str = "SOURCE_DATE_EPOCH";

fn epoch_of(out: &Path) -> Result<u64, String> {
    let path = out.join(EPOCH_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a number of seconds", path.display()))
}
