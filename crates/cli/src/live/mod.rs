//! `corsgate live`: publish, show and roll back the live origin lists of the routes with
//! `[live]`. What is written is checked first exactly as every gateway instance will check it
//! (the engine's [`LiveList::accept`] against the policy folder's route table), so a list the
//! CLI publishes is never refused by the gateway, and writes are atomic: a reader sees the old
//! value or the new one, never a mix.

mod channel;
mod redis;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use corsgate_core::config::narrow::replaced_text;
use corsgate_core::config::origin_rules::{parse_origin_entry, OriginEntry, OriginRules};
use corsgate_core::config::schema::Key;
use corsgate_core::config::{diff::diff, load_policies, LoadedPolicy, PolicySource};
use corsgate_core::live::list::{ceilings_sha256, ListDocument, MAX_GENERATION, STORE_KEY};
use corsgate_core::live::LiveList;
use corsgate_core::RouteTable;

use crate::check::read_sources;
use crate::diff::{print_human, validated};
use crate::error::CliError;
use channel::Channel;

#[derive(Args, Debug)]
pub(crate) struct LiveArgs {
    #[command(subcommand)]
    command: LiveCommand,
}

#[derive(Subcommand, Debug)]
enum LiveCommand {
    /// Publish a new list: the current one (else each route's baseline) with the changes given.
    #[command(after_help = "Examples:
  corsgate live publish --redis redis://127.0.0.1:6379 --add users=https://partner.example
  corsgate live publish --file live/origins.json --remove users=https://partner.example
  corsgate live publish --file live/origins.json 'users=https://app.example.com,https://*.preview.example.com'
  corsgate live publish --print --add users=https://partner.example   # for spin cloud kv set and the like

Exit status: 0 published, 1 refused (nothing written), 2 usage or I/O error.")]
    Publish(PublishArgs),
    /// What is live, and what it widens or narrows against each route's baseline.
    Show(StoreArgs),
    /// Publish the previous list again, as a new generation.
    Rollback(StoreArgs),
}

#[derive(Args, Debug)]
struct StoreArgs {
    /// The policy folder the gateway was built from (or mounts).
    #[arg(long, default_value = "policies")]
    policies: PathBuf,
    /// A file the gateway reads through a mount (`wasmtime serve --dir <its folder>::/corsgate/live`,
    /// the file named origins.json); written to a temporary file, then renamed into place.
    #[arg(long, conflicts_with = "redis")]
    file: Option<PathBuf>,
    /// A Redis store the gateway reads through Spin's key-value API (the URL of its runtime
    /// config: `redis://[[user]:password@]host[:port][/db]`).
    #[arg(long)]
    redis: Option<String>,
    /// The key the list is kept under in the store (the previous one under `<key>.previous`).
    #[arg(long, default_value = STORE_KEY)]
    key: String,
}

#[derive(Args, Debug)]
struct PublishArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print the value instead of writing it (for `spin cloud kv set` and other platform tools);
    /// without a store to read, the list starts from the baselines.
    #[arg(long, conflicts_with_all = ["file", "redis"])]
    print: bool,
    /// Set a route's whole list: ROUTE=ORIGIN[,ORIGIN…] (`ROUTE=` for no origin).
    #[arg(value_name = "ROUTE=ORIGINS")]
    set: Vec<String>,
    /// Add an origin or pattern to a route's list: ROUTE=ORIGIN (repeatable).
    #[arg(long, value_name = "ROUTE=ORIGIN")]
    add: Vec<String>,
    /// Remove an origin or pattern from a route's list: ROUTE=ORIGIN (repeatable).
    #[arg(long, value_name = "ROUTE=ORIGIN")]
    remove: Vec<String>,
    /// The generation to publish (default: the current one plus one; with --print, the current
    /// Unix time in seconds, which only grows).
    #[arg(long)]
    generation: Option<u64>,
}

pub(crate) fn run(args: &LiveArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        LiveCommand::Publish(args) => publish(args),
        LiveCommand::Show(args) => show(args),
        LiveCommand::Rollback(args) => rollback(args),
    }
}

