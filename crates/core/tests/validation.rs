//! Every validation rule of CONTRACT.md §1, one named case each, matched by error kind and
//! location (never by message text).

use corsgate_core::config::{route_table_from_toml, ErrorKind};

const ROUTE: &str = "[route]\npath = \"/x/...\"\nupstream = \"https://api.example.com\"\n";

fn errors(files: &[(&str, &str)]) -> Vec<(String, ErrorKind, usize, usize)> {
    match route_table_from_toml(files) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.location.file, e.kind, e.location.line, e.location.column))
            .collect(),
    }
}

fn cors(body: &str) -> String {
    format!("{ROUTE}[cors]\n{body}\n")
}

#[test]
fn each_rule_is_reported_with_its_kind_and_location() {
    use ErrorKind::*;
    let origins = |list: &str| cors(&format!("allow_origins = {list}"));
    struct Case {
        name: &'static str,
        /// The policy file's text.
        text: String,
        /// Every error, in file order, as (kind, line, column).
        errors: Vec<(ErrorKind, usize, usize)>,
    }
    let cases: Vec<Case> = vec![
        Case { name: "valid minimal policy", text: origins("[\"https://app.example.com\"]"), errors: vec![] },
        Case { name: "toml syntax", text: "[route\npath = 1".into(), errors: vec![(TomlSyntax, 1, 7)] },
        Case { name: "unknown key with suggestion", text: cors("allow_origin = [\"https://a.example\"]"), errors: vec![(MissingKey, 4, 2), (UnknownKey, 5, 1)] },
        Case { name: "unknown table", text: format!("{}[corss]\n", origins("[\"https://a.example\"]")), errors: vec![(UnknownKey, 6, 2)] },
        Case { name: "wrong type", text: cors("allow_origins = \"https://a.example\""), errors: vec![(WrongType, 5, 17)] },
        Case { name: "wrong element type", text: cors("allow_origins = [1]"), errors: vec![(WrongType, 5, 18)] },
        Case { name: "missing path", text: "[route]\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(MissingKey, 1, 2)] },
        Case { name: "missing upstream", text: "[route]\npath = \"/x\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(MissingKey, 1, 2)] },
        Case { name: "missing cors table", text: ROUTE.into(), errors: vec![(MissingKey, 1, 1)] },
        Case { name: "star with credentials", text: cors("allow_origins = [\"*\"]\nallow_credentials = true"), errors: vec![(WildcardWithCredentials, 5, 18)] },
        Case { name: "star headers with credentials", text: cors("allow_origins = [\"https://a.example\"]\nallow_headers = [\"*\"]\nallow_credentials = true"), errors: vec![(WildcardWithCredentials, 6, 18)] },
        Case { name: "star expose with credentials", text: cors("allow_origins = [\"https://a.example\"]\nexpose_headers = [\"*\"]\nallow_credentials = true"), errors: vec![(WildcardWithCredentials, 6, 19)] },
        Case { name: "star methods with credentials", text: cors("allow_origins = [\"https://a.example\"]\nallow_methods = [\"*\"]\nallow_credentials = true"), errors: vec![(WildcardWithCredentials, 6, 18)] },
        Case { name: "null origin", text: origins("[\"null\"]"), errors: vec![(NullOrFileOrigin, 5, 18)] },
        Case { name: "file origin", text: origins("[\"file://\"]"), errors: vec![(NullOrFileOrigin, 5, 18)] },
        Case { name: "non-canonical origin", text: origins("[\"https://a.example:443\"]"), errors: vec![(NonCanonicalOrigin, 5, 18)] },
        Case { name: "insecure origin with credentials", text: cors("allow_origins = [\"http://a.example\"]\nallow_credentials = true"), errors: vec![(InsecureOriginWithCredentials, 5, 18)] },
        Case { name: "insecure opt-in", text: cors("allow_origins = [\"http://a.example\"]\nallow_credentials = true\ndangerously_allow_insecure_origins = true"), errors: vec![] },
        Case { name: "public suffix wildcard", text: origins("[\"https://*.github.io\"]"), errors: vec![(PublicSuffixWildcard, 5, 18)] },
        Case { name: "public suffix opt-in", text: cors("allow_origins = [\"https://*.co.uk\"]\ndangerously_allow_public_suffix_wildcards = true"), errors: vec![] },
        Case { name: "method not a token", text: cors("allow_origins = []\nallow_methods = [\"GE T\"]"), errors: vec![(InvalidMethod, 6, 18)] },
        Case { name: "forbidden method", text: cors("allow_origins = []\nallow_methods = [\"connect\"]"), errors: vec![(ForbiddenMethod, 6, 18)] },
        Case { name: "header not a token", text: cors("allow_origins = []\nallow_headers = [\"x:y\"]"), errors: vec![(InvalidHeaderName, 6, 18)] },
        Case { name: "forbidden request header", text: cors("allow_origins = []\nallow_headers = [\"Host\", \"sec-fetch-mode\", \"Proxy-Authorization\"]"), errors: vec![(ForbiddenRequestHeader, 6, 18), (ForbiddenRequestHeader, 6, 26), (ForbiddenRequestHeader, 6, 44)] },
        Case { name: "set-cookie exposed", text: cors("allow_origins = []\nexpose_headers = [\"Set-Cookie\"]"), errors: vec![(SetCookieExposed, 6, 19)] },
        Case { name: "access-control header listed", text: cors("allow_origins = []\nallow_headers = [\"Access-Control-Allow-Origin\"]\nexpose_headers = [\"access-control-max-age\"]"), errors: vec![(AccessControlHeaderListed, 6, 18), (AccessControlHeaderListed, 7, 19)] },
        Case { name: "max age too large", text: cors("allow_origins = []\nmax_age = 86401"), errors: vec![(MaxAgeOutOfRange, 6, 11)] },
        Case { name: "max age negative", text: cors("allow_origins = []\nmax_age = -1"), errors: vec![(MaxAgeOutOfRange, 6, 11)] },
        Case { name: "max age bounds", text: cors("allow_origins = []\nmax_age = 86400"), errors: vec![] },
        Case { name: "zero timeout", text: format!("{ROUTE}timeout_ms = 0\n[cors]\nallow_origins = []\n"), errors: vec![(InvalidTimeout, 4, 14)] },
        Case { name: "path without slash", text: "[route]\npath = \"x\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidRoutePath, 2, 8)] },
        Case { name: "path with query", text: "[route]\npath = \"/x?y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidRoutePath, 2, 8)] },
        Case { name: "path with double slash", text: "[route]\npath = \"/x//y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidRoutePath, 2, 8)] },
        Case { name: "path with dot segment", text: "[route]\npath = \"/x/../y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidRoutePath, 2, 8)] },
        Case { name: "path with inner ellipsis", text: "[route]\npath = \"/x/.../y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidRoutePath, 2, 8)] },
        Case { name: "upstream not absolute", text: "[route]\npath = \"/x\"\nupstream = \"api.example.com\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidUpstream, 3, 12)] },
        Case { name: "upstream other scheme", text: "[route]\npath = \"/x\"\nupstream = \"ftp://api.example.com\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidUpstream, 3, 12)] },
        Case { name: "upstream with userinfo", text: "[route]\npath = \"/x\"\nupstream = \"https://u:p@api.example.com\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidUpstream, 3, 12)] },
        Case { name: "upstream with query", text: "[route]\npath = \"/x\"\nupstream = \"https://api.example.com/?a=1\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidUpstream, 3, 12)] },
        Case { name: "upstream with fragment", text: "[route]\npath = \"/x\"\nupstream = \"https://api.example.com/#f\"\n[cors]\nallow_origins = []\n".into(), errors: vec![(InvalidUpstream, 3, 12)] },
        Case { name: "bad preflight mode", text: cors("allow_origins = []\npreflight = \"edg\""), errors: vec![(InvalidPreflightMode, 6, 13)] },
        Case { name: "live: baseline inside the ceiling", text: format!("{}[live]\nceiling = [\"https://*.example.com\", \"https://partner.example\"]\nwhen_unreadable = \"deny\"\n", origins("[\"https://app.example.com\", \"https://*.preview.example.com\"]")), errors: vec![] },
        Case { name: "live: an empty baseline is inside any ceiling", text: format!("{}[live]\nceiling = [\"https://partner.example\"]\nwhen_unreadable = \"baseline\"\n", origins("[]")), errors: vec![] },
        Case { name: "live: baseline origin outside the ceiling", text: format!("{}[live]\nceiling = [\"https://*.example.com\"]\nwhen_unreadable = \"deny\"\n", origins("[\"https://app.example.org\"]")), errors: vec![(OutsideCeiling, 5, 18)] },
        Case { name: "live: baseline pattern wider than the ceiling", text: format!("{}[live]\nceiling = [\"https://*.preview.example.com\"]\nwhen_unreadable = \"deny\"\n", origins("[\"https://*.example.com\"]")), errors: vec![(OutsideCeiling, 5, 18)] },
        Case { name: "live: baseline any-port pattern over a one-port ceiling", text: format!("{}[live]\nceiling = [\"http://localhost:8080\"]\nwhen_unreadable = \"deny\"\n", origins("[\"http://localhost:*\"]")), errors: vec![(OutsideCeiling, 5, 18)] },
        Case { name: "live: star baseline", text: format!("{}[live]\nceiling = [\"https://a.example\"]\nwhen_unreadable = \"deny\"\n", origins("[\"*\"]")), errors: vec![(OutsideCeiling, 5, 18)] },
        Case { name: "live: star ceiling", text: format!("{}[live]\nceiling = [\"*\"]\nwhen_unreadable = \"deny\"\n", origins("[]")), errors: vec![(WildcardCeiling, 7, 12)] },
        Case { name: "live: ceiling under a public suffix", text: format!("{}[live]\nceiling = [\"https://*.co.uk\"]\nwhen_unreadable = \"deny\"\n", origins("[]")), errors: vec![(PublicSuffixWildcard, 7, 12)] },
        Case { name: "live: non-canonical ceiling entry", text: format!("{}[live]\nceiling = [\"https://A.example/\"]\nwhen_unreadable = \"deny\"\n", origins("[]")), errors: vec![(NonCanonicalOrigin, 7, 12)] },
        Case { name: "live: insecure ceiling entry with credentials", text: format!("{ROUTE}[cors]\nallow_origins = []\nallow_credentials = true\n[live]\nceiling = [\"http://a.example\"]\nwhen_unreadable = \"deny\"\n"), errors: vec![(InsecureOriginWithCredentials, 8, 12)] },
        Case { name: "live: when_unreadable has no default", text: format!("{}[live]\nceiling = [\"https://a.example\"]\n", origins("[]")), errors: vec![(MissingKey, 6, 2)] },
        Case { name: "live: ceiling has no default", text: format!("{}[live]\nwhen_unreadable = \"deny\"\n", origins("[]")), errors: vec![(MissingKey, 6, 2)] },
        Case { name: "live: unknown when_unreadable", text: format!("{}[live]\nceiling = [\"https://a.example\"]\nwhen_unreadable = \"Deny\"\n", origins("[]")), errors: vec![(InvalidWhenUnreadable, 8, 19)] },
        Case { name: "live: unknown key", text: format!("{}[live]\nceiling = [\"https://a.example\"]\nwhen_unreadable = \"deny\"\nttl = 5\n", origins("[]")), errors: vec![(UnknownKey, 9, 1)] },
        Case { name: "every error of a file at once", text: "[route]\npath = \"x\"\nupstream = \"ftp://a\"\ntimeout = 5\n[cors]\nallow_origins = [\"null\"]\nmax_age = 1e3\n".into(), errors: vec![(InvalidRoutePath, 2, 8), (InvalidUpstream, 3, 12), (UnknownKey, 4, 1), (NullOrFileOrigin, 6, 18), (WrongType, 7, 11)] },
    ];
    for case in cases {
        let got: Vec<(ErrorKind, usize, usize)> = errors(&[("p", &case.text)])
            .into_iter()
            .map(|(_, k, l, c)| (k, l, c))
            .collect();
        assert_eq!(got, case.errors, "case {}:\n{}", case.name, case.text);
    }
}

#[test]
fn duplicate_route_paths_are_reported_on_the_later_file() {
    let a = format!("{ROUTE}[cors]\nallow_origins = []\n");
    let got = errors(&[("a", &a), ("b", &a)]);
    assert_eq!(
        got,
        vec![("b.toml".to_string(), ErrorKind::DuplicateRoutePath, 2, 8)]
    );
}

#[test]
fn messages_say_how_to_fix() {
    let text = cors("allow_origin = []\nallow_origins = [\"https://App.example.com/\"]");
    let rendered: Vec<String> = route_table_from_toml(&[("p", &text)])
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        rendered
            .iter()
            .any(|e| e.starts_with("p.toml:5:1: ") && e.contains("did you mean `allow_origins`?")),
        "{rendered:?}"
    );
    assert!(
        rendered.iter().any(
            |e| e.starts_with("p.toml:6:18: ") && e.contains("write `https://app.example.com`")
        ),
        "{rendered:?}"
    );
}

#[test]
fn a_live_route_needs_a_name_a_live_list_can_hold() {
    let policy = cors(
        "allow_origins = []\n[live]\nceiling = [\"https://a.example\"]\nwhen_unreadable = \"deny\"",
    );
    let got = errors(&[("caf\u{e9}", &policy)]);
    assert_eq!(
        got,
        vec![(
            "caf\u{e9}.toml".to_string(),
            ErrorKind::LiveRouteName,
            7,
            11
        )]
    );
    assert!(errors(&[("cafe", &policy)]).is_empty());
}
