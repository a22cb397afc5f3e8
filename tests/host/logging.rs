//! The access log: one line per request with the outcome's cause, and the setting that chooses which requests get one.

use corsgate_core::access_log::record::{parse_line, parse_time, Field};

use crate::support::*;

/// The component's access-log setting.
fn access_log(value: &str) -> [(&str, &str); 1] {
    [("CORSGATE_ACCESS_LOG", value)]
}

pub(crate) fn cases() -> Vec<NamedCase<Gateway>> {
    cases![
        upstream_faults_are_logged_with_their_cause,
        one_log_line_per_request,
        access_log_setting_chooses_which_requests_are_logged,
        lines_read_back_with_what_the_audit_needs,
    ]
}

fn upstream_faults_are_logged_with_their_cause(g: &Gateway) {
    let cases = [
        ("/dead/logged-refused", "decision=upstream_error reason=\"upstream unreachable: connection refused\" status=502"),
        ("/api/logged-malformed?fault=malformed", "decision=upstream_error reason=\"upstream unreachable: malformed response from upstream\" status=502"),
        ("/slow/logged-silent?fault=never", "decision=timeout reason=\"upstream did not answer within 500 ms\" status=504"),
        ("/api/logged-cut?fault=reset_mid_body", "decision=forwarded reason=\"upstream broke off the response body\" status=200"),
    ];
    for (path, expected) in cases {
        let _ = send_streaming(g.addr, &Request::new("GET", path).origin(APP));
        let marker = format!("path={} ", path.split('?').next().unwrap_or(path));
        let line = g.log_line_with(&marker);
        assert!(
            line.contains(expected),
            "{path}: log line lacks {expected:?}:\n{line}"
        );
    }
}

