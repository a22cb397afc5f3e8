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
    /// Expected errors: kind, line, column.
    type Expected = Vec<(ErrorKind, usize, usize)>;
    let cases: Vec<(&str, String, Expected)> = vec![
        ("valid minimal policy", origins("[\"https://app.example.com\"]"), vec![]),
        ("toml syntax", "[route\npath = 1".into(), vec![(TomlSyntax, 1, 7)]),
        ("unknown key with suggestion", cors("allow_origin = [\"https://a.example\"]"), vec![(MissingKey, 4, 2), (UnknownKey, 5, 1)]),
        ("unknown table", format!("{}[corss]\n", origins("[\"https://a.example\"]")), vec![(UnknownKey, 6, 2)]),
        ("wrong type", cors("allow_origins = \"https://a.example\""), vec![(WrongType, 5, 17)]),
        ("wrong element type", cors("allow_origins = [1]"), vec![(WrongType, 5, 18)]),
        ("missing path", "[route]\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(MissingKey, 1, 2)]),
        ("missing upstream", "[route]\npath = \"/x\"\n[cors]\nallow_origins = []\n".into(), vec![(MissingKey, 1, 2)]),
        ("missing cors table", ROUTE.into(), vec![(MissingKey, 1, 1)]),
        ("star with credentials", cors("allow_origins = [\"*\"]\nallow_credentials = true"), vec![(WildcardWithCredentials, 5, 18)]),
        ("star headers with credentials", cors("allow_origins = [\"https://a.example\"]\nallow_headers = [\"*\"]\nallow_credentials = true"), vec![(WildcardWithCredentials, 6, 18)]),
        ("star expose with credentials", cors("allow_origins = [\"https://a.example\"]\nexpose_headers = [\"*\"]\nallow_credentials = true"), vec![(WildcardWithCredentials, 6, 19)]),
        ("star methods with credentials", cors("allow_origins = [\"https://a.example\"]\nallow_methods = [\"*\"]\nallow_credentials = true"), vec![(WildcardWithCredentials, 6, 18)]),
        ("null origin", origins("[\"null\"]"), vec![(NullOrFileOrigin, 5, 18)]),
        ("file origin", origins("[\"file://\"]"), vec![(NullOrFileOrigin, 5, 18)]),
        ("non-canonical origin", origins("[\"https://a.example:443\"]"), vec![(NonCanonicalOrigin, 5, 18)]),
        ("insecure origin with credentials", cors("allow_origins = [\"http://a.example\"]\nallow_credentials = true"), vec![(InsecureOriginWithCredentials, 5, 18)]),
        ("insecure opt-in", cors("allow_origins = [\"http://a.example\"]\nallow_credentials = true\ndangerously_allow_insecure_origins = true"), vec![]),
        ("public suffix wildcard", origins("[\"https://*.github.io\"]"), vec![(PublicSuffixWildcard, 5, 18)]),
        ("public suffix opt-in", cors("allow_origins = [\"https://*.co.uk\"]\ndangerously_allow_public_suffix_wildcards = true"), vec![]),
        ("method not a token", cors("allow_origins = []\nallow_methods = [\"GE T\"]"), vec![(InvalidMethod, 6, 18)]),
        ("forbidden method", cors("allow_origins = []\nallow_methods = [\"connect\"]"), vec![(ForbiddenMethod, 6, 18)]),
        ("header not a token", cors("allow_origins = []\nallow_headers = [\"x:y\"]"), vec![(InvalidHeaderName, 6, 18)]),
        ("forbidden request header", cors("allow_origins = []\nallow_headers = [\"Host\", \"sec-fetch-mode\", \"Proxy-Authorization\"]"), vec![(ForbiddenRequestHeader, 6, 18), (ForbiddenRequestHeader, 6, 26), (ForbiddenRequestHeader, 6, 44)]),
        ("set-cookie exposed", cors("allow_origins = []\nexpose_headers = [\"Set-Cookie\"]"), vec![(SetCookieExposed, 6, 19)]),
        ("access-control header listed", cors("allow_origins = []\nallow_headers = [\"Access-Control-Allow-Origin\"]\nexpose_headers = [\"access-control-max-age\"]"), vec![(AccessControlHeaderListed, 6, 18), (AccessControlHeaderListed, 7, 19)]),
        ("max age too large", cors("allow_origins = []\nmax_age = 86401"), vec![(MaxAgeOutOfRange, 6, 11)]),
        ("max age negative", cors("allow_origins = []\nmax_age = -1"), vec![(MaxAgeOutOfRange, 6, 11)]),
        ("max age bounds", cors("allow_origins = []\nmax_age = 86400"), vec![]),
        ("zero timeout", format!("{ROUTE}timeout_ms = 0\n[cors]\nallow_origins = []\n"), vec![(InvalidTimeout, 4, 14)]),
        ("path without slash", "[route]\npath = \"x\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidRoutePath, 2, 8)]),
        ("path with query", "[route]\npath = \"/x?y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidRoutePath, 2, 8)]),
        ("path with double slash", "[route]\npath = \"/x//y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidRoutePath, 2, 8)]),
        ("path with dot segment", "[route]\npath = \"/x/../y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidRoutePath, 2, 8)]),
        ("path with inner ellipsis", "[route]\npath = \"/x/.../y\"\nupstream = \"https://a.example\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidRoutePath, 2, 8)]),
        ("upstream not absolute", "[route]\npath = \"/x\"\nupstream = \"api.example.com\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidUpstream, 3, 12)]),
        ("upstream other scheme", "[route]\npath = \"/x\"\nupstream = \"ftp://api.example.com\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidUpstream, 3, 12)]),
        ("upstream with userinfo", "[route]\npath = \"/x\"\nupstream = \"https://u:p@api.example.com\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidUpstream, 3, 12)]),
        ("upstream with query", "[route]\npath = \"/x\"\nupstream = \"https://api.example.com/?a=1\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidUpstream, 3, 12)]),
        ("upstream with fragment", "[route]\npath = \"/x\"\nupstream = \"https://api.example.com/#f\"\n[cors]\nallow_origins = []\n".into(), vec![(InvalidUpstream, 3, 12)]),
        ("bad preflight mode", cors("allow_origins = []\npreflight = \"edg\""), vec![(InvalidPreflightMode, 6, 13)]),
        (
            "every error of a file at once",
            "[route]\npath = \"x\"\nupstream = \"ftp://a\"\ntimeout = 5\n[cors]\nallow_origins = [\"null\"]\nmax_age = 1e3\n".into(),
            vec![(InvalidRoutePath, 2, 8), (InvalidUpstream, 3, 12), (UnknownKey, 4, 1), (NullOrFileOrigin, 6, 18), (WrongType, 7, 11)],
        ),
    ];
    for (name, text, expected) in cases {
        let got: Vec<(ErrorKind, usize, usize)> = errors(&[("p", &text)])
            .into_iter()
            .map(|(_, k, l, c)| (k, l, c))
            .collect();
        assert_eq!(got, expected, "case {name}:\n{text}");
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
