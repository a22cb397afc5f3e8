//! The audit for people (`--format human`, the default) and for tools (`--format json`).

use std::fmt::Write;

use corsgate_core::access_log::time_text;
use serde_json::{json, Value};

use super::findings::{Audit, RouteAudit};
use super::tally::Window;
use crate::render::Style;

/// What a server cannot see, said once per route: no audit of server logs can judge these.
pub(crate) const NOT_OBSERVABLE: [&str; 2] = [
    "which exposed headers (expose_headers) a page's script reads: the browser decides that after the response has left",
    "whether a page asks with credentials: a browser in credentials mode `include` needs `allow_credentials` even when it has no cookie to send, and TLS client certificates never show in a header, so `allow_credentials` is never taken out",
];

/// The audit as text.
pub(crate) fn human(audit: &Audit, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} lines read: {} gateway lines, {} other output, {} refused, {} too long",
        style.bold("corsgate audit:"),
        audit.lines,
        audit.gateway_lines,
        audit.other_output,
        audit.refused_lines.iter().map(|(_, c)| c).sum::<u64>(),
        audit.too_long
    );
    for (why, count) in &audit.refused_lines {
        let _ = writeln!(out, "  refused line ({count}): {why}");
    }
    let _ = writeln!(out, "window: {}", window(&audit.window));
    let (busy, quiet) = audit.busy_and_quiet_routes();
    for route in busy {
        out.push('\n');
        route_text(&mut out, route, style);
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            out,
            "\nroutes with no line in the logs: {}",
            quiet.join(", ")
        );
    }
    if !audit.unknown_routes.is_empty() {
        let _ = writeln!(out, "\nlines of routes the folder does not have:");
        for (name, count) in &audit.unknown_routes {
            let _ = writeln!(out, "  {name}: {count}");
        }
    }
    if !audit.unrouted.is_empty() {
        let listed: Vec<String> = audit
            .unrouted
            .iter()
            .map(|(decision, count)| format!("{decision} {count}"))
            .collect();
        let _ = writeln!(out, "\nrequests no route governs: {}", listed.join(", "));
    }
    let _ = writeln!(
        out,
        "\nwhat a server cannot observe, so no audit of its logs can judge:"
    );
    for what in NOT_OBSERVABLE {
        let _ = writeln!(out, "  {what}");
    }
    out
}

fn route_text(out: &mut String, route: &RouteAudit, style: Style) {
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "route {} ({}), policy {}",
            route.name, route.file, route.policy_id
        ))
    );
    let _ = writeln!(
        out,
        "  CORS requests: {} ({} actual, {} preflights; {} preflights answered at the edge: upstream round trips saved); {} allowed",
        route.actual_cors + route.preflights,
        route.actual_cors,
        route.preflights,
        route.edge_preflights,
        route.allowed
    );
    let refused: u64 = route.refusals.iter().map(|r| r.total).sum();
    let _ = writeln!(out, "  refused: {refused}");
    for refusal in &route.refusals {
        let _ = writeln!(out, "    {} ({})", refusal.step, refusal.total);
        for origin in &refusal.origins {
            let _ = writeln!(out, "      {:>8}  {}", origin.count, origin.origin);
            if let Some(miss) = &origin.near_miss {
                let _ = writeln!(
                    out,
                    "                {} near miss of {}: {}; fix: {}",
                    style.yellow("→"),
                    miss.allowed,
                    miss.why,
                    miss.fix
                );
            }
        }
        if refusal.others > 0 {
            let _ = writeln!(out, "      {:>8}  other origins", refusal.others);
        }
    }
    if !route.disagreements.is_empty() {
        let _ = writeln!(out, "  report-only disagreements:");
        for (what, count) in &route.disagreements {
            let _ = writeln!(out, "    {count:>8}  {what}");
        }
    }
    let _ = writeln!(out, "  policy versions seen:");
    for version in &route.versions {
        let _ = writeln!(
            out,
            "    {}{}: {} lines, {}",
            version.id,
            if version.is_folder {
                " (this folder)"
            } else {
                ""
            },
            version.lines,
            window(&version.window)
        );
    }
    if route.no_longer_allowed > 0 {
        let _ = writeln!(
            out,
            "  {} request(s) allowed in the log are refused by this folder's version (a policy changed since)",
            route.no_longer_allowed
        );
    }
    if route.current_lines == 0 {
        let _ = writeln!(
            out,
            "  unused: not judged, no line was decided under this folder's version ({}); audit the logs of the deployment that runs it",
            route.policy_id
        );
    } else if route.unused.is_empty() {
        let _ = writeln!(
            out,
            "  unused in {}: nothing, every allowance was used",
            duration(route.current_window.span_ms())
        );
    } else {
        let _ = writeln!(
            out,
            "  unused in {} ({} CORS requests under this version):",
            duration(route.current_window.span_ms()),
            route.current_lines
        );
        for unused in &route.unused {
            let _ = writeln!(
                out,
                "    {} {:?} ({})",
                unused.key.name(),
                unused.entry,
                unused.what
            );
        }
    }
    if let Some(said) = credentials(route) {
        let _ = writeln!(out, "  {said}");
    }
}

