//! What each engine prints on its console while a page runs: the lines a user sees when the
//! browser blocks a response, captured from the engine itself. The three engines hand their
//! console over in three different ways:
//! - Chromium: the browser log chromedriver keeps (`goog:loggingPrefs`, read at `/se/log`);
//! - Firefox: WebDriver BiDi's `log.entryAdded` events (geckodriver 0.37 answers no log
//!   endpoint of classic WebDriver);
//! - WebKit: WebKitGTK writes console messages to stdout
//!   (`--enable-write-console-messages-to-stdout`), but only for web views of a browser it
//!   started itself: under `WebKitWebDriver --automation` nothing is written (tried with
//!   WebKitGTK 2.50.6), so the page runs in a MiniBrowser of its own and reports its result on
//!   the console too ([`RESULT_PREFIX`]).

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::process::ChildGuard;

/// A page whose console is read by WebKit's capture logs its result as
/// `console.log(RESULT_PREFIX + JSON.stringify(result))`.
pub const RESULT_PREFIX: &str = "corsgate-result ";

/// How long the console may stay quiet after the page's result before it counts as complete:
/// engines log a blocked response's message around the time `fetch()` rejects, not strictly
/// before.
const QUIET: Duration = Duration::from_millis(500);

/// The browser log chromedriver keeps for a session (`goog:loggingPrefs`).
pub(super) async fn chromium_log(addr: SocketAddr, client: &fantoccini::Client) -> Vec<String> {
    let Ok(Some(session)) = client.session_id().await else {
        return Vec::new();
    };
    // chromedriver answers only requests whose `Host` is local.
    let request = crate::client::Request {
        host: Some(addr.to_string()),
        ..crate::client::Request::new("POST", &format!("/session/{session}/se/log"))
    }
    .header("Content-Type", "application/json")
    .body(crate::client::Body::Bytes(
        br#"{"type":"browser"}"#.to_vec(),
    ));
    let Ok(response) = crate::client::send(addr, &request) else {
        return Vec::new();
    };
    let log: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    log["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["message"].as_str().map(str::to_string))
        .collect()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Firefox's console through WebDriver BiDi: subscribed before the page loads, read after.
pub(super) struct FirefoxLog {
    socket: Socket,
}

impl FirefoxLog {
    /// Connects to the session's BiDi socket (the session asked for `webSocketUrl`) and
    /// subscribes to log entries.
    pub(super) async fn subscribe(client: &fantoccini::Client) -> FirefoxLog {
        let url = client
            .capabilities()
            .and_then(|c| c.get("webSocketUrl"))
            .and_then(Value::as_str)
            .expect("geckodriver hands out a webSocketUrl when the session asks for one")
            .to_string();
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("firefox: connect to BiDi at {url}: {e}"));
        let subscribe = json!({
            "id": 1,
            "method": "session.subscribe",
            "params": { "events": ["log.entryAdded"] }
        });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("send session.subscribe");
        // Entries logged before the subscription's answer would be lost: wait for it.
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let reply: Value = serde_json::from_str(&text).unwrap_or_default();
                if reply["id"] == 1 {
                    assert!(
                        reply["type"] == "success",
                        "firefox: session.subscribe failed: {reply}"
                    );
                    break;
                }
            }
        }
        FirefoxLog { socket }
    }

    /// The entries' texts, in order, once the console has been quiet for [`QUIET`].
    pub(super) async fn entries(mut self) -> Vec<String> {
        let mut entries = Vec::new();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(QUIET, self.socket.next()).await {
            let Message::Text(text) = message else {
                continue;
            };
            let event: Value = serde_json::from_str(&text).unwrap_or_default();
            if event["method"] == "log.entryAdded" {
                if let Some(text) = event["params"]["text"].as_str() {
                    entries.push(text.to_string());
                }
            }
        }
        let _ = self.socket.close(None).await;
        entries
    }
}

/// Loads `url` in a MiniBrowser of its own (under its own `Xvfb`, with a scratch profile),
/// its console written to a file; returns the page's result (logged after [`RESULT_PREFIX`])
/// and the console messages (the text after WebKit's `CONSOLE <source> <level> ` tag), the
/// result's line excepted. Both of the browser's streams go to one file: the messages came on
/// stdout in one run and on stderr in another, and through a pipe nothing arrived while the
/// browser ran; `--private` writes none at all (WebKitGTK 2.50.6).
pub(super) fn webkit_console(url: &str, deadline: Duration) -> (Value, Vec<String>) {
    let (display, _xvfb) = super::start_xvfb();
    // A first visit every time: nothing cached from an earlier page.
    let profile = crate::harness::work_dir(&format!("minibrowser-{display}"));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("create the browser's profile folder");
    let output = profile.join("console.txt");
    let printed = std::fs::File::create(&output).expect("console file");
    let child = Command::new(super::MINIBROWSER)
        .args(["--enable-write-console-messages-to-stdout=true", url])
        .env("DISPLAY", format!(":{display}"))
        .env("HOME", &profile)
        .env("XDG_DATA_HOME", profile.join("data"))
        .env("XDG_CACHE_HOME", profile.join("cache"))
        .env("XDG_CONFIG_HOME", profile.join("config"))
        .stdin(Stdio::null())
        .stdout(printed.try_clone().expect("clone the console file"))
        .stderr(printed)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", super::MINIBROWSER));
    let _browser = ChildGuard::new("MiniBrowser", child);
    let give_up = Instant::now() + deadline;
    let mut done_at = None;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let printed = std::fs::read_to_string(&output).unwrap_or_default();
        let (result, messages) = read_console(&printed);
        match (result, done_at) {
            (Some(_), None) => done_at = Some(Instant::now()),
            (Some(result), Some(at)) if at.elapsed() >= QUIET => return (result, messages),
            (None, _) if Instant::now() > give_up => panic!(
                "webkit: {url}: no result on the console within {deadline:?}; it printed:\n  {}",
                messages.join("\n  ")
            ),
            _ => {}
        }
    }
}

/// The page's result, once logged, and the other console messages, from what WebKit printed.
fn read_console(printed: &str) -> (Option<Value>, Vec<String>) {
    let mut result = None;
    let mut messages = Vec::new();
    for message in printed.lines().filter_map(console_message) {
        match message.strip_prefix(RESULT_PREFIX) {
            Some(json) => {
                result =
                    Some(serde_json::from_str(json).unwrap_or_else(|e| {
                        panic!("webkit: page result {json:?} is not JSON: {e}")
                    }))
            }
            None => messages.push(message.to_string()),
        }
    }
    (result, messages)
}

/// The message of one of WebKit's console lines: `[<url>:<line>:<column>: ]CONSOLE [<source> ]
/// <level> <message>`, e.g. `CONSOLE SECURITY ERROR …`, `CONSOLE JS ERROR …` and, for
/// `console.log()`, `CONSOLE LOG …` (no source).
fn console_message(line: &str) -> Option<&str> {
    const LEVELS: [&str; 5] = ["LOG", "INFO", "WARN", "ERROR", "DEBUG"];
    let (_, mut rest) = line.split_once("CONSOLE ")?;
    for _ in 0..2 {
        let (word, message) = rest.split_once(' ')?;
        if LEVELS.contains(&word) {
            return Some(message);
        }
        rest = message;
    }
    None
}
