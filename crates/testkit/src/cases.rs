//! A custom test harness for test binaries that share one world (a gateway, browsers): each
//! case is a named function, registered once with [`cases!`], run by libtest-mimic against the
//! world, which is dropped after the last case, failures included, stopping its processes.

use std::sync::Arc;

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

/// Runs each named case as a test against one shared world: parses the arguments, starts the
/// world with `start_world` (not when only listing), drops it after the last case, failures
/// included, which stops its processes by PID, then exits with the result.
///
/// The arguments come first because a bad one exits the process on the spot, and processes
/// started before that would outlive the test run.
pub fn run_cases<W: Send + Sync + 'static>(
    start_world: impl FnOnce() -> W,
    cases: Vec<NamedCase<W>>,
) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let world = Arc::new((!args.list).then(start_world));
    let trials = cases
        .into_iter()
        .map(|(name, case)| {
            let world = Arc::clone(&world);
            libtest_mimic::Trial::test(name, move || {
                case(world.as_ref().as_ref().expect("started unless listing"));
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(world);
    conclusion.exit()
}