/// What the log says of a route's `allow_credentials = true`: requests that carried credentials
/// prove it used; none is a hint, never proof (see [`NOT_OBSERVABLE`]), so it is never listed
/// as unused nor taken out by `--suggest`.
pub(crate) fn credentials(route: &RouteAudit) -> Option<String> {
    match (route.allow_credentials, route.credentialed) {
        (false, _) => None,
        (true, 0) => Some(
            "allow_credentials: no granted request carried a Cookie; likely unused, but a server cannot tell (below), so --suggest keeps it"
                .into(),
        ),
        (true, n) => Some(format!(
            "allow_credentials: used, {n} granted request(s) carried a Cookie"
        )),
    }
}

/// `first – last (span)`, or that the lines had no time.
pub(crate) fn window(window: &Window) -> String {
    match (window.first, window.last) {
        (Some(first), Some(last)) => format!(
            "{} – {} ({})",
            time_text(first),
            time_text(last),
            duration(last - first)
        ),
        _ => "no line with a time".into(),
    }
}

/// `3 d 4 h`, `2 h 5 min`, `12 min`, `40 s`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The audit as one JSON document.
pub(crate) fn json(audit: &Audit) -> Value {
    let window_json = |w: &Window| {
        json!({
            "first": w.first.map(time_text),
            "last": w.last.map(time_text),
            "seconds": w.span_ms() / 1000,
        })
    };
    let routes: Vec<Value> = audit
        .routes
        .iter()
        .map(|r| {
            json!({
                "route": r.name,
                "file": r.file,
                "policy": r.policy_id,
                "lines": r.lines,
                "cors_requests": r.actual_cors + r.preflights,
                "actual": r.actual_cors,
                "preflights": r.preflights,
                "edge_preflights": r.edge_preflights,
                "allowed": r.allowed,
                "refusals": r.refusals.iter().map(|f| json!({
                    "step": f.step,
                    "total": f.total,
                    "others": f.others,
                    "origins": f.origins.iter().map(|o| json!({
                        "origin": o.origin,
                        "count": o.count,
                        "near_miss": o.near_miss.as_ref().map(|m| json!({
                            "allowed": m.allowed, "why": m.why, "fix": m.fix,
                        })),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "report_only_disagreements": r.disagreements.iter()
                    .map(|(what, count)| json!({"what": what, "count": count}))
                    .collect::<Vec<_>>(),
                "versions": r.versions.iter().map(|v| json!({
                    "policy": v.id,
                    "lines": v.lines,
                    "this_folder": v.is_folder,
                    "window": window_json(&v.window),
                })).collect::<Vec<_>>(),
                "judged": {
                    "lines": r.current_lines,
                    "allowed": r.current_allowed,
                    "window": window_json(&r.current_window),
                },
                "no_longer_allowed": r.no_longer_allowed,
                "unused": (r.current_lines > 0).then(|| r.unused.iter().map(|u| json!({
                    "key": u.key.name(), "entry": u.entry, "what": u.what,
                })).collect::<Vec<_>>()),
                "allow_credentials": r.allow_credentials,
                "credentialed": r.credentialed,
                "timeline": {
                    "bucket_seconds": r.timeline_width_ms / 1000,
                    "points": r.timeline.iter().map(|(start, allowed, refused)| json!({
                        "start": time_text(*start), "allowed": allowed, "refused": refused,
                    })).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    json!({
        "lines": audit.lines,
        "gateway_lines": audit.gateway_lines,
        "other_output": audit.other_output,
        "too_long": audit.too_long,
        "refused_lines": audit.refused_lines.iter()
            .map(|(why, count)| json!({"why": why, "count": count}))
            .collect::<Vec<_>>(),
        "window": window_json(&audit.window),
        "routes": routes,
        "not_observable": NOT_OBSERVABLE,
        "unknown_routes": audit.unknown_routes.iter()
            .map(|(route, count)| json!({"route": route, "lines": count}))
            .collect::<Vec<_>>(),
        "unrouted": audit.unrouted.iter()
            .map(|(decision, count)| json!({"decision": decision, "lines": count}))
            .collect::<Vec<_>>(),
    })
}
