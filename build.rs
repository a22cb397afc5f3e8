//! Compiles the policies into the component (default `policies/`; `CORSGATE_POLICIES` names
//! another folder): see `corsgate_core::config::codegen::build_script`.

fn main() -> std::process::ExitCode {
    corsgate_core::config::codegen::build_script("policies")
}
