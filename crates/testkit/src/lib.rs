//! Test infrastructure for corsgate: real HTTP servers and clients on loopback, the harness
//! that builds components and serves them on a host, test worlds and a custom test runner, the
//! CORS expectations the tests share, and guards that stop child processes by PID whatever
//! happens. The programs built on it (demo API, soak, benchmark) live in tools/.

#![forbid(unsafe_code)]

pub mod cases;
pub mod client;
pub mod expect;
pub mod file_server;
pub mod harness;
pub mod http;
pub mod live;
pub mod pages;
pub mod process;
pub mod redis;
pub mod reference;
pub mod registry;
pub mod rng;
pub mod upstream;
#[cfg(feature = "webdriver")]
pub mod webdriver;
pub mod world;
