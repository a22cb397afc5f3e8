//! Files a host mounts into the component (Spin `files`, `wasmtime serve --dir`), read through
//! `wasi:filesystem` directly: the prebuilt artifacts' policy folder and the live origin list's
//! file. Each call is a host call (on Spin 4.1, a trip to another thread), so these make as few
//! as they can: a file under 16 KiB is one open and one read (BENCHMARKS.md, "Prebuilt against
//! compiled-in").

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

/// Why a folder could not be opened.
pub(crate) enum OpenProblem {
    /// No preopened folder is, or holds, the path.
    NotMounted,
    /// The host refused to open it.
    Io(ErrorCode),
}

/// The folder at `path`: the host's preopened folder that is `path` or holds it (Spin mounts
/// every `files` entry under one preopened `/`; `wasmtime serve --dir` preopens each at its own
/// path).
pub(crate) fn open_folder(path: &str) -> Result<Descriptor, OpenProblem> {
    let (folder, rest) = get_directories()
        .into_iter()
        .filter_map(|(folder, preopen)| {
            let rest = within(&preopen, path)?.to_string();
            Some((folder, rest))
        })
        .min_by_key(|(_, rest)| rest.len())
        .ok_or(OpenProblem::NotMounted)?;
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
        .map_err(OpenProblem::Io)
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

/// What one read asks for: more than a policy file holds, so that one short read returns it
/// whole, and no more, since the host zeroes a buffer of the length asked for
/// (asking for 1 MiB cost about 50 µs per file in `wasmtime serve`'s memset).
const READ_CHUNK: u64 = 16 * 1024;

/// A read cut short by anything but the end of the file (a signal, a host's cap on one read, a
/// network or FUSE file system) returns whole blocks; one of any other length is taken as the
/// end. A file of a whole number of blocks pays one more read, which returns nothing.
const BLOCK: usize = 4096;

/// The bytes of the file `name` of `folder`, or `None` when it holds more than `max_bytes`.
///
/// The hosts' `read` (wasmtime-wasi 47 and 48, in Spin 4.1 and `wasmtime serve`) says the end
/// was reached only on a read that returns nothing, so reading until then made two reads of a
/// policy file, each a host call on a blocking thread: a short read ends it instead. Measured
/// on Spin 4.1, 5 files, a fresh instance per request: 34 thread switches per request before,
/// 24 after (`perf stat`), and about 60 µs less server CPU per load (BENCHMARKS.md, "Prebuilt
/// against compiled-in").
pub(crate) fn read_file(
    folder: &Descriptor,
    name: &str,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, ErrorCode> {
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
        if bytes.len() as u64 > max_bytes {
            return Ok(None);
        }
        if end || short || bytes.len() as u64 == offset {
            return Ok(Some(bytes));
        }
    }
}
