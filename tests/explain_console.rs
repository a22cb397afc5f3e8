//! `corsgate explain --browser <engine>` prints the console lines the engine prints: each common
//! failure is run in the real browser (Chromium, Firefox and WebKit; how each one's console is
//! read: crates/testkit/src/webdriver/console.rs) against the real gateway, then explained by
//! the CLI for the same page origin, gateway and policies. Every line explain prints must be one
//! the engine logged. The texts in crates/cli/src/explain/console.rs were captured this way.

use corsgate_testkit::cases::WorldKey;
use corsgate_testkit::harness::{corsgate_cli, Host, Target};
use corsgate_testkit::pages::PageServer;
use corsgate_testkit::webdriver::{Browser, Engine, TargetAndEngine, RESULT_PREFIX};
use corsgate_testkit::world::Gateway;

/// What explain writes where the status is the upstream's (it cannot know it).
const UPSTREAM_STATUS: &str = "<the upstream's status>";

/// A request a page makes with `fetch()`, and the same request put to explain.
struct Case {
    name: &'static str,
    /// The `fetch()` path on the gateway.
    path: &'static str,
    /// The `fetch()` init object, in JavaScript.
    init: &'static str,
    /// explain's arguments before the path.
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "origin not allowed",
        path: "/slow/x",
        init: "{}",
        args: &[],
    },
    Case {
        name: "method not allowed",
        path: "/api/x",
        init: r#"{ method: "PURGE" }"#,
        args: &["--method", "PURGE"],
    },
    Case {
        name: "header not allowed",
        path: "/api/x",
        init: r#"{ headers: { "X-Not-Allowed": "1" } }"#,
        args: &["-H", "X-Not-Allowed: 1"],
    },
    Case {
        name: "credentials not allowed",
        path: "/raw/x",
        init: r#"{ credentials: "include" }"#,
        args: &["--credentials", "include"],
    },
    Case {
        name: "credentials not allowed, preflighted",
        path: "/anyheader/x",
        init: r#"{ method: "PUT", credentials: "include" }"#,
        args: &["--method", "PUT", "--credentials", "include"],
    },
    Case {
        name: "* with credentials",
        path: "/public/x",
        init: r#"{ credentials: "include" }"#,
        args: &["--credentials", "include"],
    },
    Case {
        name: "* with credentials, preflighted",
        path: "/public/x",
        init: r#"{ method: "PUT", credentials: "include" }"#,
        args: &["--method", "PUT", "--credentials", "include"],
    },
    Case {
        name: "no route",
        path: "/nowhere/x",
        init: "{}",
        args: &[],
    },
];

#[test]
fn explain_prints_the_lines_each_engine_logs() {
    let engines: Vec<Engine> = Engine::ALL
        .into_iter()
        .filter(|&engine| TargetAndEngine(Target::p2(Host::Wasmtime), engine).runs_here())
        .collect();
    if engines.is_empty() {
        return;
    }
    let page = PageServer::start();
    let other = PageServer::start();
    let gateway = Gateway::start(
        Host::Wasmtime,
        "explain-console",
        [&page.origin(), &other.origin()],
    );
    let policies = gateway
        .wasm
        .parent()
        .expect("world folder")
        .join("policies");
    for engine in engines {
        let browser = Browser::start(engine);
        for Case {
            name,
            path,
            init,
            args,
        } in CASES
        {
            let html = format!(
                r#"<!doctype html><pre id="out">pending</pre><script>
fetch("{gw}{path}", {init}).then(() => "allowed", e => String(e))
  .then(r => {{
    console.log("{RESULT_PREFIX}" + JSON.stringify(r));
    document.getElementById("out").textContent = JSON.stringify(r);
  }});
</script>"#,
                gw = gateway.url("")
            );
            let slug: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let url = page.put(&format!("/explain-{engine}-{slug}"), &html);
            let (result, logged) = browser.run_page_with_console(&url);
            assert_ne!(
                result, "allowed",
                "{engine}, {name}: the browser let it through"
            );
            let explained = corsgate_cli()
                .arg("explain")
                .args(["--browser", engine.name()])
                .args(["--origin", &page.origin(), "--gateway", &gateway.url("")])
                .args(*args)
                .arg(path)
                .arg(&policies)
                .output()
                .expect("run corsgate explain");
            let out = String::from_utf8_lossy(&explained.stdout);
            let lines = console_lines(&out);
            assert!(
                !lines.is_empty(),
                "{engine}, {name}: explain names no console line:\n{out}"
            );
            for line in lines {
                assert!(
                    logged.iter().any(|l| is_logged_as(line, l)),
                    "{engine}, {name}: explain says\n  {line}\n{engine} logged\n  {}",
                    logged.join("\n  ")
                );
            }
        }
    }
}

/// The indented lines after explain's `the console shows:`.
fn console_lines(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| !l.ends_with("the console shows:"))
        .skip(1)
        .map_while(|l| l.strip_prefix("  "))
        .collect()
}

/// Whether the engine's `logged` line is explain's `line`: Chromium puts the page's URL before
/// the message, and explain's upstream status stands for any number.
fn is_logged_as(line: &str, logged: &str) -> bool {
    match line.split_once(UPSTREAM_STATUS) {
        None => logged.ends_with(line),
        Some((before, after)) => logged.split_once(before).is_some_and(|(_, rest)| {
            let status = rest.trim_end_matches(after);
            rest.ends_with(after)
                && !status.is_empty()
                && status.bytes().all(|b| b.is_ascii_digit())
        }),
    }
}
