//! `corsgate diff`'s engine over the interesting pairs of policies: what each change gains,
//! loses or only changes, and where.

use corsgate_core::config::diff::{diff, Direction, RouteStatus};
use corsgate_core::config::schema::Key;
use corsgate_core::config::{load_policies, PolicySource};

const ROUTE: &str = "[route]\npath = \"/api/...\"\nupstream = \"https://api.example.com\"\n";

fn sources(side: &str, files: &[(&str, &str)]) -> Vec<PolicySource> {
    files
        .iter()
        .map(|(name, text)| PolicySource {
            name: name.to_string(),
            file: format!("{side}/{name}.toml"),
            text: text.to_string(),
        })
        .collect()
}

/// The changes from `old` to `new` (one route named `api` each) as (direction, key, text).
fn changes(old: &str, new: &str) -> Vec<(Direction, Key, String)> {
    let (old, new) = (
        sources("old", &[("api", &format!("{ROUTE}{old}"))]),
        sources("new", &[("api", &format!("{ROUTE}{new}"))]),
    );
    let (old, new) = (
        load_policies(&old).expect("valid old"),
        load_policies(&new).expect("valid new"),
    );
    diff(&old, &new)
        .into_iter()
        .flat_map(|r| r.changes)
        .map(|c| (c.direction, c.key, c.what))
        .collect()
}

