//! A prebuilt artifact's policies: the folder mounted at [`MOUNT`], read and validated by the
//! engine's own validator (the one `corsgate check` and the compiled-in builds use, with the same
//! diagnostics) once per instance, on its first request, into the same route table a build
//! compiles in.
//!
//! Fail closed: when the folder is missing or invalid, every diagnostic is logged once, as
//! `file:line:column: message (help)`, and the instance has no route table. The gateway then
//! answers every request `503` with no CORS header; the middleware hands every request to the
//! app and adds nothing. Never a guessed policy.
//!
//! The files are read through `wasi:filesystem` directly rather than `std::fs`: an instance pays
//! for its folder on its first request, once per 128 requests under the hosts' defaults, and
//! every file-system call is a host call (on Spin 4.1, a trip to another thread). `std` makes six or
//! so per file (a stat per directory entry, a stat for the size, a stream, reads until an empty
//! one); this makes two for a file under 16 KiB (open, one read: a short read is the end, see
//! [`read_file`]), and one for the listing (BENCHMARKS.md, "Prebuilt against compiled-in").

use std::sync::OnceLock;

use corsgate_core::config::{
    policy_route_name, route_table_of_folder, ConfigError, ErrorKind, PolicySource,
};
use corsgate_core::RouteTable;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use crate::instance::write;

/// Where a prebuilt artifact reads its policy folder: the destination of its files mount (Spin:
/// `files = [{ source = "policies", destination = "/corsgate/policies" }]` on the component, or
/// on the app a middleware inherits `files` from; `wasmtime serve --dir
/// policies::/corsgate/policies`). Namespaced: a middleware shares the app's mounts.
pub const MOUNT: &str = "/corsgate/policies";

/// The largest policy file read: a mount of the wrong folder (a log, a disk image) is an error,
/// not the instance's memory. A policy is a few hundred bytes.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The instance's route table, read from [`MOUNT`] on its first request and kept for every
/// other; `None` when the folder is missing or invalid (each problem then logged once).
/// `consequence` says in that log what the artifact does without a policy.
pub fn instance_routes(consequence: &str) -> Option<&'static RouteTable> {
    static ROUTES: OnceLock<Option<RouteTable>> = OnceLock::new();
    ROUTES
        .get_or_init(|| {
            let loaded = read_mount().map_err(|e| vec![e]);
            match loaded.and_then(|sources| route_table_of_folder(MOUNT, sources)) {
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
            }
        })
        .as_ref()
}

/// The policy files of the folder at [`MOUNT`], as the engine's folder reader would find them
/// (`policy_route_name` says which files count), named under the mount.
fn read_mount() -> Result<Vec<PolicySource>, ConfigError> {
    let folder = open_mount()?;
    let cannot_read =
        |file: &str, e: ErrorCode| io_error(file, format!("cannot read: {}", e.name()));
    let listing = folder.read_directory().map_err(|e| cannot_read(MOUNT, e))?;
    let mut sources = Vec::new();
    while let Some(entry) = listing
        .read_directory_entry()
        .map_err(|e| cannot_read(MOUNT, e))?
    {
        let Some(name) = policy_route_name(&entry.name) else {
            continue;
        };
        let file = format!("{MOUNT}/{}", entry.name);
        if !is_file(&folder, &entry.name, entry.type_).map_err(|e| cannot_read(&file, e))? {
            continue;
        }
        let bytes = read_file(&folder, &entry.name).map_err(|e| cannot_read(&file, e))?;
        let Some(bytes) = bytes else {
            return Err(io_error(
                &file,
                format!("larger than {MAX_FILE_BYTES} bytes: not a policy file"),
            ));
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| io_error(&file, "cannot read: not valid UTF-8".into()))?;
        sources.push(PolicySource {
            name: name.to_string(),
            file,
            text,
        });
    }
    Ok(sources)
}

