//! The access log: one line per request with the outcome's cause, and the setting that chooses which requests get one.

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
