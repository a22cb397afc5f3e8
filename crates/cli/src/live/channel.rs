//! Where `corsgate live` reads and writes a list: a file (the gateway mounts its folder), or a
//! key in Redis (the store behind Spin's key-value API). Each keeps the value it replaces, for
//! `corsgate live rollback`.

use std::path::{Path, PathBuf};

use super::redis::Redis;
use super::StoreArgs;
use crate::error::CliError;

pub(super) enum Channel {
    /// The list in this file, the one it replaced beside it as `<file>.previous`.
    File(PathBuf),
    /// The list under `key`, the one it replaced under `<key>.previous`.
    Redis { url: String, key: String },
}

impl Channel {
    pub(super) fn open(store: &StoreArgs) -> Result<Channel, CliError> {
        match (&store.file, &store.redis) {
            (Some(file), None) => Ok(Channel::File(file.clone())),
            (None, Some(url)) => Ok(Channel::Redis {
                url: url.clone(),
                key: store.key.clone(),
            }),
            _ => Err(CliError::Usage(
                "say where the list is: --file PATH or --redis URL".into(),
            )),
        }
    }

    /// As messages name it (a Redis URL without its password).
    pub(super) fn describe(&self) -> String {
        match self {
            Channel::File(path) => path.display().to_string(),
            Channel::Redis { url, key } => {
                let host = url.rsplit_once('@').map_or(url.as_str(), |(_, host)| host);
                let host = host.strip_prefix("redis://").unwrap_or(host);
                format!("redis://{host} key {key}")
            }
        }
    }

    /// The value published now.
    pub(super) fn current(&self) -> Result<Option<Vec<u8>>, CliError> {
        match self {
            Channel::File(path) => read_file(path),
            Channel::Redis { url, key } => self.redis(url)?.get(key).map_err(CliError::Io),
        }
    }

    /// The value the current one replaced.
    pub(super) fn previous(&self) -> Result<Option<Vec<u8>>, CliError> {
        match self {
            Channel::File(path) => read_file(&previous_file(path)),
            Channel::Redis { url, key } => self
                .redis(url)?
                .get(&format!("{key}.previous"))
                .map_err(CliError::Io),
        }
    }

    /// Publishes `value` in place of `current` (what [`Channel::current`] read), which is kept
    /// as the previous value. Refused when the value changed since it was read: another
    /// publisher got there first (Redis checks that atomically with `WATCH`; for a file it is a
    /// check just before the rename, so two publishers at the same instant may both write: one
    /// file has one publisher).
    pub(super) fn replace(&self, current: Option<&[u8]>, value: &[u8]) -> Result<(), CliError> {
        let raced = || {
            CliError::Refused(format!(
                "{} changed while this list was made: nothing was written; run the command again",
                self.describe()
            ))
        };
        match self {
            Channel::File(path) => {
                if read_file(path)?.as_deref() != current {
                    return Err(raced());
                }
                match current {
                    Some(current) => write_atomically(&previous_file(path), current)?,
                    None => remove_if_there(&previous_file(path))?,
                }
                write_atomically(path, value)
            }
            Channel::Redis { url, key } => {
                let applied = self
                    .redis(url)?
                    .replace(key, current, value, &format!("{key}.previous"))
                    .map_err(CliError::Io)?;
                if applied {
                    Ok(())
                } else {
                    Err(raced())
                }
            }
        }
    }

    fn redis(&self, url: &str) -> Result<Redis, CliError> {
        Redis::connect(url).map_err(CliError::Io)
    }
}

fn previous_file(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".previous");
    path.with_file_name(name)
}

fn remove_if_there(path: &Path) -> Result<(), CliError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CliError::Io(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, CliError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a reader
/// (the gateway, through its mount) sees the old file or the new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Io(format!("cannot write {}: {e}", path.display()));
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(name);
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })
}
