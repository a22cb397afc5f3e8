//! The markdown report: tables of configurations, side by side with their references.

use std::collections::HashMap;

use crate::wrk::Config;

/// `| configuration | req/s | p50 | p99 | spread | [CPU per request] | [vs reference] |`, where
/// `reference` maps a configuration's label to the one it is compared with.
pub(crate) fn table(
    configs: &[Config],
    reference: &HashMap<String, &Config>,
    cpu_per_request: bool,
) -> Vec<String> {
    let mut columns = vec!["configuration", "req/s", "p50", "p99", "spread"];
    if cpu_per_request {
        columns.push("server CPU per request");
    }
    if !reference.is_empty() {
        columns.push("vs reference");
    }
    let aligns: Vec<&str> = (0..columns.len())
        .map(|i| match i {
            0 => "---",
            _ if columns[i] == "vs reference" => "---",
            _ => "---:",
        })
        .collect();
    let mut lines = vec![
        format!("| {} |", columns.join(" | ")),
        format!("|{}|", aligns.join("|")),
    ];
    for config in configs {
        let mut cells = vec![
            config.label.clone(),
            thousands(config.rps()),
            format!("{:.2} ms", config.p50()),
            format!("{:.2} ms", config.p99()),
            format!("±{:.0} %", config.spread()),
        ];
        if cpu_per_request {
            cells.push(format!("{:.0} µs", config.cpu_us()));
        }
        if !reference.is_empty() {
            cells.push(
                reference
                    .get(&config.label)
                    .map_or(String::new(), |r| versus(config, r)),
            );
        }
        lines.push(format!("| {} |", cells.join(" | ")));
    }
    lines
}

/// "N % of the rps, M× the p99 of <reference>".
pub(crate) fn versus(config: &Config, reference: &Config) -> String {
    format!(
        "{:.0} % of the rps, {:.2}× the p99 of {}",
        config.rps() / reference.rps() * 100.0,
        config.p99() / reference.p99(),
        reference.short
    )
}

/// `12,345`.
pub(crate) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a / b` in percent, rounded.
pub(crate) fn percent(a: f64, b: f64) -> String {
    format!("{:.0} %", a / b * 100.0)
}

/// Which configuration each is compared with, by index: (of, against).
pub(crate) fn reference<'c>(
    configs: &'c [Config],
    pairs: &[(usize, usize)],
) -> HashMap<String, &'c Config> {
    pairs
        .iter()
        .map(|&(of, against)| (configs[of].label.clone(), &configs[against]))
        .collect()
}

/// Configurations measured in pairs, each odd one against the one before it: (1, 0), (3, 2), …
pub(crate) fn paired_reference(configs: &[Config]) -> HashMap<String, &Config> {
    let pairs: Vec<(usize, usize)> = (1..configs.len()).step_by(2).map(|i| (i, i - 1)).collect();
    reference(configs, &pairs)
}

/// Runs with unexpected statuses or socket errors, if any.
pub(crate) fn problems_section(groups: &[&[Config]]) -> Vec<String> {
    let problems: Vec<String> = groups
        .iter()
        .flat_map(|group| group.iter())
        .flat_map(Config::problems)
        .collect();
    if problems.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        String::new(),
        "Unexpected statuses or socket errors:".into(),
        String::new(),
    ];
    out.extend(problems.iter().map(|p| format!("- {p}")));
    out
}
