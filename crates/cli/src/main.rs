//! `corsgate`: the tool people reach for when the console says "blocked by CORS policy".

#![forbid(unsafe_code)]

mod audit;
mod check;
mod diff;
mod error;
mod explain;
mod har;
mod invocation;
mod live;
mod render;
mod routes;
mod spin;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "corsgate",
    version,
    about = "Validate corsgate policies and explain CORS decisions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a policy folder: every error of every file, with the fix.
    #[command(after_help = "Examples:
  corsgate check                       # policies/, and ./spin.toml beside it if present
  corsgate check deploy/policies --spin deploy/spin.toml
  corsgate check --format json         # for editors and CI

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.")]
    Check {
        /// The policy folder.
        #[arg(default_value = "policies")]
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Spin manifest whose `allowed_outbound_hosts` must cover every upstream
        /// (default: spin.toml beside the policy folder, in its parent, when it exists).
        #[arg(long)]
        spin: Option<PathBuf>,
        /// Do not check a Spin manifest.
        #[arg(long, conflicts_with = "spin")]
        no_spin: bool,
    },
    /// Explain what the gateway and the browser will do with a request.
    #[command(after_help = "Examples:
  corsgate explain --origin https://app.example.com --method PUT \\
      --header Authorization --header 'Content-Type: application/json' /users/42
  corsgate explain --origin https://evil.example --method GET --credentials include /users/me
  corsgate explain --har network.har --entry 3        # a request saved from DevTools")]
    Explain(explain::ExplainArgs),
    /// What a policy change does to access, route by route: widenings first.
    #[command(after_help = "Examples:
  corsgate diff old-policies policies          # two folders
  corsgate diff --git origin/main policies     # the folder against itself at a revision
  corsgate diff --git HEAD~1 --fail-on widen   # in CI: exit 1 only when access widens

Exit status: 0 no change of access, 1 access changed (with --fail-on widen: widened),
2 usage, I/O error or an invalid folder.")]
    Diff(diff::DiffArgs),
    /// What each route allowed and refused, from the gateway's logs, and what to tighten.
    #[command(after_help = "Examples:
  corsgate audit gateway.log --policies policies
  journalctl -u spin -o cat | corsgate audit --format json
  corsgate audit logs/*.gz --html audit.html --suggest tightened/

Exit status: 0 audited (with --suggest: written), 1 --suggest refused (too little log to judge),
2 usage, I/O error or an invalid folder.")]
    Audit(audit::AuditArgs),
    /// Live origin lists: publish, show and roll back the origins of routes with `[live]`.
    Live(live::LiveArgs),
    /// Print the JSON Schema of policy files (for editors: taplo, Even Better TOML).
    Schema,
    /// List the routes, their upstreams and a one-line policy summary.
    Routes {
        #[arg(default_value = "policies")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = parse();
    let result = match cli.command {
        Command::Check {
            dir,
            format,
            spin,
            no_spin,
        } => check::run(&dir, format, spin, no_spin),
        Command::Explain(args) => explain::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Live(args) => live::run(&args),
        Command::Schema => {
            print!("{}", corsgate_core::config::json_schema::policy_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Routes { dir } => routes::run(&dir),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("corsgate: {}", invocation::spelled(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}

/// The command line, parsed with usage lines and examples naming the program as the user typed
/// it (`spin corsgate check` under Spin), so what help shows can be pasted back.
fn parse() -> Cli {
    let mut command = Cli::command().bin_name(invocation::program());
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |sub| match sub.get_after_help() {
            Some(examples) => {
                let examples = invocation::spelled(&examples.to_string());
                sub.after_help(examples)
            }
            None => sub,
        });
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}
