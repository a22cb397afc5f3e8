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
    const APP_ONLY: &str = "[cors]\nallow_origins = [\"https://app.example.com\"]\n";
    struct Case {
        name: &'static str,
        /// The old policy's `[cors]` table and anything after `[route]`.
        old: &'static str,
        /// The new policy's, likewise.
        new: &'static str,
        /// Every change, in order, as (direction, key, a fragment of its text).
        expected: &'static [(Direction, Key, &'static str)],
    }
    let cases: &[Case] = &[
        Case {
            name: "nothing changes",
            old: APP_ONLY,
            new: APP_ONLY,
            expected: &[],
        },
        Case {
            name: "a wildcard that now covers more",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://*.example.com\"]\n",
            expected: &[(Widens, Key::AllowOrigins, "`https://*.example.com` now covers more than `https://app.example.com` did")],
        },
        Case {
            name: "\"*\" introduced",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"*\"]\n",
            expected: &[(Widens, Key::AllowOrigins, "`\"*\"` introduced: every origin is now allowed")],
        },
        Case {
            name: "a narrower wildcard",
            old: "[cors]\nallow_origins = [\"https://*.example.com\"]\n",
            new: "[cors]\nallow_origins = [\"https://*.eu.example.com\"]\n",
            expected: &[(Narrows, Key::AllowOrigins, "`https://*.example.com` no longer allowed")],
        },
        Case {
            name: "any port covers one port",
            old: "[cors]\nallow_origins = [\"http://localhost:3000\"]\n",
            new: "[cors]\nallow_origins = [\"http://localhost:*\"]\n",
            expected: &[(Widens, Key::AllowOrigins, "`http://localhost:*` now covers more than `http://localhost:3000` did")],
        },
        Case {
            name: "an origin now allowed with credentials",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_credentials = true\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\", \"https://admin.example.com\"]\nallow_credentials = true\n",
            expected: &[(Widens, Key::AllowOrigins, "`https://admin.example.com` now allowed, with credentials")],
        },
        Case {
            name: "credentials turned on",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_credentials = true\n",
            expected: &[(Widens, Key::AllowCredentials, "credentials (cookies, HTTP authentication) now allowed")],
        },
        Case {
            name: "methods: one gained, one lost, safelisted ones do not count",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"PUT\", \"DELETE\"]\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_methods = [\"GET\", \"PUT\", \"PATCH\"]\n",
            expected: &[(Widens, Key::AllowMethods, "method `PATCH` now allowed"), (Narrows, Key::AllowMethods, "method `DELETE` no longer allowed")],
        },
        Case {
            name: "request headers: \"*\" introduced, Authorization still needs listing",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_headers = [\"X-A\"]\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_headers = [\"*\", \"Authorization\"]\n",
            expected: &[(Widens, Key::AllowHeaders, "any request header but Authorization"), (Widens, Key::AllowHeaders, "request header `authorization` now allowed")],
        },
        Case {
            name: "exposed headers, case-insensitively",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nexpose_headers = [\"X-Request-Id\"]\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nexpose_headers = [\"x-request-id\", \"X-Total\"]\n",
            expected: &[(Widens, Key::ExposeHeaders, "exposed header `x-total` now allowed")],
        },
        Case {
            name: "a longer preflight cache",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 600\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 7200\n",
            expected: &[(Widens, Key::MaxAge, "600 s → 7200 s")],
        },
        Case {
            name: "the cache header removed",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\nmax_age = 600\n",
            new: APP_ONLY,
            expected: &[(Narrows, Key::MaxAge, "600 s → no header")],
        },
        Case {
            name: "preflights forwarded",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\npreflight = \"forward\"\n",
            expected: &[(Changes, Key::Preflight, "preflights now go to the upstream")],
        },
        Case {
            name: "report-only rollout begins",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nreport_only = true\n",
            expected: &[(Widens, Key::ReportOnly, "the gateway stops enforcing this policy")],
        },
        Case {
            name: "private network access",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\nallow_private_network = true\n",
            expected: &[(Widens, Key::AllowPrivateNetwork, "private network access now allowed")],
        },
        Case {
            name: "[live] added: origins change at run time up to the ceiling",
            old: APP_ONLY,
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\", \"https://*.partner.example\"]\nwhen_unreadable = \"deny\"\n",
            expected: &[(Widens, Key::Ceiling, "origins now change at run time (`[live]`), up to the ceiling `https://app.example.com`, `https://*.partner.example`")],
        },
        Case {
            name: "[live] removed",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\"]\nwhen_unreadable = \"deny\"\n",
            new: APP_ONLY,
            expected: &[(Narrows, Key::Ceiling, "origins no longer change at run time")],
        },
        Case {
            name: "a ceiling that covers more, an outage that now falls back to the baseline",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\", \"https://a.partner.example\"]\nwhen_unreadable = \"deny\"\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\", \"https://*.partner.example\"]\nwhen_unreadable = \"baseline\"\n",
            expected: &[
                (Widens, Key::Ceiling, "ceiling: `https://*.partner.example` now covers more than `https://a.partner.example` did"),
                (Widens, Key::WhenUnreadable, "while no live list can be read, `allow_origins` now apply"),
            ],
        },
        Case {
            name: "a narrower ceiling, an outage that now denies",
            old: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\", \"https://*.partner.example\"]\nwhen_unreadable = \"baseline\"\n",
            new: "[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\"]\nwhen_unreadable = \"deny\"\n",
            expected: &[
                (Narrows, Key::WhenUnreadable, "while no live list can be read, no origin is allowed"),
                (Narrows, Key::Ceiling, "ceiling: `https://*.partner.example` no longer allowed"),
            ],
        },
    ];
    for case in cases {
        let name = case.name;
        let got = changes(case.old, case.new);
        assert_eq!(got.len(), case.expected.len(), "case {name}: {got:?}");
        for ((direction, key, what), (want_direction, want_key, fragment)) in
            got.iter().zip(case.expected)
        {
            assert_eq!(
                (direction, key),
                (want_direction, want_key),
                "case {name}: {what}"
            );
            assert!(
                what.contains(fragment),
                "case {name}: {what:?} lacks {fragment:?}"
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
    #[derive(Debug, PartialEq)]
    struct Summary<'a> {
        route: &'a str,
        status: RouteStatus,
        /// Each change as (direction, key), in order.
        changes: Vec<(Direction, Key)>,
    }
    let summary: Vec<Summary> = routes
        .iter()
        .map(|r| Summary {
            route: r.route.as_str(),
            status: r.status,
            changes: r.changes.iter().map(|c| (c.direction, c.key)).collect(),
        })
        .collect();
    assert_eq!(
        summary,
        [
            Summary {
                route: "catalog",
                status: RouteStatus::Added,
                changes: vec![(Direction::Widens, Key::Path)]
            },
            Summary {
                route: "health",
                status: RouteStatus::Changed,
                changes: vec![(Direction::Changes, Key::TimeoutMs)]
            },
            Summary {
                route: "orders",
                status: RouteStatus::Removed,
                changes: vec![(Direction::Narrows, Key::Path)]
            },
            Summary {
                route: "users",
                status: RouteStatus::Changed,
                changes: vec![
                    (Direction::Widens, Key::Path),
                    (Direction::Widens, Key::Upstream),
                    (Direction::Narrows, Key::Path)
                ]
            },
        ]
    );
    // Each change points at the line that shows it: the new file for what is gained.
    let users = routes.iter().find(|r| r.route == "users").expect("users");
    assert_eq!(users.changes[0].at.file, "new/users.toml");
    assert_eq!(users.changes[0].at.line, 2);
    assert_eq!(users.changes[2].at.file, "old/users.toml");
}
