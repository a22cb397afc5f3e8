//! Where a WASIp3 shell reads its live origin lists (`[live]` routes): Spin's key-value store in
//! the Spin flavor (the shell's feature `spin-kv`), else the file channel (`wasmtime serve
//! --dir`). Included by every shell (`#[path]`), so the choice is written once.

#[cfg(feature = "spin-kv")]
pub(crate) const CHANNEL: corsgate_spin_kv::SpinKv = corsgate_spin_kv::SpinKv;
#[cfg(not(feature = "spin-kv"))]
pub(crate) const CHANNEL: corsgate_wasi_p3::LiveFile = corsgate_wasi_p3::LiveFile;