#[test]
fn access_gained_lost_and_changed() {
    use Direction::{Changes, Narrows, Widens};
    const APP: &str = "[cors]\nallow_origins = [\"https://app.example.com\"]\n";
    /// (case, old [cors] and more, new, expected (direction, key, text fragment))
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [(Direction, Key, &'a str)]);
    let cases: &[Case] = &[
        ("nothing changes", APP, APP, &[]),
        (
            "a wildcard that now covers more",
            APP,
            "[cors]\nallow_origins = [\"https://*.example.com\"]\n",
            &[(Widens, Key::AllowOrigins, "`https://*.example.com` now covers more than `https://app.example.com` did")],
        ),
        (
            "\"*\" introduced",
            APP,
            "[cors]\nallow_origins = [\"*\"]\n",
            &[(Widens, Key::AllowOrigins, "`\"*\"` introduced: every origin is now allowed")],
        ),
        (
            "a narrower wildcard",
            "[cors]\nallow_origins = [\"https://*.example.com\"]\n",
            "[cors]\nallow_origins = [\"https://*.eu.example.com\"]\n",
            &[(Narrows, Key::AllowOrigins, "`https://*.example.com` no longer allowed")],
        ),
        (
            "any port covers one port",
            "[cors]\nallow_origins = [\"http://localhost:3000\"]\n",
            "[cors]\nallow_origins = [\"http://localhost:*\"]\n",
            &[(Widens, Key::AllowOrigins, "`http://localhost:*` now covers more than `http://localhost:3000` did")],
        ),
        (
            "an origin now allowed with credentials",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_credentials = true\n",
            "[cors]\nallow_origins = [\"https://app.example.com\", \"https://admin.example.com\"]\nallow_credentials = true\n",
            &[(Widens, Key::AllowOrigins, "`https://admin.example.com` now allowed, with credentials")],
        ),
        (
            "credentials turned on",
            APP,
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_credentials = true\n",
            &[(Widens, Key::AllowCredentials, "credentials (cookies, HTTP authentication) now allowed")],
        ),
        (
            "methods: one gained, one lost, safelisted ones do not count",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\", \"DELETE\"]\n",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"GET\", \"PUT\", \"PATCH\"]\n",
            &[(Widens, Key::AllowMethods, "method `PATCH` now allowed"), (Narrows, Key::AllowMethods, "method `DELETE` no longer allowed")],
        ),
        (
            "request headers: \"*\" introduced, Authorization still needs listing",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_headers = [\"X-A\"]\n",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_headers = [\"*\", \"Authorization\"]\n",
            &[(Widens, Key::AllowHeaders, "any request header but Authorization"), (Widens, Key::AllowHeaders, "request header `authorization` now allowed")],
        ),
        (
            "exposed headers, case-insensitively",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nexpose_headers = [\"X-Request-Id\"]\n",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nexpose_headers = [\"x-request-id\", \"X-Total\"]\n",
            &[(Widens, Key::ExposeHeaders, "exposed header `x-total` now allowed")],
        ),
        (
            "a longer preflight cache",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 600\n",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 7200\n",
            &[(Widens, Key::MaxAge, "600 s → 7200 s")],
        ),
        (
            "the cache header removed",
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 600\n",
            APP,
            &[(Narrows, Key::MaxAge, "600 s → no header")],
        ),
        (
            "preflights forwarded",
            APP,
            "[cors]\nallow_origins = [\"https://app.example.com\"]\npreflight = \"forward\"\n",
            &[(Changes, Key::Preflight, "preflights now go to the upstream")],
        ),
        (
            "report-only rollout begins",
            APP,
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nreport_only = true\n",
            &[(Widens, Key::ReportOnly, "the gateway stops enforcing this policy")],
        ),
        (
            "private network access",
            APP,
            "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_private_network = true\n",
            &[(Widens, Key::AllowPrivateNetwork, "private network access now allowed")],
        ),
    ];
    for (case, old, new, expected) in cases {
        let got = changes(old, new);
        assert_eq!(got.len(), expected.len(), "case {case}: {got:?}");
        for ((direction, key, what), (want_direction, want_key, fragment)) in
            got.iter().zip(*expected)
        {
            assert_eq!(
                (direction, key),
                (want_direction, want_key),
                "case {case}: {what}"
            );
            assert!(
                what.contains(fragment),
                "case {case}: {what:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn routes_added_removed_moved_and_rerouted() {
    let cors = "[cors]\nallow_origins = [\"https://app.example.com\"]\n";
    let users =
        format!("[route]\npath = \"/users/...\"\nupstream = \"https://users.example.com\"\n{cors}");
    let moved = format!(
        "[route]\npath = \"/v2/users/...\"\nupstream = \"https://users2.example.com\"\n{cors}"
    );
    let health = format!("[route]\npath = \"/health\"\nupstream = \"https://h.example.com\"\ntimeout_ms = 500\n{cors}");
    let health_slower = health.replace("500", "2000");
    let catalog =
        format!("[route]\npath = \"/catalog/...\"\nupstream = \"https://c.example.com\"\n{cors}");
    let old = sources(
        "old",
        &[
            ("users", &users),
            ("health", &health),
            ("orders", &catalog.replace("catalog", "orders")),
        ],
    );
    let new = sources(
        "new",
        &[
            ("users", &moved),
            ("health", &health_slower),
            ("catalog", &catalog),
        ],
    );
    let (old, new) = (
        load_policies(&old).expect("old"),
        load_policies(&new).expect("new"),
    );
    let routes = diff(&old, &new);
    /// (route, status, its changes)
    type Summary<'a> = (&'a str, RouteStatus, Vec<(Direction, Key)>);
    let summary: Vec<Summary> = routes
        .iter()
        .map(|r| {
            (
                r.route.as_str(),
                r.status,
                r.changes.iter().map(|c| (c.direction, c.key)).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "catalog",
                RouteStatus::Added,
                vec![(Direction::Widens, Key::Path)]
            ),
            (
                "health",
                RouteStatus::Changed,
                vec![(Direction::Changes, Key::TimeoutMs)]
            ),
            (
                "orders",
                RouteStatus::Removed,
                vec![(Direction::Narrows, Key::Path)]
            ),
            (
                "users",
                RouteStatus::Changed,
                vec![
                    (Direction::Widens, Key::Path),
                    (Direction::Widens, Key::Upstream),
                    (Direction::Narrows, Key::Path)
                ]
            ),
        ]
    );
    // Each change points at the line that shows it: the new file for what is gained.
    let users = routes.iter().find(|r| r.route == "users").expect("users");
    assert_eq!(users.changes[0].at.file, "new/users.toml");
    assert_eq!(users.changes[0].at.line, 2);
    assert_eq!(users.changes[2].at.file, "old/users.toml");
}
