//! Human output: `file:line:column: error: message`, the source line and a caret under the span,
//! coloured on a terminal, plain when piped or with `NO_COLOR`.

use std::io::IsTerminal;

use corsgate_core::config::{Location, PolicySource};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    color: bool,
}

impl Style {
    pub(crate) fn for_stdout() -> Style {
        Style {
            color: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// No colour, whatever the terminal.
    pub(crate) fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub(crate) fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub(crate) fn yellow(&self, t: &str) -> String {
        self.paint("1;33", t)
    }
    pub(crate) fn green(&self, t: &str) -> String {
        self.paint("1;32", t)
    }
    pub(crate) fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub(crate) fn cyan(&self, t: &str) -> String {
        self.paint("1;36", t)
    }
}

/// One diagnostic: header line, source line with a caret under the span, then help.
pub(crate) fn diagnostic(
    style: Style,
    severity: &str,
    location: &Location,
    message: &str,
    help: Option<&str>,
    sources: &[PolicySource],
) -> String {
    let label = if severity == "error" {
        style.red(severity)
    } else {
        style.yellow(severity)
    };
    let mut out = format!(
        "{}: {label}: {}\n",
        style.bold(&location.to_string()),
        style.bold(message)
    );
    if let Some(text) = sources
        .iter()
        .find(|s| s.file == location.file)
        .map(|s| &s.text)
    {
        if let Some(line) = text.lines().nth(location.line.saturating_sub(1)) {
            let gutter = location.line.to_string();
            let pad = " ".repeat(gutter.len());
            let start = location.column.saturating_sub(1);
            let span_chars = text
                .get(location.span.clone())
                .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1));
            let width = span_chars.min(line.chars().count().saturating_sub(start).max(1));
            out.push_str(&format!(
                "{pad} |\n{gutter} | {line}\n{pad} | {}{}\n",
                " ".repeat(start),
                style.red(&"^".repeat(width))
            ));
        }
    }
    if let Some(help) = help {
        out.push_str(&format!("  = {}: {help}\n", style.cyan("help")));
    }
    out
}
