//! The `corsgate` binary run as users run it: on the shipped policies, on broken folders, and
//! on explain cases whose expected console lines were captured from the engines (Chromium 156
//! here; every engine live in tests/explain_console.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn corsgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsgate"))
        .args(args)
        .current_dir(repo())
        .env_remove("NO_COLOR")
        .output()
        .expect("run corsgate")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A scratch policy folder with the given files.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("corsgate-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

#[test]
fn check_accepts_the_shipped_policies_and_spin_manifest() {
    let o = corsgate(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ok: 3 route(s) valid"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains('\x1b'), "piped output is plain");
}

#[test]
fn check_reports_every_error_with_source_and_caret() {
    let o = corsgate(&["check", "tests/invalid-policies", "--no-spin"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for expected in [
        "tests/invalid-policies/broken.toml:6:1: error: unknown key `allow_origin` in `[cors]`\n  |\n6 | allow_origin = [\"https://app.example.com\"]\n  | ^^^^^^^^^^^^\n  = help: did you mean `allow_origins`?",
        "tests/invalid-policies/broken.toml:7:25: error: `TRACE` is a forbidden method",
        "7 | allow_methods = [\"GET\", \"TRACE\"]\n  |                         ^^^^^^^",
        "tests/invalid-policies/wildcard.toml:6:23: error: `https://App.example.com/` is not written the way browsers send origins",
        "= help: write `https://app.example.com`",
        "invalid: 9 error(s)",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn check_json_for_tools() {
    let o = corsgate(&[
        "check",
        "tests/invalid-policies",
        "--no-spin",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["valid"], false);
    let kinds: Vec<&str> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"UnknownKey")
            && kinds.contains(&"NonCanonicalOrigin")
            && kinds.contains(&"ForbiddenMethod"),
        "{kinds:?}"
    );
    assert_eq!(v["errors"][0]["file"], "tests/invalid-policies/broken.toml");
    assert_eq!(v["errors"][0]["line"], 2);
}

#[test]
fn check_usage_and_io_errors_exit_2() {
    assert_eq!(
        corsgate(&["check", "no/such/folder"]).status.code(),
        Some(2)
    );
    let empty = folder("empty", &[("_ignored.toml", "x")]);
    assert_eq!(
        corsgate(&["check", empty.to_str().expect("utf8")])
            .status
            .code(),
        Some(2),
        "no policy files"
    );
    assert_eq!(
        corsgate(&["check", "--format", "yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn check_warns_about_risky_settings() {
    let dir = folder(
        "risky",
        &[(
            "open.toml",
            "[route]\npath = \"/open/...\"\nupstream = \"http://api.internal.example:8080\"\n[cors]\nallow_origins = [\"*\"]\nallow_headers = [\"Authorization\"]\nallow_methods = [\"patch\"]\nmax_age = 86400\n",
        )],
    );
    let o = corsgate(&[
        "check",
        dir.to_str().expect("utf8"),
        "--no-spin",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "warnings do not fail: {}",
        stdout(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let kinds: Vec<&str> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "PlainHttpUpstream",
            "StarOriginsWithAuthorization",
            "LowercaseMethod",
            "MaxAgeAboveEngineCap"
        ]
    );
}

#[test]
fn check_requires_spin_to_allow_every_upstream() {
    let dir = folder("spin", &[("api.toml", "[route]\npath = \"/api/...\"\nupstream = \"https://api.example.com:8443/v1\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n")]);
    let manifest = folder("spin-manifest", &[]).join("spin.toml");
    std::fs::write(&manifest, "spin_manifest_version = 2\n[application]\nname = \"x\"\n[component.gw]\nsource = \"x.wasm\"\nallowed_outbound_hosts = [\"https://api.example.com\"]\n").expect("write");
    let o = corsgate(&[
        "check",
        dir.to_str().expect("utf8"),
        "--spin",
        manifest.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("api.toml:3:12: error: upstream `https://api.example.com:8443/v1` is not covered by `allowed_outbound_hosts`"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("add \"https://api.example.com:8443\" to allowed_outbound_hosts"),
        "{}",
        stdout(&o)
    );
}

const VALID_API: &str = "[route]\npath = \"/api/...\"\nupstream = \"https://api.example.com:8443/v1\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n";

/// `check DIR` reads the `spin.toml` beside the folder (in its parent), never the one of the
/// folder it runs in (the repository's own, which covers other upstreams).
#[test]
fn check_finds_the_manifest_beside_the_policy_folder() {
    let project = folder("project", &[]);
    let policies = project.join("policies");
    std::fs::create_dir_all(&policies).expect("policies dir");
    std::fs::write(policies.join("api.toml"), VALID_API).expect("write");
    let policies = policies.to_str().expect("utf8");

    let o = corsgate(&["check", policies]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "valid folder, no manifest: {}",
        stdout(&o)
    );
    let out = stdout(&o);
    let notes: Vec<&str> = out.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(
        notes,
        [format!("note: no spin.toml beside {policies}: the allowed_outbound_hosts check was skipped (name one with --spin FILE)")],
        "one line says the check was skipped"
    );

    std::fs::write(project.join("spin.toml"), "spin_manifest_version = 2\n[application]\nname = \"x\"\n[component.gw]\nsource = \"x.wasm\"\nallowed_outbound_hosts = [\"https://api.example.com\"]\n").expect("write");
    let o = corsgate(&["check", policies]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the manifest beside it is read: {}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("is not covered by `allowed_outbound_hosts`"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("note: "), "{}", stdout(&o));
    let o = corsgate(&["check", policies, "--no-spin"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// Upstreams that are components of the same Spin app (local service chaining) are valid,
/// covered by the manifest beside the folder, and not plain-http risks: they never leave the host.
#[test]
fn check_covers_spin_service_chaining_upstreams() {
    let o = corsgate(&["check", "examples/spin-app/policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ok: 2 route(s) valid, 0 warning(s)"),
        "{}",
        stdout(&o)
    );
    let uncovered = folder(
        "chaining",
        &[("orders.toml", "[route]\npath = \"/orders/...\"\nupstream = \"http://orders-api.spin.internal\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n")],
    );
    let o = corsgate(&[
        "check",
        uncovered.to_str().expect("utf8"),
        "--spin",
        "examples/spin-app/spin.toml",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("add \"http://orders-api.spin.internal\" to allowed_outbound_hosts"),
        "{}",
        stdout(&o)
    );
}

/// Console lines Chromium 156 printed for the same requests against the shipped policies
/// (captured with crates/cli/tests/fixtures/capture-har.mjs and a console listener).
const CHROMIUM_PREFLIGHT_NO_ACAO: &str = "Access to fetch at 'http://127.0.0.1:3000/users/42' from origin 'http://127.0.0.1:8099' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.";
const CHROMIUM_NO_ACAO: &str = "Access to fetch at 'http://127.0.0.1:3000/health' from origin 'http://127.0.0.1:8099' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.";
const CHROMIUM_STAR_WITH_CREDENTIALS: &str = "Access to fetch at 'http://127.0.0.1:3000/catalog/items' from origin 'http://127.0.0.1:8099' has been blocked by CORS policy: The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.";

#[test]
fn explain_cases() {
    struct Case {
        name: &'static str,
        args: &'static [&'static str],
        /// explain's exit code: 0 when the browser allows the request, 1 when it blocks it\n        /// (3 when the upstream decides: `explain_leaves_a_report_only_route_to_its_upstream`).
        code: i32,
        /// Text the output must contain.
        expected: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "rejected origin on a preflight",
            args: &["explain", "--origin", "http://127.0.0.1:8099", "--method", "PUT", "-H", "Authorization", "/users/42"],
            code: 1,
            expected: &[CHROMIUM_PREFLIGHT_NO_ACAO, "✗ origin not allowed (`allow_origins` at policies/users.toml:10)", "HTTP 403", "fix: add \"http://127.0.0.1:8099\" to `allow_origins`"],
        },
        Case {
            name: "rejected origin on a simple request",
            args: &["explain", "--origin", "http://127.0.0.1:8099", "/health"],
            code: 1,
            expected: &[CHROMIUM_NO_ACAO],
        },
        Case {
            name: "star with credentials",
            args: &["explain", "--origin", "http://127.0.0.1:8099", "--credentials", "include", "/catalog/items"],
            code: 1,
            expected: &[CHROMIUM_STAR_WITH_CREDENTIALS, "fix: list the page's origin instead of \"*\""],
        },
        Case {
            name: "method not allowed",
            args: &["explain", "--origin", "https://app.example.com", "--method", "PATCH", "/users/42"],
            code: 1,
            expected: &["✗ method PATCH not allowed (`allow_methods` at policies/users.toml:15)", "fix: add \"PATCH\" to `allow_methods`"],
        },
        Case {
            name: "header not allowed",
            args: &["explain", "--origin", "https://app.example.com", "--method", "PUT", "-H", "X-Trace: 1", "/users/42"],
            code: 1,
            expected: &["✗ request header `x-trace` not allowed (`allow_headers` at policies/users.toml:16)", "fix: add \"x-trace\" to `allow_headers`"],
        },
        Case {
            name: "credentials not allowed",
            args: &["explain", "--origin", "https://status.example.com", "--credentials", "include", "/health"],
            code: 1,
            expected: &["'Access-Control-Allow-Credentials' header in the response is '' which must be 'true'", "fix: set `allow_credentials = true` in [cors] of policies/health.toml"],
        },
        Case {
            name: "allowed preflighted request",
            args: &["explain", "--origin", "https://app.example.com", "--method", "PUT", "-H", "Content-Type: application/json", "--credentials", "include", "/users/42"],
            code: 0,
            expected: &["HTTP 204", "access-control-allow-methods: GET, POST, PUT, DELETE", "browser: ALLOWED."],
        },
        Case {
            name: "safelisted content type needs no preflight",
            args: &["explain", "--origin", "http://localhost:5173", "--method", "POST", "-H", "Content-Type: text/plain", "/users"],
            code: 0,
            expected: &["actual request: POST /users", "browser: ALLOWED."],
        },
        Case {
            name: "no route",
            args: &["explain", "--origin", "https://app.example.com", "/nope"],
            code: 1,
            expected: &["no route matches this path: the gateway answers 404"],
        },
        Case {
            name: "Firefox's lines for a refused preflight",
            args: &["explain", "--browser", "firefox", "--origin", "http://127.0.0.1:8099", "--method", "PUT", "/users/42"],
            code: 1,
            expected: &["the console shows:\n  Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http://127.0.0.1:3000/users/42. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.\n  Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http://127.0.0.1:3000/users/42. (Reason: CORS request did not succeed). Status code: (null)."],
        },
        Case {
            name: "WebKit's lines for an origin not allowed",
            args: &["explain", "--browser", "webkit", "--origin", "http://127.0.0.1:8099", "/health"],
            code: 1,
            expected: &["the console shows:\n  Origin http://127.0.0.1:8099 is not allowed by Access-Control-Allow-Origin. Status code: <the upstream's status>\n  Fetch API cannot load http://127.0.0.1:3000/health due to access control checks."],
        },
        Case {
            name: "a HAR entry captured from headless Chromium",
            args: &["explain", "--har", "crates/cli/tests/fixtures/chromium-blocked-put.har"],
            code: 1,
            expected: &["request: PUT /users/42 from http://127.0.0.1:8099", CHROMIUM_PREFLIGHT_NO_ACAO],
        },
    ];
    for Case {
        name,
        args,
        code,
        expected,
    } in cases
    {
        let o = corsgate(args);
        let out = stdout(&o);
        assert_eq!(
            o.status.code(),
            Some(code),
            "case {name}:\n{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for e in expected {
            assert!(out.contains(e), "case {name}: missing {e:?} in:\n{out}");
        }
    }
}

/// On a report-only route the gateway sets no CORS header of its own: explain says so, says what
/// the policy would decide once enforced, and leaves the verdict to the upstream (exit code 3).
#[test]
fn explain_leaves_a_report_only_route_to_its_upstream() {
    let dir = folder(
        "report-only",
        &[(
            "rollout.toml",
            "[route]\npath = \"/rollout/...\"\nupstream = \"http://127.0.0.1:9\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\"]\nreport_only = true\n",
        )],
    );
    let dir = dir.to_string_lossy();
    let args = [
        "explain",
        "--origin",
        "https://evil.example",
        "--method",
        "PUT",
    ];
    let o = corsgate(&[&args[..], &["/rollout/x", &dir]].concat());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    for expected in [
        "(the gateway sets no CORS header: report_only = true)",
        "once enforced, this policy would refuse it: origin not allowed",
        "browser: DEPENDS ON THE UPSTREAM.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let o = corsgate(&[&args[..], &["--format", "json", "/rollout/x", &dir]].concat());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("explain's JSON");
    assert_eq!(json["browser"], "depends_on_upstream", "{json:#}");
    assert_eq!(json["gateway"][0]["request"], "preflight", "{json:#}");
    assert_eq!(
        json["gateway"][0]["status"],
        serde_json::Value::Null,
        "{json:#}"
    );
    assert_eq!(json["gateway"][0]["cors_headers"], "upstream", "{json:#}");
}

#[test]
fn routes_lists_in_matching_order() {
    let o = corsgate(&["routes"]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "PATH ROUTE",
            "/health health",
            "/catalog/... catalog",
            "/users/... users"
        ]
    );
}

#[test]
fn help_has_examples() {
    let o = corsgate(&["explain", "--help"]);
    assert!(
        stdout(&o).contains("Examples:") && stdout(&o).contains("--har"),
        "{}",
        stdout(&o)
    );
}

const DIFF_BASE: &str = "[route]\npath = \"/users/...\"\nupstream = \"https://users.example.com\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\", \"DELETE\"]\nallow_credentials = true\n";

/// Two folders: a widening change, a narrowing one, exit codes with and without
/// `--fail-on widen`, JSON for tools, and an invalid folder.
#[test]
fn diff_reports_widenings_first_with_exit_codes() {
    let old = folder("diff-old", &[("users.toml", DIFF_BASE)]);
    let widened = folder(
        "diff-widened",
        &[(
            "users.toml",
            &DIFF_BASE.replace(
                "[\"https://app.example.com\"]",
                "[\"https://*.example.com\"]",
            ),
        )],
    );
    let narrowed = folder(
        "diff-narrowed",
        &[(
            "users.toml",
            &DIFF_BASE.replace("[\"PUT\", \"DELETE\"]", "[\"PUT\"]"),
        )],
    );
    let path = |p: &PathBuf| p.to_str().expect("utf8").to_string();

    let o = corsgate(&["diff", &path(&old), &path(&widened)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("route users (changed)"), "{out}");
    assert!(
        out.contains(&format!("  widens  {}/users.toml:5  allow_origins: `https://*.example.com` now covers more than `https://app.example.com` did, with credentials", path(&widened))),
        "{out}"
    );

    let o = corsgate(&["diff", &path(&old), &path(&narrowed)]);
    assert_eq!(o.status.code(), Some(1), "access changed: {}", stdout(&o));
    assert!(
        stdout(&o).contains("narrows") && stdout(&o).contains("method `DELETE` no longer allowed")
    );
    let o = corsgate(&["diff", &path(&old), &path(&narrowed), "--fail-on", "widen"]);
    assert_eq!(o.status.code(), Some(0), "nothing widened: {}", stdout(&o));
    let o = corsgate(&["diff", &path(&old), &path(&widened), "--fail-on", "widen"]);
    assert_eq!(o.status.code(), Some(1));

    let o = corsgate(&["diff", &path(&old), &path(&old)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no route changes"));

    let o = corsgate(&["diff", &path(&old), &path(&widened), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["widens"], true);
    assert_eq!(v["routes"][0]["changes"][0]["direction"], "widens");
    assert_eq!(v["routes"][0]["changes"][0]["key"], "allow_origins");
    assert_eq!(v["routes"][0]["changes"][0]["line"], 5);

    let broken = folder(
        "diff-broken",
        &[("users.toml", "[route]\npath = \"users\"\n")],
    );
    let o = corsgate(&["diff", &path(&old), &path(&broken)]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an invalid folder is a usage error"
    );
    assert!(
        stdout(&o).contains("error:"),
        "its diagnostics are printed: {}",
        stdout(&o)
    );
}

/// `--git REV [DIR]`: the folder against itself at a revision of its repository.
#[test]
fn diff_against_a_git_revision() {
    let repo = folder("diff-git", &[]);
    let policies = repo.join("policies");
    std::fs::create_dir_all(&policies).expect("policies");
    std::fs::write(policies.join("users.toml"), DIFF_BASE).expect("write");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&repo)
            .output()
            .expect("git");
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "policies"]);
    std::fs::write(
        policies.join("users.toml"),
        DIFF_BASE.replace(
            "allow_credentials = true",
            "allow_credentials = true\nmax_age = 7200",
        ),
    )
    .expect("write");
    let dir = policies.to_str().expect("utf8");
    let o = corsgate(&["diff", "--git", "HEAD", dir]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .contains("max_age: preflight answers cached no header (browser default) → 7200 s"),
        "{}",
        stdout(&o)
    );
    let o = corsgate(&["diff", "--git", "no-such-revision", dir]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_names_report_only_routes_and_legacy_keys() {
    let dir = folder(
        "rollout",
        &[(
            "users.toml",
            &DIFF_BASE.replace(
                "allow_credentials = true",
                "report_only = true\nallow_private_network = true",
            ),
        )],
    );
    let o = corsgate(&["check", dir.to_str().expect("utf8"), "--no-spin"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("note: route `users` is report-only"), "{out}");
    assert!(out.contains("Chrome 142 replaced"), "{out}");
}

/// `corsgate schema` prints the schema committed for editors.
#[test]
fn schema_command_prints_the_committed_schema() {
    let o = corsgate(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(repo().join("deploy/schemas/corsgate-policy.schema.json"))
            .expect("committed schema");
    assert_eq!(stdout(&o), committed);
}

/// `corsgate audit` on what can go wrong around a log: standard input, a gzipped log cut short,
/// an invalid folder, a suggestion into a folder that holds files, and the policy versions a
/// log names. The lines are written as the gateway writes them (`policy=` the shipped users
/// route's id is taken from the audit's own report).
#[test]
fn audit_inputs_and_refusals() {
    let line = |origin: &str, decision: &str| {
        format!("corsgate route=users kind=preflight method=OPTIONS path=/users/1 origin={origin} decision={decision} status=204 upstream_status=- duration_ms=0.100 policy=000000000000 request_method=PUT request_headers=content-type time=2026-12-07T06:00:00.000Z\n")
    };
    let log = [
        line("https://app.example.com", "allowed"),
        "host output\n".to_string(),
        line("http://app.example.com", "rejected"),
        // A line decided on a live route with the list of generation 41.
        line("https://app.example.com", "allowed").replace(" time=", " live=41 time="),
    ]
    .concat();
    let dir = folder("audit", &[]);
    let gz = dir.join("cut.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, log.repeat(200).as_bytes()).expect("gzip");
    let compressed = encoder.finish().expect("gzip");
    std::fs::write(&gz, &compressed[..compressed.len() / 2]).expect("write the cut gzip");
    let occupied = folder("audit-occupied", &[("keep.txt", "mine")]);

    struct Case {
        name: &'static str,
        args: Vec<String>,
        stdin: String,
        status: i32,
        /// Each in standard output or, for errors, standard error.
        says: &'static [&'static str],
    }
    let gz_arg = gz.display().to_string();
    let cases = [
        Case {
            name: "standard input, and a version the folder does not have",
            args: vec!["audit".into(), "--format".into(), "json".into()],
            stdin: log.clone(),
            status: 0,
            says: &[
                "\"gateway_lines\":3",
                "\"other_output\":1",
                "\"policy\":\"000000000000\"",
                "\"policy\":\"000000000000 live=41\",\"this_folder\":false",
                "\"this_folder\":false",
                "\"unused\":null",
            ],
        },
        Case {
            name: "a gzip cut short: the lines before count, and it says so",
            args: vec!["audit".into(), gz_arg.clone()],
            stdin: String::new(),
            status: 0,
            says: &[
                "ended early",
                "corsgate audit:",
                "near miss of https://app.example.com",
            ],
        },
        Case {
            name: "an invalid folder",
            args: vec![
                "audit".into(),
                gz_arg.clone(),
                "--policies".into(),
                "tests/invalid-policies".into(),
            ],
            stdin: String::new(),
            status: 2,
            says: &["broken.toml:6:1: error"],
        },
        Case {
            name: "a suggestion into a folder with files",
            args: vec![
                "audit".into(),
                gz_arg.clone(),
                "--suggest".into(),
                occupied.display().to_string(),
            ],
            stdin: String::new(),
            status: 2,
            says: &["is not empty"],
        },
        Case {
            name: "a negative window",
            args: vec!["audit".into(), gz_arg, "--min-days=-1".into()],
            stdin: String::new(),
            status: 2,
            says: &["not a number of days"],
        },
    ];
    for case in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsgate"))
            .args(&case.args)
            .current_dir(repo())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run corsgate");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut stdin, case.stdin.as_bytes()).expect("write stdin");
        drop(stdin);
        let o = child.wait_with_output().expect("corsgate audit");
        let both = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(case.status), "{}: {both}", case.name);
        for said in case.says {
            assert!(
                both.contains(said),
                "{}: lacks {said:?}:\n{both}",
                case.name
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(occupied.join("keep.txt"))
            .ok()
            .as_deref(),
        Some("mine"),
        "nothing overwritten"
    );
}

/// `corsgate live` through both channels, as an operator uses it: publish an added origin,
/// show it against the baseline in `diff`'s words, refuse a list outside the ceiling without
/// writing anything, remove, roll back, and print for platform tools. Redis is Debian's
/// `redis-server` on an ephemeral loopback port.
#[test]
fn live_publish_show_and_rollback_on_a_file_and_on_redis() {
    let users = format!(
        "{}\n[live]\nceiling = [\"https://app.example.com\", \"https://*.preview.example.com\", \"http://localhost:*\", \"https://*.partner.example\"]\nwhen_unreadable = \"deny\"\n",
        std::fs::read_to_string(repo().join("policies/users.toml")).unwrap()
    );
    let dir = folder("live", &[("users.toml", &users)]);
    let policies = dir.display().to_string();
    let redis = corsgate_testkit::redis::Redis::start(&dir.join("redis"));
    let file = dir.join("live/origins.json").display().to_string();
    std::fs::create_dir_all(dir.join("live")).unwrap();
    for channel in [["--file", file.as_str()], ["--redis", redis.url().as_str()]] {
        let live = |args: &[&str]| {
            let mut all = vec![
                "live",
                args[0],
                "--policies",
                &policies,
                channel[0],
                channel[1],
            ];
            all.extend_from_slice(&args[1..]);
            corsgate(&all)
        };
        let out = live(&["show"]);
        assert!(
            stdout(&out).contains("nothing is published"),
            "{channel:?}: {}",
            stdout(&out)
        );

        let out = live(&["publish", "--add", "users=https://a.partner.example"]);
        assert_eq!(out.status.code(), Some(0), "{channel:?}: {out:?}");
        assert!(
            stdout(&out).contains("published generation 1"),
            "{}",
            stdout(&out)
        );
        assert!(stdout(&out).contains("users: + https://a.partner.example"));

        let out = live(&["show"]);
        let shown = stdout(&out);
        assert!(shown.contains("generation 1, content sha256"), "{shown}");
        assert!(
            shown.contains("`https://a.partner.example` now allowed, with credentials"),
            "{shown}"
        );

        let out = live(&["publish", "--add", "users=https://evil.example"]);
        assert_eq!(out.status.code(), Some(1), "outside the ceiling: {out:?}");
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(error.contains("refused, nothing was written: `https://evil.example` (route `users`) lies outside the route's ceiling"), "{error}");
        assert!(
            stdout(&live(&["show"])).contains("generation 1,"),
            "nothing written"
        );

        let out = live(&["publish", "--add", "users=https://A.partner.example/"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("write `https://a.partner.example`"));

        let out = live(&["publish", "--remove", "users=https://a.partner.example"]);
        assert!(stdout(&out).contains("published generation 2"), "{out:?}");
        assert!(stdout(&out).contains("users: - https://a.partner.example"));

        let out = live(&["rollback"]);
        assert!(
            stdout(&out)
                .contains("rolled back to the lists of generation 1, published as generation 3"),
            "{out:?}"
        );
        assert!(stdout(&out).contains("users: + https://a.partner.example"));
        assert!(stdout(&live(&["show"])).contains("https://a.partner.example"));
    }
    // A value that cannot be read is neither built on nor its generation guessed.
    let file_live = |args: &[&str]| {
        let mut all = vec!["live", args[0], "--policies", &policies, "--file", &file];
        all.extend_from_slice(&args[1..]);
        corsgate(&all)
    };
    std::fs::write(&file, "garbage").unwrap();
    let out = file_live(&["publish", "--add", "users=https://b.partner.example"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the current value cannot be read"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "garbage",
        "nothing written"
    );
    let out = file_live(&[
        "publish",
        "--generation",
        "100",
        "users=https://b.partner.example",
    ]);
    assert!(stdout(&out).contains("published generation 100"), "{out:?}");
    std::fs::remove_file(&file).unwrap();
    let out = file_live(&["rollback"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no current list"));
    let out = corsgate(&[
        "live",
        "publish",
        "--policies",
        &policies,
        "--print",
        "--generation",
        "9",
        "users=https://a.partner.example",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let printed = stdout(&out);
    assert!(printed.starts_with("{\"ceilings_sha256\":\""), "{printed}");
    assert!(printed.contains("\"generation\":9,\"routes\":{\"users\":[\"https://a.partner.example\"]},\"version\":1}"), "{printed}");
    let out = corsgate(&["live", "show", "--policies", "policies", "--file", &file]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the shipped policies have no [live] route: {out:?}"
    );
}
