//! The benchmark's settings, read once from the environment.

/// Which figures a run measures (`BENCH_ONLY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Only {
    /// Unset (or any other value): the WASIp3 figures, then the WASIp2 ones.
    Everything,
    /// `p3`: only the WASIp3 figures (about 5 minutes).
    P3,
    /// `prebuilt`: only the prebuilt artifacts against the compiled-in ones (about 4 minutes
    /// with `BENCH_SECONDS=3 BENCH_ROUNDS=5` once its components are built).
    Prebuilt,
    /// `audit`: only `corsgate audit` on generated logs up to 1 GiB (about 4 minutes and 3 GiB
    /// of disk under target/bench).
    Audit,
    /// `live`: only a route with `[live]` against the same route without it, on both hosts
    /// (about 6 minutes with the defaults once its components are built).
    Live,
}

pub(crate) struct Settings {
    /// Seconds per wrk run (`BENCH_SECONDS`, default 5).
    pub seconds: u64,
    /// Interleaved rounds; every figure is the median over them (`BENCH_ROUNDS`, default 3).
    pub rounds: u64,
    /// wrk connections (`BENCH_CONNECTIONS`, default 8).
    pub connections: u64,
    /// Servers on CPU 0, wrk and the upstream on CPU 1: with two CPUs or more and `taskset`.
    pub pinned: bool,
    /// `BENCH_ONLY`: one part of the figures only.
    pub only: Only,
    /// `BENCH_BASELINE=<checkout>`: only this build against that checkout's (scripts/bench.sh
    /// sets it from `BENCH_BASELINE_REV`).
    pub baseline: Option<std::path::PathBuf>,
}

impl Settings {
    pub(crate) fn from_env() -> Settings {
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let taskset = std::process::Command::new("taskset")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        Settings {
            seconds: number("BENCH_SECONDS", 5),
            rounds: number("BENCH_ROUNDS", 3),
            connections: number("BENCH_CONNECTIONS", 8),
            pinned: cpus >= 2 && taskset,
            only: match std::env::var("BENCH_ONLY").as_deref() {
                Ok("p3") => Only::P3,
                Ok("prebuilt") => Only::Prebuilt,
                Ok("audit") => Only::Audit,
                Ok("live") => Only::Live,
                _ => Only::Everything,
            },
            baseline: std::env::var_os("BENCH_BASELINE").map(Into::into),
        }
    }

    /// The CPU servers under test run on.
    pub(crate) fn server_cpu(&self) -> Option<usize> {
        self.pinned.then_some(0)
    }

    /// The CPU load generators and upstreams run on.
    pub(crate) fn client_cpu(&self) -> Option<usize> {
        self.pinned.then_some(1)
    }
}
