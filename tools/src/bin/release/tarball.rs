//! Deterministic `.tar.gz`: the bytes depend on the entries' paths, contents and modes and on
//! the release's time only. Entries are sorted, owned by 0:0 with no user or group name, all
//! stamped `epoch`, and the gzip header carries no file name or time.

use std::io::Write;

use flate2::{Compression, GzBuilder};

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) mode: u32,
}

pub(crate) fn tar_gz(mut entries: Vec<Entry>, epoch: u64) -> std::io::Result<Vec<u8>> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let gzip = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gzip);
    for entry in &entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(entry.bytes.len() as u64);
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(epoch);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &entry.path, &entry.bytes[..])?;
    }
    let mut gzip = tar.into_inner()?;
    gzip.flush()?;
    gzip.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            path: path.into(),
            bytes: path.as_bytes().to_vec(),
            mode: 0o644,
        }
    }

    #[test]
    fn the_same_entries_give_the_same_bytes_in_any_order() {
        let first = tar_gz(vec![entry("a"), entry("b/c")], 1_700_000_000).unwrap();
        assert_eq!(
            first,
            tar_gz(vec![entry("b/c"), entry("a")], 1_700_000_000).unwrap()
        );
        assert_ne!(
            first,
            tar_gz(vec![entry("a"), entry("b/c")], 1_700_000_001).unwrap()
        );
    }
}
