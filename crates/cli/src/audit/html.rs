//! `corsgate audit --html FILE`: the audit as one self-contained page (inline CSS and SVG, no
//! script, nothing fetched), to attach to a ticket or open from disk. Per route: allowed
//! against refused CORS requests over time, the top refused origins with their near misses,
//! the allowances no request used, the versions seen.

use std::fmt::Write;

use corsgate_core::access_log::time_text;

use super::findings::{Audit, RouteAudit};
use super::text::{credentials, duration, window, NOT_OBSERVABLE};

const CHART_WIDTH: u64 = 720;
const CHART_HEIGHT: u64 = 120;
const BAR_HEIGHT: u64 = 18;

/// The page.
pub(crate) fn page(audit: &Audit) -> String {
    let mut html = String::new();
    html.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>corsgate audit</title><style>\
         body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}\
         h2{margin-top:2em;border-bottom:1px solid #ccc}\
         .allowed{fill:#2e7d32}.refused{fill:#c62828}.bar{fill:#c62828}\
         .key{font-weight:bold}.key.allowed{color:#2e7d32}.key.refused{color:#c62828}\
         .near-miss{color:#8a5a00}.muted{color:#666}table{border-collapse:collapse}\
         td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}\
         code{background:#f4f4f4;padding:0 3px}\
         </style></head><body>\n<h1>corsgate audit</h1>\n",
    );
    let refused_lines: u64 = audit.refused_lines.iter().map(|(_, c)| c).sum();
    let _ = writeln!(
        html,
        "<p class=\"summary\">{} lines read: {} gateway lines, {} other output, {} refused, {} too long. Window: {}.</p>",
        audit.lines,
        audit.gateway_lines,
        audit.other_output,
        refused_lines,
        audit.too_long,
        escape(&window(&audit.window))
    );
    let (busy, quiet) = audit.busy_and_quiet_routes();
    for route in busy {
        route_section(&mut html, route);
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            html,
            "<h2>Routes with no line in the logs</h2><p class=\"quiet\">{}</p>",
            escape(&quiet.join(", "))
        );
    }
    html.push_str("<h2>What a server cannot observe</h2><ul class=\"not-observable\">\n");
    for what in NOT_OBSERVABLE {
        let _ = writeln!(html, "<li>{}</li>", escape(what));
    }
    html.push_str("</ul>\n</body></html>\n");
    html
}

fn route_section(html: &mut String, route: &RouteAudit) {
    let _ = writeln!(
        html,
        "<section class=\"route\" id=\"route-{0}\"><h2>route {0}</h2>\n<p class=\"muted\">{1}, policy <code>{2}</code></p>",
        escape(&route.name),
        escape(&route.file),
        escape(&route.policy_id)
    );
    let refused: u64 = route.refusals.iter().map(|r| r.total).sum();
    let _ = writeln!(
        html,
        "<p class=\"counts\">{} CORS requests ({} actual, {} preflights, {} answered at the edge), {} allowed, {} refused.</p>",
        route.actual_cors + route.preflights,
        route.actual_cors,
        route.preflights,
        route.edge_preflights,
        route.allowed,
        refused
    );
    timeline(html, route);
    refused_origins(html, route);
    unused(html, route);
    let _ = writeln!(
        html,
        "<h3>Policy versions seen</h3><table class=\"versions\"><tr><th>policy</th><th>lines</th><th>window</th></tr>"
    );
    for version in &route.versions {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&version.id),
            if version.is_folder {
                " (this folder)"
            } else {
                ""
            },
            version.lines,
            escape(&window(&version.window))
        );
    }
    html.push_str("</table></section>\n");
}

