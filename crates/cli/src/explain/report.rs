//! The explanation as a list of lines, rendered for a terminal, and what the gateway answers
//! each request of the page's, rendered as JSON for tools (`--format json`).

use corsgate_core::decision::{is_access_control_header, CORS_REQUEST_HEADERS};
use corsgate_core::RequestHead;
use serde_json::{json, Value};

use crate::render::Style;

/// What the explanation found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    lines: Vec<Line>,
    /// The browser's verdict, once given.
    pub verdict: Option<BrowserVerdict>,
    /// What the gateway answers each request the page's fetch sends, in order.
    answers: Vec<GatewayAnswer>,
}

/// Whether the page gets to read the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BrowserVerdict {
    /// The browser lets the page read it.
    Allowed,
    /// The browser blocks it.
    Blocked,
    /// A report-only route: the upstream's own CORS headers decide, which the gateway passes
    /// untouched and cannot know in advance.
    DependsOnUpstream,
}

/// What the gateway answers one request, as the engine's plan makes it.
#[derive(Debug)]
pub(crate) struct GatewayAnswer {
    /// `preflight` or `actual`.
    pub request: &'static str,
    /// The request's method (`OPTIONS` for a preflight).
    pub method: String,
    /// The request's path and query.
    pub target: String,
    /// The request's CORS header lines (`Origin`, `Access-Control-Request-*`), as a browser
    /// sends them.
    pub request_headers: Vec<(String, String)>,
    /// The status the gateway answers with; `None`: the upstream's.
    pub status: Option<u16>,
    /// The `Access-Control-*` header lines the gateway sets; `None` on a report-only route,
    /// whose upstream's own pass untouched.
    pub cors: Option<Vec<(String, String)>>,
    /// `Vary` tokens the gateway's answer carries (merged with the upstream's when forwarded).
    pub vary: Vec<String>,
}

impl GatewayAnswer {
    /// The answer to `head`, a `kind` request (`preflight` or `actual`), before the plan says
    /// anything of it.
    pub(crate) fn to(kind: &'static str, head: &RequestHead<'_>) -> GatewayAnswer {
        let lines = [
            head.cors.origin,
            head.cors.request_method,
            head.cors.request_headers,
        ];
        let request_headers = CORS_REQUEST_HEADERS
            .iter()
            .zip(lines)
            .flat_map(|(name, values)| {
                values
                    .iter()
                    .map(|v| (name.to_string(), String::from_utf8_lossy(v).into_owned()))
            })
            .collect();
        GatewayAnswer {
            request: kind,
            method: String::from_utf8_lossy(head.cors.method).into_owned(),
            target: head.path_and_query.to_string(),
            request_headers,
            status: None,
            cors: None,
            vary: Vec::new(),
        }
    }

    /// The answer's CORS header lines and `Vary` tokens, from its header lines.
    pub(crate) fn cors_from<'h>(
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) -> (Vec<(String, String)>, Vec<String>) {
        let mut cors = Vec::new();
        let mut vary = Vec::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value).into_owned();
            if name.eq_ignore_ascii_case("vary") {
                vary.extend(value.split(',').map(|t| t.trim().to_string()));
            } else if is_access_control_header(name) {
                cors.push((name.to_string(), value));
            }
        }
        (cors, vary)
    }

    fn json(&self) -> Value {
        json!({
            "request": self.request,
            "method": self.method,
            "target": self.target,
            "request_headers": self.request_headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "status": self.status,
            "cors_headers": self.cors.as_ref().map_or(Value::String("upstream".into()), |lines| {
                lines.iter().map(|(n, v)| json!([n, v])).collect()
            }),
            "vary": self.vary,
        })
    }
}

#[derive(Debug)]
enum Line {
    Heading(String),
    Step { ok: bool, text: String },
    Plain(String),
    Verdict { ok: bool, text: String },
    DependsOnUpstream(String),
    Fix(String),
}

impl Report {
    pub(crate) fn heading(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Heading(t.into()));
    }

    pub(crate) fn step(&mut self, ok: bool, t: impl Into<String>) {
        self.lines.push(Line::Step { ok, text: t.into() });
    }

    pub(crate) fn plain(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Plain(t.into()));
    }

    /// The browser's verdict: allowed when `ok`, else blocked.
    pub(crate) fn verdict(&mut self, ok: bool, t: impl Into<String>) {
        self.verdict = Some(if ok {
            BrowserVerdict::Allowed
        } else {
            BrowserVerdict::Blocked
        });
        self.lines.push(Line::Verdict { ok, text: t.into() });
    }

    /// The browser's verdict is the upstream's to make (a report-only route).
    pub(crate) fn depends_on_upstream(&mut self, t: impl Into<String>) {
        self.verdict = Some(BrowserVerdict::DependsOnUpstream);
        self.lines.push(Line::DependsOnUpstream(t.into()));
    }

    /// What the gateway answers a request of the page's.
    pub(crate) fn gateway_answers(&mut self, answer: GatewayAnswer) {
        self.answers.push(answer);
    }

    pub(crate) fn fix(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Fix(t.into()));
    }

    /// Header lines, or a note that there are none.
    pub(crate) fn headers<'n, 'v>(
        &mut self,
        headers: impl IntoIterator<Item = (&'n str, &'v [u8])>,
    ) {
        let before = self.lines.len();
        for (name, value) in headers {
            self.plain(format!("  {name}: {}", String::from_utf8_lossy(value)));
        }
        if self.lines.len() == before {
            self.plain("  (no CORS headers)");
        }
    }

    pub(crate) fn render(&self, style: Style) -> String {
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
                Line::DependsOnUpstream(t) => {
                    format!(
                        "\n{} {t}\n",
                        style.bold("browser: DEPENDS ON THE UPSTREAM.")
                    )
                }
                Line::Fix(t) => format!("{} {t}\n", style.cyan("fix:")),
            };
            out.push_str(&text);
        }
        out
    }

    /// The explanation as one JSON object: what the gateway answers each request, the
    /// browser's verdict, and the text lines.
    pub(crate) fn json(&self) -> Value {
        let verdict = match self.verdict {
            Some(BrowserVerdict::Allowed) => "allowed",
            Some(BrowserVerdict::Blocked) | None => "blocked",
            Some(BrowserVerdict::DependsOnUpstream) => "depends_on_upstream",
        };
        json!({
            "gateway": self.answers.iter().map(GatewayAnswer::json).collect::<Vec<_>>(),
            "browser": verdict,
            "text": self.render(Style::plain()),
        })
    }
}
