//! The explanation as a list of lines, rendered for a terminal.

use crate::render::Style;

/// What the explanation found.
#[derive(Debug, Default)]
pub struct Report {
    lines: Vec<Line>,
    pub browser_allows: bool,
}

#[derive(Debug)]
enum Line {
    Heading(String),
    Step { ok: bool, text: String },
    Plain(String),
    Verdict { ok: bool, text: String },
    Fix(String),
}

impl Report {
    pub fn heading(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Heading(t.into()));
    }

    pub fn step(&mut self, ok: bool, t: impl Into<String>) {
        self.lines.push(Line::Step { ok, text: t.into() });
    }

    pub fn plain(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Plain(t.into()));
    }

    /// The browser's verdict; an allowing one makes the report allow.
    pub fn verdict(&mut self, ok: bool, t: impl Into<String>) {
        self.browser_allows = ok;
        self.lines.push(Line::Verdict { ok, text: t.into() });
    }

    pub fn fix(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Fix(t.into()));
    }

    /// Header lines, or a note that there are none.
    pub fn headers<'n, 'v>(&mut self, headers: impl IntoIterator<Item = (&'n str, &'v [u8])>) {
        let before = self.lines.len();
        for (name, value) in headers {
            self.plain(format!("  {name}: {}", String::from_utf8_lossy(value)));
        }
        if self.lines.len() == before {
            self.plain("  (no CORS headers)");
        }
    }

    pub fn render(&self, style: Style) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let text = match line {
                Line::Heading(t) => format!("\n{}\n", style.bold(t)),
                Line::Step { ok: true, text } => format!("  {} {text}\n", style.green("✓")),
                Line::Step { ok: false, text } => format!("  {} {text}\n", style.red("✗")),
                Line::Plain(t) => format!("  {t}\n"),
                Line::Verdict { ok: true, text } => {
                    format!("\n{} {text}\n", style.green("browser: ALLOWED."))
                }
                Line::Verdict { ok: false, text } => {
                    format!("\n{} {text}\n", style.red("browser: BLOCKED."))
                }
                Line::Fix(t) => format!("{} {t}\n", style.cyan("fix:")),
            };
            out.push_str(&text);
        }
        out
    }
}
