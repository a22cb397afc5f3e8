//! Compiles the policies into the component: reads `CORSGATE_POLICIES` (default `policies/`,
//! relative to the repository root), validates every file with corsgate-core, and writes the
//! route table as `static` Rust data. An invalid policy fails the build with every error as
//! `file:line:column: message`.

use std::path::PathBuf;
use std::process::ExitCode;

use corsgate_core::config::{codegen, load_route_table};

fn main() -> ExitCode {
    println!("cargo:rerun-if-env-changed=CORSGATE_POLICIES");
    // Relative to the package root, which is the build script's working directory, so errors
    // name files the way the user wrote the folder.
    let dir =
        PathBuf::from(std::env::var("CORSGATE_POLICIES").unwrap_or_else(|_| "policies".into()));
    // A folder here makes cargo rescan it for any added, removed or changed file.
    println!("cargo:rerun-if-changed={}", dir.display());
    match load_route_table(&dir) {
        Ok(table) => {
            let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
                .join("routes.rs");
            let source = format!(
                "/// The route table compiled from `{}`.\npub static ROUTES: ::corsgate_core::RouteTable = {};\n",
                dir.display(),
                codegen::route_table_expression(&table)
            );
            std::fs::write(&out, source).expect("write the compiled route table");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("corsgate: invalid policies in {}:", dir.display());
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!("corsgate: {} error(s); nothing was built", errors.len());
            ExitCode::FAILURE
        }
    }
}
