//! SHA-256 digests and the `SHA256SUMS` file (`sha256sum -c` reads it): the release's record
//! of what it built, which a second build and a registry are compared with.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

pub(crate) const SUMS_FILE: &str = "SHA256SUMS";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>`, as OCI names content.
pub(crate) fn oci_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Writes `SHA256SUMS` in `dir` for the named files there, sorted by name.
pub(crate) fn write_sums(dir: &Path, names: &[String]) -> io::Result<Vec<(String, String)>> {
    let mut sums = names
        .iter()
        .map(|name| Ok((name.clone(), sha256_hex(&std::fs::read(dir.join(name))?))))
        .collect::<io::Result<Vec<_>>>()?;
    sums.sort();
    let text: String = sums
        .iter()
        .map(|(name, hex)| format!("{hex}  {name}\n"))
        .collect();
    std::fs::write(dir.join(SUMS_FILE), text)?;
    Ok(sums)
}

/// Reads `SHA256SUMS` in `dir` as (name, hex) pairs, checking each file against its line.
pub(crate) fn read_and_verify(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let path = dir.join(SUMS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(|line| {
            let (hex, name) = line
                .split_once("  ")
                .ok_or_else(|| format!("{}: not a sha256sum line: {line}", path.display()))?;
            let file = dir.join(name);
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            if sha256_hex(&bytes) != hex {
                return Err(format!(
                    "{}: does not match {}",
                    file.display(),
                    path.display()
                ));
            }
            Ok((name.to_string(), hex.to_string()))
        })
        .collect()
}
