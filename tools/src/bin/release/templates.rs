//! `corsgate-templates.tar.gz`: the Spin templates of `release/templates/`, under `templates/`
//! as `spin templates install --tar` expects, with the release's facts filled in (a template
//! names the gateway by URL and digest, which only the release knows).

use std::path::Path;

use crate::tarball::{tar_gz, Entry};

pub(crate) const TARBALL_NAME: &str = "corsgate-templates.tar.gz";

/// What replaces each placeholder of the templates' files.
#[derive(Debug)]
pub(crate) struct Facts {
    pub(crate) version: String,
    pub(crate) gateway_url: String,
    pub(crate) gateway_digest_hex: String,
    pub(crate) plugin_manifest_url: String,
}

pub(crate) fn tarball(templates: &Path, facts: &Facts, epoch: u64) -> Result<Vec<u8>, String> {
    let mut entries = Vec::new();
    collect(templates, "templates", facts, &mut entries)?;
    tar_gz(entries, epoch).map_err(|e| format!("{TARBALL_NAME}: {e}"))
}

fn collect(dir: &Path, prefix: &str, facts: &Facts, out: &mut Vec<Entry>) -> Result<(), String> {
    let listing = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for item in listing {
        let path = item.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let name = path.file_name().expect("a listed entry has a name");
        let inner = format!("{prefix}/{}", name.to_string_lossy());
        if path.is_dir() {
            collect(&path, &inner, facts, out)?;
        } else {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push(Entry {
                path: inner,
                bytes: fill(&text, facts).into_bytes(),
                mode: 0o644,
            });
        }
    }
    Ok(())
}

fn fill(text: &str, facts: &Facts) -> String {
    text.replace("@CORSGATE_VERSION@", &facts.version)
        .replace("@CORSGATE_GATEWAY_URL@", &facts.gateway_url)
        .replace("@CORSGATE_GATEWAY_DIGEST@", &facts.gateway_digest_hex)
        .replace("@CORSGATE_PLUGIN_MANIFEST_URL@", &facts.plugin_manifest_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        let facts = Facts {
            version: "1.2.3".into(),
            gateway_url: "https://r.example/g.wasm".into(),
            gateway_digest_hex: "ab".into(),
            plugin_manifest_url: "https://r.example/p.json".into(),
        };
        let text = "@CORSGATE_VERSION@ @CORSGATE_GATEWAY_URL@ sha256:@CORSGATE_GATEWAY_DIGEST@ @CORSGATE_PLUGIN_MANIFEST_URL@";
        assert_eq!(
            fill(text, &facts),
            "1.2.3 https://r.example/g.wasm sha256:ab https://r.example/p.json"
        );
    }
}
