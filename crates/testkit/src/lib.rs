//! Test and demo infrastructure for corsgate: real HTTP servers and clients on loopback, and
//! guards that stop child processes by PID whatever happens.

#![forbid(unsafe_code)]

pub mod client;
pub mod http;
pub mod pages;
pub mod process;
pub mod reference;
pub mod upstream;
