//! Real browsers for the browser tests, through W3C WebDriver: Chromium (`chromedriver`),
//! Firefox ESR (`geckodriver`) and WebKitGTK's MiniBrowser (`WebKitWebDriver`, under `Xvfb`).
//! Each driver runs on 127.0.0.1 with a free port (and WebKit on a free X display), waited for
//! with a deadline and stopped by PID when its [`Browser`] is dropped. Every page runs in a
//! session of its own, a fresh profile, as a first visit would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::ClientBuilder;
use serde_json::{json, Map, Value};

use crate::cases::WorldKey;
use crate::harness::Target;
use crate::process::{free_port, wait_for_port, ChildGuard};

mod console;

pub use self::console::RESULT_PREFIX;

/// WebKitGTK's browser, from Debian's `libwebkit2gtk-4.1-0`.
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// A browser engine the tests run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    /// The WebDriver server, or why it cannot be found.
    pub fn driver(self) -> Result<PathBuf, String> {
        let (program, install) = match self {
            Engine::Chromium => ("chromedriver", "apt-get install chromium chromium-driver"),
            Engine::Firefox => ("geckodriver", "cargo install geckodriver --locked"),
            Engine::WebKit => ("WebKitWebDriver", "apt-get install webkit2gtk-driver xvfb"),
        };
        let cargo_bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|home| home.join("bin"));
        cargo_bin
            .into_iter()
            .chain(
                std::env::var_os("PATH")
                    .iter()
                    .flat_map(std::env::split_paths),
            )
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!("{program} is not installed ({install}; scripts/setup.sh --tests)")
            })
    }

    /// Whether the engine has a mode that follows the Fetch Standard where its default does not
    /// (`*` in `Access-Control-Allow-Headers` never covering `Authorization`).
    pub fn has_strict_mode(self) -> bool {
        matches!(self, Engine::Chromium | Engine::Firefox)
    }

    /// What the session asks for: the browser binary, headless, no background traffic (this
    /// network is closed, and Chromium retries refused connections many at a time). `strict`:
    /// `Authorization` is not covered by `Access-Control-Allow-Headers: *`, as Fetch says
    /// (Chromium's `CorsNonWildcardRequestHeadersSupport` feature, Firefox's
    /// `network.cors_preflight.authorization_covered_by_wildcard` pref).
    fn capabilities(self, strict: bool) -> Map<String, Value> {
        let mut value = match self {
            Engine::Chromium => json!({
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync",
                             "--disable-dev-shm-usage"]
                }
            }),
            Engine::Firefox => json!({
                "browserName": "firefox",
                // WebDriver BiDi, for the console (see `console.rs`).
                "webSocketUrl": true,
                "moz:firefoxOptions": {
                    "binary": "/usr/bin/firefox-esr",
                    "args": ["-headless"],
                    "prefs": {
                        "network.captive-portal-service.enabled": false,
                        "app.update.enabled": false,
                        "browser.safebrowsing.malware.enabled": false,
                        "browser.safebrowsing.phishing.enabled": false
                    }
                }
            }),
            Engine::WebKit => json!({
                "browserName": "MiniBrowser",
                "webkitgtk:browserOptions": {
                    "binary": MINIBROWSER,
                    "args": ["--automation"]
                }
            }),
        };
        if strict {
            match self {
                Engine::Chromium => {
                    if let Some(args) = value["goog:chromeOptions"]["args"].as_array_mut() {
                        args.push("--enable-features=CorsNonWildcardRequestHeadersSupport".into());
                    }
                }
                Engine::Firefox => {
                    value["moz:firefoxOptions"]["prefs"]
                        ["network.cors_preflight.authorization_covered_by_wildcard"] = false.into();
                }
                Engine::WebKit => panic!("WebKit has no strict mode for this"),
            }
        }
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }
}

/// A browser test world's key: the gateway artifact and host serving it, and the engine calling
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetAndEngine(pub Target, pub Engine);

impl TargetAndEngine {
    /// Every compiled-in artifact on every host with every engine; the prebuilt artifact, which
    /// serves by the same engine and differs only in where its route table comes from, with
    /// Chromium (six browser worlds fewer on a 2-core CI machine).
    pub fn all() -> Vec<TargetAndEngine> {
        Target::ALL
            .into_iter()
            .flat_map(|t| {
                let engines: &[Engine] = if t.artifact.is_prebuilt() {
                    &[Engine::Chromium]
                } else {
                    &Engine::ALL
                };
                engines.iter().map(move |&e| TargetAndEngine(t, e))
            })
            .collect()
    }
}

