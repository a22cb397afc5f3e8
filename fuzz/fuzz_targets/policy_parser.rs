//! Any bytes as a policy file: the parser and validator never panic, and whatever they accept
//! compiles to a route whose generated Rust source is produced without panicking either.
#![no_main]

use corsgate_core::config::codegen::route_table_expression;
use corsgate_core::config::route_table_from_toml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match route_table_from_toml(&[("fuzz", text)]) {
        Ok(table) => {
            let source = route_table_expression(&table);
            assert!(source.starts_with("{ const PATHS: &str = ") && source.contains("::corsgate_core::route::RouteTable::baked("));
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(e.location.line >= 1 && e.location.column >= 1, "{e}");
                assert!(e.location.span.start <= text.len() && e.location.span.end <= text.len(), "{e}");
            }
        }
    }
});