/// The folder at [`MOUNT`]: the host's preopened folder that is [`MOUNT`] or holds it (Spin
/// mounts every `files` entry under one preopened `/`; `wasmtime serve --dir` preopens each at
/// its own path).
fn open_mount() -> Result<Descriptor, ConfigError> {
    let (folder, rest) = get_directories()
        .into_iter()
        .filter_map(|(folder, path)| {
            let rest = within(&path, MOUNT)?.to_string();
            Some((folder, rest))
        })
        .min_by_key(|(_, rest)| rest.len())
        .ok_or_else(|| {
            ConfigError::whole_file(
                ErrorKind::Io,
                MOUNT.into(),
                "cannot read: nothing is mounted here".into(),
                Some(format!(
                    "mount the folder of your policy files at {MOUNT} (Spin: `files`; wasmtime serve: `--dir`)"
                )),
            )
        })?;
    if rest.is_empty() {
        return Ok(folder);
    }
    folder
        .open_at(
            PathFlags::SYMLINK_FOLLOW,
            &rest,
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ,
        )
        .map_err(|e| io_error(MOUNT, format!("cannot read: {}", e.name())))
}

/// `target`'s path below the preopened folder `preopen`, when it lies within it ("" when it is
/// the folder itself).
fn within<'t>(preopen: &str, target: &'t str) -> Option<&'t str> {
    let preopen = preopen.trim_end_matches('/');
    let rest = target.strip_prefix(preopen)?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix('/')
}

/// Whether the entry `name` of `folder`, of type `kind` as listed, is a file (a link is
/// followed: one more host call, for links only).
fn is_file(folder: &Descriptor, name: &str, kind: DescriptorType) -> Result<bool, ErrorCode> {
    Ok(match kind {
        DescriptorType::RegularFile => true,
        DescriptorType::SymbolicLink | DescriptorType::Unknown => {
            folder.stat_at(PathFlags::SYMLINK_FOLLOW, name)?.type_ == DescriptorType::RegularFile
        }
        _ => false,
    })
}

/// What one read asks for: more than a policy file holds, so that one short read returns it
/// whole, and no more, since the host zeroes a buffer of the length asked for
/// (asking for 1 MiB cost about 50 µs per file in `wasmtime serve`'s memset).
const READ_CHUNK: u64 = 16 * 1024;

/// A read cut short by anything but the end of the file (a signal, a host's cap on one read, a
/// network or FUSE file system) returns whole blocks; one of any other length is taken as the
/// end. A file of a whole number of blocks pays one more read, which returns nothing.
const BLOCK: usize = 4096;

/// The bytes of the file `name` of `folder`, or `None` when it holds more than
/// [`MAX_FILE_BYTES`].
///
/// The hosts' `read` (wasmtime-wasi 47 and 48, in Spin 4.1 and `wasmtime serve`) says the end
/// was reached only on a read that returns nothing, so reading until then made two reads of a
/// policy file, each a host call on a blocking thread: a short read ends it instead. Measured
/// on Spin 4.1, 5 files, a fresh instance per request: 34 thread switches per request before,
/// 24 after (`perf stat`), and about 60 µs less server CPU per load (BENCHMARKS.md, "Prebuilt
/// against compiled-in").
fn read_file(folder: &Descriptor, name: &str) -> Result<Option<Vec<u8>>, ErrorCode> {
    let file = folder.open_at(
        PathFlags::SYMLINK_FOLLOW,
        name,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    )?;
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let offset = bytes.len() as u64;
        let (chunk, end) = file.read(READ_CHUNK, offset)?;
        let short = (chunk.len() as u64) < READ_CHUNK && chunk.len() % BLOCK != 0;
        if bytes.is_empty() {
            bytes = chunk;
        } else {
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Ok(None);
        }
        if end || short || bytes.len() as u64 == offset {
            return Ok(Some(bytes));
        }
    }
}

fn io_error(file: &str, message: String) -> ConfigError {
    ConfigError::whole_file(ErrorKind::Io, file.to_string(), message, None)
}
