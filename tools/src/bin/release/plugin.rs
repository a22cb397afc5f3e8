//! The CLI as a Spin plugin: a tarball Spin unpacks into its plugin folder, and the manifest
//! `spin plugins install --file` reads (format: spin `crates/plugins/src/manifest.rs`).

use std::path::Path;

use serde_json::json;

use crate::artifacts::{PLUGIN_NAME, VERSION};
use crate::digests::sha256_hex;
use crate::tarball::{tar_gz, Entry};

pub(crate) fn tarball_name() -> String {
    format!("{PLUGIN_NAME}-{VERSION}-linux-amd64.tar.gz")
}

pub(crate) const MANIFEST_NAME: &str = "corsgate-plugin.json";

/// A tar.gz holding the CLI as `corsgate` (Spin runs `<plugins>/<name>/<name>`).
pub(crate) fn tarball(cli: &[u8], epoch: u64) -> std::io::Result<Vec<u8>> {
    let entry = Entry {
        path: PLUGIN_NAME.into(),
        bytes: cli.to_vec(),
        mode: 0o755,
    };
    tar_gz(vec![entry], epoch)
}

/// The plugin manifest for the tarball `tarball` served at `url`.
pub(crate) fn manifest(tarball: &[u8], url: &str) -> String {
    let manifest = json!({
        "name": PLUGIN_NAME,
        "description": "Validate corsgate policies and explain CORS decisions: check, explain, diff, schema, routes",
        "version": VERSION,
        // The CLI reads files and prints; it calls nothing in Spin.
        "spinCompatibility": ">=3.0",
        "license": "Apache-2.0",
        "packages": [{
            "os": "linux",
            "arch": "amd64",
            "url": url,
            "sha256": sha256_hex(tarball),
        }],
    });
    serde_json::to_string_pretty(&manifest).expect("a JSON value serializes") + "\n"
}

/// The `file://` URL of `path` (absolute): the release folder's URL for installing from it
/// on this machine, offline.
pub(crate) fn file_url(path: &Path) -> Result<String, String> {
    let absolute = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = absolute
        .to_str()
        .ok_or_else(|| format!("{}: not UTF-8", absolute.display()))?;
    // Characters a path may hold that a URL may not, percent-encoded.
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Ok(format!("file://{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tarball_holds_the_executable_under_the_plugin_name() {
        let bytes = tarball(b"binary", 1_700_000_000).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(entries, [("corsgate".to_string(), 0o755, 0)]);
    }

    #[test]
    fn file_urls_encode_what_urls_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/c%.tar.gz")).unwrap(),
            "file:///tmp/a%20b/c%25.tar.gz"
        );
    }
}
