//! A static page server on 127.0.0.1: the origin a browser test's page is loaded from.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::http::read_head;

#[derive(Debug, Clone)]
pub struct PageServer {
    pub addr: SocketAddr,
    pages: Arc<Mutex<HashMap<String, String>>>,
}

impl PageServer {
    pub fn start() -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind page server");
        let addr = listener.local_addr().expect("addr");
        let pages: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let served = Arc::clone(&pages);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let pages = Arc::clone(&served);
                thread::spawn(move || {
                    let Ok(read_half) = stream.try_clone() else {
                        return;
                    };
                    let Ok(Some(head)) = read_head(&mut BufReader::new(read_half)) else {
                        return;
                    };
                    let path = head.start_line.split(' ').nth(1).unwrap_or("/").to_string();
                    let page = pages.lock().expect("lock").get(&path).cloned();
                    let (status, body) = match page {
                        Some(html) => ("200 OK", html),
                        None => ("404 Not Found", "no such page".to_string()),
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        PageServer { addr, pages }
    }

    /// `http://127.0.0.1:PORT`: the page's origin.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `html` at `path`; returns its URL.
    pub fn put(&self, path: &str, html: &str) -> String {
        self.pages
            .lock()
            .expect("lock")
            .insert(path.to_string(), html.to_string());
        format!("{}{path}", self.origin())
    }
}

/// A page that calls the gateway at `gateway` (`GW` in its script) and reports in its `#out`
/// element, as [`Browser::run_page`](crate::webdriver::Browser::run_page) reads it. The page
/// scaffolding: `attempt(url, init)` resolves to `{ok, status, text, headers}` or
/// `{ok: false, error}` and never throws; `body` is an async function body returning the result.
pub fn script_page(gateway: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out">pending</pre><script>
const GW = "{gateway}";
async function attempt(url, init, read = []) {{
  try {{
    const r = await fetch(url, init);
    const headers = {{}};
    for (const name of read) headers[name] = r.headers.get(name);
    return {{ ok: true, status: r.status, text: await r.text(), headers }};
  }} catch (e) {{
    return {{ ok: false, error: String(e) }};
  }}
}}
(async () => {{ {body} }})().then(
  (r) => {{ document.getElementById("out").textContent = JSON.stringify(r); }},
  (e) => {{ document.getElementById("out").textContent = JSON.stringify({{ harness_error: String(e) }}); }});
</script></body></html>"#,
        gateway = gateway
    )
}