/// Stacked bars per time bucket: allowed below, refused on top.
fn timeline(html: &mut String, route: &RouteAudit) {
    let _ = writeln!(
        html,
        "<h3>Allowed and refused over time</h3><p class=\"muted\">{} per bar: <span class=\"key allowed\">allowed</span> below, <span class=\"key refused\">refused</span> above</p>",
        duration(route.timeline_width_ms)
    );
    if route.timeline.is_empty() {
        html.push_str("<p>No CORS request with a time.</p>\n");
        return;
    }
    let peak = route
        .timeline
        .iter()
        .map(|(_, a, r)| a + r)
        .max()
        .unwrap_or(1)
        .max(1);
    let width = (CHART_WIDTH / route.timeline.len() as u64).clamp(2, 40);
    let _ = write!(
        html,
        "<svg class=\"timeline\" role=\"img\" width=\"{}\" height=\"{CHART_HEIGHT}\" viewBox=\"0 0 {} {CHART_HEIGHT}\">",
        width * route.timeline.len() as u64,
        width * route.timeline.len() as u64
    );
    for (i, (start, allowed, refused)) in route.timeline.iter().enumerate() {
        let x = i as u64 * width;
        let allowed_h = allowed * CHART_HEIGHT / peak;
        let refused_h = refused * CHART_HEIGHT / peak;
        let title = format!(
            "{}: {allowed} allowed, {refused} refused",
            time_text(*start)
        );
        let _ = write!(
            html,
            "<g><title>{}</title><rect class=\"allowed\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{allowed_h}\"/><rect class=\"refused\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{refused_h}\"/></g>",
            escape(&title),
            CHART_HEIGHT - allowed_h,
            width - 1,
            CHART_HEIGHT - allowed_h - refused_h,
            width - 1
        );
    }
    html.push_str("</svg>\n");
}

/// One bar per refused origin, the most refused first, with its near miss.
fn refused_origins(html: &mut String, route: &RouteAudit) {
    html.push_str("<h3>Top refused origins</h3>\n");
    let mut origins: Vec<(&str, &super::findings::RefusedOrigin)> = route
        .refusals
        .iter()
        .flat_map(|r| r.origins.iter().map(move |o| (r.step.as_str(), o)))
        .collect();
    origins.sort_by_key(|(_, origin)| std::cmp::Reverse(origin.count));
    origins.truncate(10);
    if origins.is_empty() {
        html.push_str("<p>None refused.</p>\n");
        return;
    }
    let peak = origins[0].1.count.max(1);
    let label_width = 360;
    let _ = write!(
        html,
        "<svg class=\"refused-origins\" role=\"img\" width=\"{CHART_WIDTH}\" height=\"{}\">",
        origins.len() as u64 * (BAR_HEIGHT + 4)
    );
    for (i, (step, origin)) in origins.iter().enumerate() {
        let y = i as u64 * (BAR_HEIGHT + 4);
        let bar = origin.count * (CHART_WIDTH - label_width - 60) / peak;
        let _ = write!(
            html,
            "<g><title>{}</title><text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"{label_width}\" y=\"{y}\" width=\"{}\" height=\"{BAR_HEIGHT}\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            escape(step),
            y + BAR_HEIGHT - 4,
            escape(&origin.origin),
            bar.max(1),
            label_width + bar + 6,
            y + BAR_HEIGHT - 4,
            origin.count
        );
    }
    html.push_str("</svg>\n<ul class=\"near-misses\">\n");
    for (_, origin) in &origins {
        if let Some(miss) = &origin.near_miss {
            let _ = writeln!(
                html,
                "<li class=\"near-miss\"><code>{}</code> nearly matches <code>{}</code>: {}; fix: {}</li>",
                escape(&origin.origin),
                escape(&miss.allowed),
                escape(&miss.why),
                escape(&miss.fix)
            );
        }
    }
    html.push_str("</ul>\n");
}

fn unused(html: &mut String, route: &RouteAudit) {
    html.push_str("<h3>Unused allowances</h3>\n");
    if route.current_lines == 0 {
        html.push_str("<p>Not judged: no line was decided under this folder's version.</p>\n");
    } else if route.unused.is_empty() {
        html.push_str("<p>Every allowance was used.</p>\n");
    } else {
        let _ = writeln!(
            html,
            "<p class=\"muted\">No request used these in {} ({} CORS requests under this version).</p><ul class=\"unused\">",
            duration(route.current_window.span_ms()),
            route.current_lines
        );
        for unused in &route.unused {
            let _ = writeln!(
                html,
                "<li><code>{}</code> <code>{}</code> ({})</li>",
                unused.key.name(),
                escape(&unused.entry),
                unused.what
            );
        }
        html.push_str("</ul>\n");
    }
    if let Some(said) = credentials(route) {
        let _ = writeln!(html, "<p class=\"credentials\">{}</p>", escape(&said));
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` as references. Request values reach the page (an
/// origin a client made up), so nothing is written unescaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