/// The policy folder, validated, and its route table; a folder without a live route has
/// nothing to publish.
struct Folder {
    sources: Vec<PolicySource>,
    table: RouteTable,
    /// Each live route's baseline `allow_origins`, as written, and the rules its origin lists
    /// are read under.
    live_routes: BTreeMap<String, (Vec<String>, OriginRules)>,
}

impl Folder {
    fn read(store: &StoreArgs) -> Result<Folder, CliError> {
        let sources = read_sources(&store.policies)?;
        let loaded = validated(&sources)?;
        let live_routes: BTreeMap<String, (Vec<String>, OriginRules)> = loaded
            .iter()
            .filter(|p| p.route.cors().live().is_some())
            .map(|p| {
                let entries = p.document.strings(Key::AllowOrigins);
                let entries = entries.map_or(&[][..], |l| l.value);
                let baseline = entries.iter().map(|e| e.value.to_string()).collect();
                let rules = OriginRules::of(&p.document);
                (p.route.name().to_string(), (baseline, rules))
            })
            .collect();
        if live_routes.is_empty() {
            return Err(CliError::Usage(format!(
                "no route in {} has `[live]`: add a `[live]` table with a `ceiling` to the routes whose origins change at run time",
                store.policies.display()
            )));
        }
        let table = RouteTable::new(loaded.into_iter().map(|l| l.route).collect());
        Ok(Folder {
            sources,
            table,
            live_routes,
        })
    }

    fn loaded(&self) -> Vec<LoadedPolicy<'_>> {
        load_policies(&self.sources).expect("validated when read")
    }

    /// Each live route's baseline `allow_origins`, as written.
    fn baselines(&self) -> BTreeMap<String, Vec<String>> {
        self.live_routes
            .iter()
            .map(|(route, (baseline, _))| (route.clone(), baseline.clone()))
            .collect()
    }
}

