//! Compiles the policies into the component (`policies/`, or the folder `CORSGATE_POLICIES`
//! names): see `corsgate_core::config::codegen::build_script`.

fn main() -> std::process::ExitCode {
    corsgate_core::config::codegen::build_script(
        ".",
        corsgate_core::config::codegen::LiveRoutes::Refused,
    )
}