fn one_log_line_per_request(g: &Gateway) {
    answered(g, preflight("/api/x", "https://logged.example", "PUT"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = g.log();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains("origin=https://logged.example"))
        {
            for field in [
                "route=api",
                "kind=preflight",
                "origin=https://logged.example",
                "decision=rejected",
                "reason=\"origin not allowed\"",
                "status=403",
                "upstream_status=-",
                "duration_ms=",
            ] {
                assert!(line.contains(field), "log line lacks {field}: {line}");
            }
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no log line for the request in:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn access_log_setting_chooses_which_requests_are_logged(g: &Gateway) {
    // `problems`: the allowed preflight goes unlogged, the rejected one and the 404 are logged.
    let quiet = g.serve_again("access-log-problems", &access_log("problems"));
    answered(&quiet, preflight("/api/quiet-allowed", APP, "PUT"));
    answered(
        &quiet,
        preflight("/api/quiet-rejected", "https://evil.example", "PUT"),
    );
    answered(&quiet, Request::new("GET", "/nowhere/quiet-missing"));
    quiet.log_line_with("path=/api/quiet-rejected");
    quiet.log_line_with("path=/nowhere/quiet-missing");
    // Lines are written right after each answer; the later ones are in, so this one had time.
    assert!(
        !quiet.log().contains("quiet-allowed"),
        "an allowed preflight is not a problem:\n{}",
        quiet.log()
    );

    // An unknown value logs every request and says why, so a typo never silences the log.
    let typo = g.serve_again("access-log-typo", &access_log("verbose"));
    answered(&typo, preflight("/api/typo-allowed", APP, "PUT"));
    typo.log_line_with("path=/api/typo-allowed");
    assert!(
        typo.log().contains(
            "corsgate warning: CORSGATE_ACCESS_LOG=\"verbose\" is not one of all, problems, off; logging every request"
        ),
        "{}",
        typo.log()
    );

    // `off`: nothing, not even a rejection. The host's own start-up line is the only output.
    let off = g.serve_again("access-log-off", &access_log("off"));
    answered(
        &off,
        preflight("/api/off-rejected", "https://evil.example", "PUT"),
    );
    answered(&off, Request::new("GET", "/nowhere/off-missing"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !off.log().contains("corsgate "),
        "off logs nothing:\n{}",
        off.log()
    );
}

fn field(record: &[(Field, Option<Vec<u8>>)], field: Field) -> Option<String> {
    record
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, v)| v.as_deref())
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Every line names its route's policy by the id the CLI computes from the same folder (so a
/// prebuilt instance and a compiled-in build agree), a preflight its requested method and
/// headers, an actual CORS request whether it was granted and carried credentials; a hostile
/// origin reads back as sent in both formats and forges no field.
fn lines_read_back_with_what_the_audit_needs(g: &Gateway) {
    let table = corsgate_core::config::load_route_table(&g.policies).expect("the test policies");
    let api = table
        .routes()
        .iter()
        .find(|r| r.name() == "api")
        .expect("api route");
    let hostile_origin = "https://a.example\" route=admin decision=allowed x=\"";
    for (server, format) in [
        (None, "logfmt"),
        (
            Some(g.serve_again("log-format-json", &[("CORSGATE_LOG_FORMAT", "json")])),
            "json",
        ),
    ] {
        let server = server.as_ref().unwrap_or(g);
        let at = |name: &str| format!("/api/audit-{format}-{name}");
        answered(
            server,
            preflight(&at("preflight"), APP, "PUT")
                .header("Access-Control-Request-Headers", "x-custom, content-type"),
        );
        let _ = send_streaming(
            server.addr,
            &Request::new("GET", &at("actual"))
                .origin(APP)
                .header("Cookie", "s=1"),
        );
        let _ = send_streaming(
            server.addr,
            &Request::new("GET", &at("withheld")).origin("https://evil.example"),
        );
        answered(server, preflight(&at("hostile"), hostile_origin, "PUT"));
        // A preflight the gateway forwards (`preflight = "forward"`) says whether it granted it.
        let forwarded = |name: &str| format!("/fwd/audit-{format}-{name}");
        answered(server, preflight(&forwarded("granted"), APP, "PUT"));
        answered(server, preflight(&forwarded("withheld"), APP, "DELETE"));

        let line_of = |path: &str| {
            let line = server.log_line_with(path);
            let record = parse_line(line.as_bytes())
                .unwrap_or_else(|problem| panic!("{format}: {problem}: {line}"))
                .unwrap_or_else(|| panic!("{format}: not a gateway line: {line}"));
            Field::ALL
                .iter()
                .map(|f| (*f, record.get(*f).map(<[u8]>::to_vec)))
                .collect::<Vec<_>>()
        };
        let marked = |name: &str| line_of(&at(name));
        let preflight_line = marked("preflight");
        assert_eq!(
            field(&preflight_line, Field::Policy).as_deref(),
            Some(api.policy_id()),
            "{format}"
        );
        assert_eq!(
            field(&preflight_line, Field::RequestMethod).as_deref(),
            Some("PUT"),
            "{format}"
        );
        assert_eq!(
            field(&preflight_line, Field::RequestHeaders).as_deref(),
            Some("x-custom, content-type"),
            "{format}"
        );
        let written = field(&preflight_line, Field::Time)
            .and_then(|t| parse_time(t.as_bytes()))
            .expect("a time");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_millis() as u64;
        assert!(
            now.abs_diff(written) < 120_000,
            "{format}: time {written}, now {now}"
        );

        let actual = marked("actual");
        assert_eq!(
            field(&actual, Field::Cors).as_deref(),
            Some("granted"),
            "{format}"
        );
        assert_eq!(
            field(&actual, Field::Credentials).as_deref(),
            Some("yes"),
            "{format}"
        );
        let withheld = marked("withheld");
        assert_eq!(
            field(&withheld, Field::Cors).as_deref(),
            Some("withheld"),
            "{format}"
        );
        assert_eq!(
            field(&withheld, Field::Credentials).as_deref(),
            Some("no"),
            "{format}"
        );

        for (name, grant) in [("granted", "granted"), ("withheld", "withheld")] {
            let line = server.log_line_with(&forwarded(name));
            let record = parse_line(line.as_bytes())
                .unwrap_or_else(|problem| panic!("{format}: {problem}: {line}"))
                .unwrap_or_else(|| panic!("{format}: not a gateway line: {line}"));
            assert_eq!(
                record.text(Field::Decision),
                Some("forwarded"),
                "{format}: {line}"
            );
            assert_eq!(record.text(Field::Cors), Some(grant), "{format}: {line}");
            assert_eq!(record.text(Field::Credentials), None, "{format}: {line}");
        }
        let hostile = marked("hostile");
        assert_eq!(
            field(&hostile, Field::Origin).as_deref(),
            Some(hostile_origin),
            "{format}"
        );
        assert_eq!(
            field(&hostile, Field::Route).as_deref(),
            Some("api"),
            "{format}"
        );
        assert_eq!(
            field(&hostile, Field::Decision).as_deref(),
            Some("rejected"),
            "{format}"
        );
    }
}
