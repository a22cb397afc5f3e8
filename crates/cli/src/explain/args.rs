//! `corsgate explain`'s arguments, and the page request they describe.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::console::BrowserEngine;
use crate::error::CliError;
use crate::har::{self, PageRequest};
use crate::Format;

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// The page's origin (`Origin` header), e.g. https://app.example.com.
    #[arg(long)]
    origin: Option<String>,
    /// The method the page's fetch() uses.
    #[arg(long, default_value = "GET")]
    method: String,
    /// A request header the page sets: a name (`X-Token`) or curl style (`Content-Type: application/json`). Repeatable.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// fetch()'s credentials mode.
    #[arg(long, value_enum, default_value_t = Credentials::SameOrigin)]
    credentials: Credentials,
    /// Explain the preflight even when the browser would not send one.
    #[arg(long)]
    preflight: bool,
    /// Read the request from a HAR file saved from the browser's network panel.
    #[arg(long)]
    har: Option<PathBuf>,
    /// Which HAR entry (0-based; default: the first cross-origin request).
    #[arg(long, requires = "har")]
    entry: Option<usize>,
    /// Whose console messages to print: chromium (also Chrome, Edge), firefox or webkit (Safari).
    #[arg(long, value_enum, default_value_t = BrowserEngine::Chromium)]
    pub browser: BrowserEngine,
    /// Output format: the explanation for people, or one JSON object for tools (what the gateway
    /// answers each request, the browser's verdict, the explanation's text).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The gateway's base URL, for the browser's messages.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// Request path (and query); taken from the HAR entry when --har is given.
    path: Option<String>,
    /// The policy folder.
    #[arg(default_value = "policies")]
    pub dir: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Credentials {
    Omit,
    SameOrigin,
    Include,
}

impl ExplainArgs {
    /// The request to explain: from the HAR entry, or from the arguments.
    pub(crate) fn page_request(&self) -> Result<PageRequest, CliError> {
        if let Some(har) = &self.har {
            return har::read(har, self.entry);
        }
        let path = self
            .path
            .clone()
            .ok_or_else(|| CliError::Usage("give the request PATH (or --har FILE)".into()))?;
        if !path.starts_with('/') {
            return Err(CliError::Usage(format!("PATH must start with `/`: {path}")));
        }
        let headers = self
            .headers
            .iter()
            .map(|h| match h.split_once(':') {
                Some((name, value)) => (name.trim().to_string(), Some(value.trim().to_string())),
                None => (h.trim().to_string(), None),
            })
            .collect();
        Ok(PageRequest {
            gateway: self.gateway.trim_end_matches('/').to_string(),
            path,
            origin: self.origin.clone(),
            method: self.method.clone(),
            headers,
            credentials: self.credentials == Credentials::Include,
            was_preflight: self.preflight,
        })
    }
}
