//! A custom test harness for test binaries that share worlds (a gateway on a host, browsers):
//! each case is a named function, registered once with [`cases!`], and run by libtest-mimic
//! against the world of every key (a host; a host and a browser engine), named
//! `<key>::<module>::<function>`. A key's world is started on first use (so
//! `cargo test -- spin::` starts only Spin's) and dropped after the last case, failures
//! included, which stops its processes by PID.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use crate::harness::{Host, Target};

/// What a test world is started for: a host, or a host and a browser engine.
pub trait WorldKey: Copy + Eq + std::fmt::Display + Send + Sync + 'static {
    /// Whether its cases run here (see [`Host::runs_here`]).
    fn runs_here(self) -> bool;
}

impl WorldKey for Host {
    fn runs_here(self) -> bool {
        Host::runs_here(self)
    }
}

impl WorldKey for Target {
    fn runs_here(self) -> bool {
        self.host.runs_here()
    }
}

/// A test case by name, run against the shared world of its test binary.
pub type NamedCase<W> = (String, fn(&W));

/// The named cases of a module from the functions themselves, each name written once:
/// `cases![allowed_preflight, rejected_origin]` in module `preflight` of a test binary names
/// them `preflight::allowed_preflight` and `preflight::rejected_origin`.
#[macro_export]
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        vec![$(($crate::cases::case_name(module_path!(), stringify!($case)), $case as fn(&_))),*]
    };
}

/// `module::function`, the test binary's own name left out.
pub fn case_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{function}"),
        None => function.to_string(),
    }
}

/// One world per key, each started on first use. A world that failed to start fails every
/// case of its key at once, with the reason, instead of being started again for each.
struct Worlds<K, W> {
    start: Box<dyn Fn(K) -> W + Send + Sync>,
    started: Vec<(K, OnceLock<Result<W, String>>)>,
}

impl<K: WorldKey, W> Worlds<K, W> {
    fn get(&self, key: K) -> &W {
        let (_, world) = self
            .started
            .iter()
            .find(|(k, _)| *k == key)
            .expect("a world for every key");
        let world = world.get_or_init(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| (self.start)(key))).map_err(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
        });
        match world {
            Ok(world) => world,
            Err(why) => panic!("the {key} world did not start: {why}"),
        }
    }
}

/// Runs each named case against the world of every target in [`Target::ALL`] (each gateway
/// artifact on each host that runs it, started by `start_world`), and each host-independent
/// case once; then exits with the result.
pub fn run_on_targets<W: Send + Sync + 'static>(
    start_world: impl Fn(Target) -> W + Send + Sync + 'static,
    cases: Vec<NamedCase<W>>,
    host_independent: Vec<NamedCase<()>>,
) -> ! {
    run_on_worlds(&Target::ALL, start_world, cases, host_independent)
}

/// Runs each named case against the world of every key (started by `start_world`), and each
/// independent case once; then exits with the result.
///
/// The arguments are parsed before any world starts because a bad one exits the process on the
/// spot, and processes started before that would outlive the test run.
pub fn run_on_worlds<K: WorldKey, W: Send + Sync + 'static>(
    keys: &[K],
    start_world: impl Fn(K) -> W + Send + Sync + 'static,
    cases: Vec<NamedCase<W>>,
    host_independent: Vec<NamedCase<()>>,
) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let worlds = Arc::new(Worlds {
        start: Box::new(start_world),
        started: keys.iter().map(|k| (*k, OnceLock::new())).collect(),
    });
    let mut trials = Vec::new();
    for &key in keys {
        // A key whose programs are missing here has its cases listed as ignored.
        let runs = args.list || key.runs_here();
        for (name, case) in &cases {
            let (worlds, case) = (Arc::clone(&worlds), *case);
            let trial = libtest_mimic::Trial::test(format!("{key}::{name}"), move || {
                case(worlds.get(key));
                Ok(())
            });
            trials.push(trial.with_ignored_flag(!runs));
        }
    }
    for (name, case) in host_independent {
        trials.push(libtest_mimic::Trial::test(name, move || {
            case(&());
            Ok(())
        }));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop(worlds);
    conclusion.exit()
}
