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
//! [`mount::read_file`]), and one for the listing (BENCHMARKS.md, "Prebuilt against compiled-in").

use std::sync::OnceLock;

use corsgate_core::config::{
    policy_route_name, route_table_of_folder, ConfigError, ErrorKind, PolicySource,
};
use corsgate_core::RouteTable;
use wasip2::filesystem::types::{Descriptor, DescriptorType, ErrorCode, PathFlags};

use crate::instance::write;
use crate::mount;

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
        let bytes = mount::read_file(&folder, &entry.name, MAX_FILE_BYTES)
            .map_err(|e| cannot_read(&file, e))?;
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

/// The folder at [`MOUNT`] (see [`mount::open_folder`]).
fn open_mount() -> Result<Descriptor, ConfigError> {
    mount::open_folder(MOUNT).map_err(|problem| match problem {
        mount::OpenProblem::NotMounted => ConfigError::whole_file(
            ErrorKind::Io,
            MOUNT.into(),
            "cannot read: nothing is mounted here".into(),
            Some(format!(
                "mount the folder of your policy files at {MOUNT} (Spin: `files`; wasmtime serve: `--dir`)"
            )),
        ),
        mount::OpenProblem::Io(e) => io_error(MOUNT, format!("cannot read: {}", e.name())),
    })
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

fn io_error(file: &str, message: String) -> ConfigError {
    ConfigError::whole_file(ErrorKind::Io, file.to_string(), message, None)
}