fn publish(args: &PublishArgs) -> Result<ExitCode, CliError> {
    let folder = Folder::read(&args.store)?;
    let channel = match args.print {
        true => None,
        false => Some(Channel::open(&args.store)?),
    };
    let current = match &channel {
        Some(channel) => channel.current()?,
        None => None,
    };
    let current_doc = match current.as_deref().map(ListDocument::read) {
        None => None,
        Some(Ok(doc)) => Some(doc),
        // What is there cannot be built on, nor its generation known: the new list must say
        // every route's whole list and a generation newer than any accepted before.
        Some(Err(problem)) => {
            let set_routes: Vec<&str> = args
                .set
                .iter()
                .filter_map(|set| set.split_once('=').map(|(route, _)| route))
                .collect();
            let every_route_set = folder
                .live_routes
                .keys()
                .all(|route| set_routes.contains(&route.as_str()));
            if args.generation.is_none() || !every_route_set {
                return Err(CliError::Refused(format!(
                    "the current value cannot be read ({problem}): nothing was written; replace it with every live route's whole list (ROUTE=ORIGIN,…) and --generation N, newer than any generation published before"
                )));
            }
            None
        }
    };
    let build = ceilings_sha256(&folder.table);
    let mut lists = match &current_doc {
        Some(doc) if doc.ceilings_sha256 == build => doc.routes.iter().cloned().collect(),
        _ => folder.baselines(),
    };
    apply_changes(&folder, &mut lists, args)?;
    let generation = match (args.generation, &current_doc, &channel) {
        (Some(generation), _, _) => generation,
        (None, Some(doc), _) => doc.generation + 1,
        (None, None, Some(_)) => 1,
        (None, None, None) => unix_seconds(),
    };
    if let Some(doc) = current_doc.as_ref().filter(|d| generation <= d.generation) {
        return Err(CliError::Usage(format!(
            "generation {generation} is not newer than the current one, {}: instances that accepted it would refuse the new list",
            doc.generation
        )));
    }
    let value = checked_value(&folder, generation, lists.clone())?;
    match channel {
        None => println!("{value}"),
        Some(channel) => {
            channel.replace(current.as_deref(), value.as_bytes())?;
            let before = match &current_doc {
                Some(doc) => format!(
                    "the previous value, generation {}, is kept for `corsgate live rollback`",
                    doc.generation
                ),
                None => "nothing was published before".into(),
            };
            println!(
                "published generation {generation} to {} ({before})",
                channel.describe()
            );
            print_changes(current_doc.as_ref(), &lists, &folder);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: &StoreArgs) -> Result<ExitCode, CliError> {
    let folder = Folder::read(args)?;
    let channel = Channel::open(args)?;
    let Some(value) = channel.current()? else {
        println!(
            "nothing is published in {}: every live route decides with its baseline `allow_origins`",
            channel.describe()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let list = match LiveList::accept(&value, &folder.table) {
        Ok(list) => list,
        Err(problem) => {
            println!(
                "{} holds a value every instance refuses: {problem}",
                channel.describe()
            );
            println!("instances keep the last list they accepted; publish a new one with `corsgate live publish`");
            return Ok(ExitCode::from(1));
        }
    };
    let document = ListDocument::read(&value).expect("accepted");
    println!(
        "live in {}: generation {}, content sha256 {}, made for this folder's ceilings",
        channel.describe(),
        list.generation(),
        list.content_sha256()
    );
    for (route, entries) in &document.routes {
        println!("  {route}: {}", listed(entries));
    }
    println!(
        "against the baseline allow_origins of {}:",
        args.policies.display()
    );
    let baseline = folder.loaded();
    let live_sources = live_sources(&folder, &baseline, &document, &args.policies);
    let live = load_policies(&live_sources).map_err(|errors| {
        CliError::Usage(format!(
            "the live list does not make valid policies ({} error(s)); publish a new one",
            errors.len()
        ))
    })?;
    print_human(&diff(&baseline, &live));
    Ok(ExitCode::SUCCESS)
}

fn rollback(args: &StoreArgs) -> Result<ExitCode, CliError> {
    let folder = Folder::read(args)?;
    let channel = Channel::open(args)?;
    let current = channel.current()?;
    let current_doc = current
        .as_deref()
        .map(ListDocument::read)
        .transpose()
        .map_err(|problem| {
            CliError::Usage(format!(
                "the current value cannot be read ({problem}): publish a new list instead"
            ))
        })?;
    let Some(current_doc) = current_doc else {
        return Err(CliError::Refused(format!(
            "{} holds no current list, so its generation is unknown: publish the lists you want with --generation N, newer than any generation published before",
            channel.describe()
        )));
    };
    let Some(previous) = channel.previous()? else {
        return Err(CliError::Usage(format!(
            "{} keeps no previous list to roll back to",
            channel.describe()
        )));
    };
    let previous = ListDocument::read(&previous).map_err(|problem| {
        CliError::Usage(format!("the previous value cannot be read: {problem}"))
    })?;
    let generation = current_doc.generation + 1;
    let lists: BTreeMap<String, Vec<String>> = previous.routes.iter().cloned().collect();
    let value = checked_value(&folder, generation, lists.clone())?;
    channel.replace(current.as_deref(), value.as_bytes())?;
    println!(
        "rolled back to the lists of generation {}, published as generation {generation} to {}",
        previous.generation,
        channel.describe()
    );
    print_changes(Some(&current_doc), &lists, &folder);
    Ok(ExitCode::SUCCESS)
}

/// Applies `ROUTE=ORIGINS`, `--add` and `--remove`, each entry read as `allow_origins` reads it
/// (so a non-canonical spelling is refused with its fix).
fn apply_changes(
    folder: &Folder,
    lists: &mut BTreeMap<String, Vec<String>>,
    args: &PublishArgs,
) -> Result<(), CliError> {
    let split = |change: &str| -> Result<(String, String), CliError> {
        let (route, rest) = change
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("`{change}` is not ROUTE=ORIGIN")))?;
        if !folder.live_routes.contains_key(route) {
            return Err(CliError::Usage(format!(
                "`{route}` is not a route with `[live]` in {}",
                args.store.policies.display()
            )));
        }
        Ok((route.to_string(), rest.to_string()))
    };
    let entry = |route: &str, text: &str| -> Result<String, CliError> {
        let (_, rules) = &folder.live_routes[route];
        match parse_origin_entry(text, *rules) {
            Ok(OriginEntry::Any) => Err(CliError::Usage(format!(
                "`\"*\"` (route `{route}`) cannot be live: a live list holds origins and patterns inside the route's ceiling"
            ))),
            Ok(_) => Ok(text.to_string()),
            Err(problem) => Err(CliError::Usage(format!(
                "{} (route `{route}`){}",
                problem.message,
                problem.help.map(|h| format!(": {h}")).unwrap_or_default()
            ))),
        }
    };
    for change in &args.set {
        let (route, origins) = split(change)?;
        let entries = origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| entry(&route, o))
            .collect::<Result<Vec<_>, _>>()?;
        lists.insert(route, entries);
    }
    for change in &args.add {
        let (route, origin) = split(change)?;
        let origin = entry(&route, &origin)?;
        lists.entry(route).or_default().push(origin);
    }
    for change in &args.remove {
        let (route, origin) = split(change)?;
        let list = lists.entry(route.clone()).or_default();
        let before = list.len();
        list.retain(|o| *o != origin);
        if list.len() == before {
            return Err(CliError::Usage(format!(
                "`{origin}` is not in the list of route `{route}`"
            )));
        }
    }
    Ok(())
}

/// The canonical value of `lists`, checked as every instance will check it.
fn checked_value(
    folder: &Folder,
    generation: u64,
    lists: BTreeMap<String, Vec<String>>,
) -> Result<String, CliError> {
    if generation == 0 || generation > MAX_GENERATION {
        return Err(CliError::Usage(format!(
            "generation {generation} is outside 1..={MAX_GENERATION}"
        )));
    }
    let value = ListDocument {
        generation,
        ceilings_sha256: ceilings_sha256(&folder.table),
        routes: lists.into_iter().collect(),
    }
    .canonical();
    LiveList::accept(value.as_bytes(), &folder.table)
        .map_err(|problem| CliError::Refused(format!("refused, nothing was written: {problem}")))?;
    Ok(value)
}

/// The folder's sources with each live route's `allow_origins` as `document` sets it.
/// Named `<folder>@live-generation-<n>/<file>`, as `corsgate diff --git` names a revision's.
fn live_sources(
    folder: &Folder,
    loaded: &[LoadedPolicy<'_>],
    document: &ListDocument,
    dir: &std::path::Path,
) -> Vec<PolicySource> {
    folder
        .sources
        .iter()
        .map(|source| {
            let policy = loaded
                .iter()
                .find(|p| p.source.file == source.file)
                .expect("loaded");
            let live = document
                .routes
                .iter()
                .find(|(name, _)| name == policy.route.name());
            let text = live
                .and_then(|(_, entries)| {
                    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
                    replaced_text(&policy.document, Key::AllowOrigins, &entries)
                })
                .unwrap_or_else(|| source.text.clone());
            PolicySource {
                name: source.name.clone(),
                file: format!(
                    "{}@live-generation-{}/{}.toml",
                    dir.display(),
                    document.generation,
                    source.name
                ),
                text,
            }
        })
        .collect()
}

/// Each route's origins added and removed against `before` (the baseline when nothing was
/// published).
fn print_changes(
    before: Option<&ListDocument>,
    after: &BTreeMap<String, Vec<String>>,
    folder: &Folder,
) {
    let baselines = folder.baselines();
    for (route, entries) in after {
        let was: &[String] = before
            .and_then(|d| {
                d.routes
                    .iter()
                    .find(|(n, _)| n == route)
                    .map(|(_, e)| e.as_slice())
            })
            .or_else(|| baselines.get(route).map(Vec::as_slice))
            .unwrap_or(&[]);
        for added in entries.iter().filter(|e| !was.contains(e)) {
            println!("  {route}: + {added}");
        }
        for removed in was.iter().filter(|e| !entries.contains(e)) {
            println!("  {route}: - {removed}");
        }
    }
}

fn listed(entries: &[String]) -> String {
    match entries {
        [] => "(no origin)".into(),
        entries => entries.join(", "),
    }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs())
}
