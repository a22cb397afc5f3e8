//! Compiles the policies into the component (the repository's `policies/`, or the folder
//! `CORSGATE_POLICIES` names, relative to the repository root): see
//! `corsgate_core::config::codegen::build_script`.

fn main() -> std::process::ExitCode {
    corsgate_core::config::codegen::build_script(
        "../..",
        corsgate_core::config::codegen::LiveRoutes::Served,
    )
}