impl std::fmt::Display for TargetAndEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.0, self.1)
    }
}

impl WorldKey for TargetAndEngine {
    fn runs_here(self) -> bool {
        if !self.0.runs_here() {
            return false;
        }
        match self.1.driver() {
            Ok(_) => true,
            Err(_) if std::env::var_os("CI").is_some() => true,
            Err(why) => {
                eprintln!("note: the {} tests are skipped: {why}", self.1);
                false
            }
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A running WebDriver server for one engine, and the X server it draws on (WebKit).
#[derive(Debug)]
struct Driver {
    addr: SocketAddr,
    /// The driver's output (and the browser's, which it inherits), for a failure's post-mortem.
    log_path: PathBuf,
    // Field order is drop order: the driver before the X server it draws on.
    _driver: ChildGuard,
    _display: Option<ChildGuard>,
}

impl Driver {
    fn start(engine: Engine) -> Driver {
        let program = engine.driver().unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let display = (engine == Engine::WebKit).then(start_xvfb);
        let mut command = Command::new(&program);
        match engine {
            Engine::Chromium | Engine::WebKit => command.arg(format!("--port={port}")),
            // BiDi's port too: its default (9222) is one port for every geckodriver at once.
            Engine::Firefox => command.args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--websocket-port",
                &free_port().to_string(),
            ]),
        };
        if let Some((number, _)) = &display {
            command.env("DISPLAY", format!(":{number}"));
        }
        let log_path = crate::harness::work_dir("drivers").join(format!("{engine}-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("driver log");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let mut guard = ChildGuard::new(engine.name(), child);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        wait_for_port(addr, Duration::from_secs(30), &mut guard);
        Driver {
            addr,
            log_path,
            _driver: guard,
            _display: display.map(|(_, guard)| guard),
        }
    }

    /// The end of the driver's output.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A browser engine under WebDriver.
#[derive(Debug)]
pub struct Browser {
    pub engine: Engine,
    /// In the engine's strict mode (see [`Engine::has_strict_mode`]).
    pub strict: bool,
    runtime: tokio::runtime::Runtime,
    /// Locked for a page's whole session where the driver allows one session at a time
    /// (geckodriver, WebKitWebDriver), and then replaced when it stops answering.
    driver: std::sync::Mutex<Driver>,
}

/// How long a page's script may take to produce its result.
const PAGE_DEADLINE: Duration = Duration::from_secs(60);
/// How long a whole page may take, session and navigation included.
const SESSION_DEADLINE: Duration = Duration::from_secs(90);

impl Browser {
    /// Starts the engine's WebDriver server (and, for WebKit, an X server for it).
    pub fn start(engine: Engine) -> Browser {
        Browser::start_in(engine, false)
    }

    /// The same, in the engine's strict mode.
    pub fn start_strict(engine: Engine) -> Browser {
        Browser::start_in(engine, true)
    }

    fn start_in(engine: Engine, strict: bool) -> Browser {
        Browser {
            engine,
            strict,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            driver: std::sync::Mutex::new(Driver::start(engine)),
        }
    }

    /// Loads `url` in a new session and returns what the page reports: the text of its
    /// `#out` element once it is no longer `pending`, parsed as JSON.
    pub fn run_page(&self, url: &str) -> Value {
        self.page(url, false).0
    }

    /// [`Browser::run_page`], also returning the messages the engine printed on its console
    /// while the page ran (how each engine is read: `console.rs`). For WebKit the page runs in
    /// a MiniBrowser outside WebDriver and must also log its result after [`RESULT_PREFIX`].
    pub fn run_page_with_console(&self, url: &str) -> (Value, Vec<String>) {
        if self.engine == Engine::WebKit {
            return console::webkit_console(url, SESSION_DEADLINE);
        }
        self.page(url, true)
    }

    /// A new session (a fresh profile) on the driver at `addr`.
    async fn new_session(&self, addr: SocketAddr) -> fantoccini::Client {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(self.engine.capabilities(self.strict))
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| panic!("{}: new session: {e}", self.engine))
    }

    /// Loads `url` (a page that runs no script of its own, like a report) in a new session,
    /// runs `script` in it and returns the script's value; with `screenshot`, also saves a PNG
    /// of the page there.
    pub fn inspect(&self, url: &str, script: &str, screenshot: Option<&std::path::Path>) -> Value {
        let addr = self.driver.lock().unwrap_or_else(|e| e.into_inner()).addr;
        let page = async {
            let client = self.new_session(addr).await;
            let result = async {
                client.goto(url).await?;
                if let Some(path) = screenshot {
                    let png = client.screenshot().await?;
                    std::fs::write(path, png).expect("write the screenshot");
                }
                client.execute(script, vec![]).await
            }
            .await;
            let _ = client.close().await;
            result.unwrap_or_else(|e| panic!("{}: {url}: {e}", self.engine))
        };
        self.runtime
            .block_on(async { tokio::time::timeout(SESSION_DEADLINE, page).await })
            .unwrap_or_else(|_| {
                panic!(
                    "{}: {url}: no answer within {SESSION_DEADLINE:?}",
                    self.engine
                )
            })
    }

    /// Every page is bounded, driver commands included. A one-session driver that stops
    /// answering is replaced and the page tried once more: WebKitWebDriver stopped answering one
    /// page in each of two full CI runs (2026-11-30, different cases, under load) while every
    /// other page of those runs passed. What the page reports is never retried.
    fn page(&self, url: &str, with_console: bool) -> (Value, Vec<String>) {
        if self.engine == Engine::Chromium {
            let addr = self.driver.lock().unwrap_or_else(|e| e.into_inner()).addr;
            return self
                .page_within_deadline(addr, url, with_console)
                .unwrap_or_else(|| {
                    let driver = self.driver.lock().unwrap_or_else(|e| e.into_inner());
                    panic!(
                        "{}: {url}: no answer within {SESSION_DEADLINE:?}; driver log:\n{}",
                        self.engine,
                        driver.log_tail()
                    )
                });
        }
        let mut driver = self.driver.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(page) = self.page_within_deadline(driver.addr, url, with_console) {
            return page;
        }
        eprintln!(
            "note: {}: the driver did not answer {url} within {SESSION_DEADLINE:?}; restarting it once; its log:\n{}",
            self.engine,
            driver.log_tail()
        );
        *driver = Driver::start(self.engine);
        self.page_within_deadline(driver.addr, url, with_console)
            .unwrap_or_else(|| {
                panic!(
                    "{}: {url}: no answer within {SESSION_DEADLINE:?}, twice; driver log:\n{}",
                    self.engine,
                    driver.log_tail()
                )
            })
    }

    /// One page in a new session on the driver at `addr`; `None` when the driver did not
    /// answer within [`SESSION_DEADLINE`].
    fn page_within_deadline(
        &self,
        addr: SocketAddr,
        url: &str,
        with_console: bool,
    ) -> Option<(Value, Vec<String>)> {
        let page = async {
            let client = self.new_session(addr).await;
            let firefox_log = match self.engine {
                Engine::Firefox if with_console => {
                    Some(console::FirefoxLog::subscribe(&client).await)
                }
                _ => None,
            };
            let timeouts =
                TimeoutConfiguration::new(Some(PAGE_DEADLINE), Some(PAGE_DEADLINE), None);
            let result = async {
                client.update_timeouts(timeouts).await?;
                client.goto(url).await?;
                client
                    .execute_async(
                        "const done = arguments[arguments.length - 1];
                         (function poll() {
                           const out = document.getElementById('out');
                           if (out && out.textContent !== 'pending') done(out.textContent);
                           else setTimeout(poll, 20);
                         })();",
                        vec![],
                    )
                    .await
            }
            .await;
            let console = match (self.engine, firefox_log) {
                (Engine::Chromium, _) if with_console => console::chromium_log(addr, &client).await,
                (_, Some(log)) => log.entries().await,
                _ => Vec::new(),
            };
            let _ = client.close().await;
            let text = result.unwrap_or_else(|e| panic!("{}: {url}: {e}", self.engine));
            let text = text.as_str().unwrap_or_default().to_string();
            let value = serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("{}: page result {text:?} is not JSON: {e}", self.engine)
            });
            (value, console)
        };
        self.runtime
            .block_on(async { tokio::time::timeout(SESSION_DEADLINE, page).await })
            .ok()
    }
}

/// `Xvfb` on a display it picks itself (`-displayfd`: the first one without a live X server,
/// stale lock files of killed servers included), for the one engine without a headless mode.
/// Picking by the socket files alone ran out of displays: a server stopped by `SIGKILL` leaves
/// its socket behind, and 110 of them had piled up after a day of test runs.
fn start_xvfb() -> (u32, ChildGuard) {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x1024x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Xvfb (apt-get install xvfb; scripts/setup.sh --tests)");
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = ChildGuard::new("Xvfb", child);
    let (sender, number) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = sender.send(line.trim().parse::<u32>().ok());
    });
    let number = number
        .recv_timeout(Duration::from_secs(10))
        .ok()
        .flatten()
        .expect("Xvfb names its display within 10 s");
    (number, guard)
}
