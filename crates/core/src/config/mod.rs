//! Policy files → compiled route table (build time and CLI only; feature `config`).
//!
//! Two passes, each reporting every mistake: [`document`] checks structure against the
//! [`schema`], [`validate`] checks meaning and compiles. [`load`] does a folder, [`codegen`]
//! bakes the result into the component.

pub mod codegen;
pub mod diff;
pub mod document;
pub mod error;
pub mod json_schema;
pub mod load;
pub mod narrow;
pub mod origin_rules;
pub mod schema;
mod tree;
pub mod validate;
pub mod warnings;

pub use error::{ConfigError, ErrorKind, Location};
pub use load::{
    load_policies, load_policy_folder, load_route_table, policy_route_name, read_policy_dir,
    route_from_toml, route_table_from_toml, route_table_of_folder, LoadedPolicy, PolicySource,
};
pub use warnings::{warnings, ConfigWarning, WarningKind};
