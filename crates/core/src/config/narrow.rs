//! A policy file with some entries of its lists taken out: what `corsgate audit --suggest`
//! writes. Only the arrays change, each rewritten in place from its own span, so the file's
//! comments, order and every other key stay as the owner wrote them. Taking entries out can only
//! narrow what a policy allows; the caller validates the result like any other policy file.

use super::document::PolicyDocument;
use super::schema::Key;

/// The list keys a narrowing may shorten.
pub const NARROWED_KEYS: [Key; 3] = [Key::AllowOrigins, Key::AllowMethods, Key::AllowHeaders];

/// The text of the file `document` was read from with each of `keys` (one of
/// [`NARROWED_KEYS`]) holding only the entries `keep` says to keep, in their written order.
/// A key the file does not have, or whose entries are all kept, is left as written.
pub fn narrowed_text(document: &PolicyDocument<'_>, keep: impl Fn(Key, &str) -> bool) -> String {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = NARROWED_KEYS
        .iter()
        .filter_map(|&key| {
            let entries = document.strings(key)?;
            let kept: Vec<&str> = entries
                .value
                .iter()
                .map(|entry| entry.value.as_ref())
                .filter(|entry| keep(key, entry))
                .collect();
            (kept.len() < entries.value.len()).then(|| (entries.span, toml_array(&kept)))
        })
        .collect();
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut text = document.source.to_string();
    for (span, replacement) in edits {
        text.replace_range(span, &replacement);
    }
    text
}

/// The text of the file `document` was read from with `key`'s array holding `entries` instead:
/// a route as a live origin list sets it (`corsgate live show` compares it with the file as
/// written). `None` when the file does not have the key.
pub fn replaced_text(document: &PolicyDocument<'_>, key: Key, entries: &[&str]) -> Option<String> {
    let span = document.strings(key)?.span;
    let mut text = document.source.to_string();
    text.replace_range(span, &toml_array(entries));
    Some(text)
}

/// `["a", "b"]`: TOML basic strings, escaped as TOML escapes them.
fn toml_array(entries: &[&str]) -> String {
    let quoted: Vec<String> = entries
        .iter()
        .map(|entry| {
            let mut quoted = String::from("\"");
            for c in entry.chars() {
                match c {
                    '"' => quoted.push_str("\\\""),
                    '\\' => quoted.push_str("\\\\"),
                    c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
                    c => quoted.push(c),
                }
            }
            quoted.push('"');
            quoted
        })
        .collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::{load_policies, PolicySource};

    #[test]
    fn only_the_arrays_change() {
        struct Case {
            name: &'static str,
            policy: &'static str,
            /// Entries taken out.
            drop: &'static [&'static str],
            expected: &'static str,
        }
        let cases = [
            Case {
                name: "nothing dropped: byte for byte",
                policy: "[route]\npath = \"/a/...\"\nupstream = \"https://api.example.com\"\n\n[cors]\n# who\nallow_origins = [\n  \"https://a.example.com\", # the app\n  \"https://*.b.example.com\",\n]\nallow_methods = [\"PUT\", \"DELETE\"]\n",
                drop: &[],
                expected: "[route]\npath = \"/a/...\"\nupstream = \"https://api.example.com\"\n\n[cors]\n# who\nallow_origins = [\n  \"https://a.example.com\", # the app\n  \"https://*.b.example.com\",\n]\nallow_methods = [\"PUT\", \"DELETE\"]\n",
            },
            Case {
                name: "an origin and a method dropped, the rest kept",
                policy: "[route]\npath = \"/a/...\"\nupstream = \"https://api.example.com\"\n\n[cors]\n# who\nallow_origins = [\n  \"https://a.example.com\", # the app\n  \"https://*.b.example.com\",\n]\nallow_methods = [\"PUT\", \"DELETE\"]\nallow_headers = [\"x-a\"]\n",
                drop: &["https://*.b.example.com", "DELETE"],
                expected: "[route]\npath = \"/a/...\"\nupstream = \"https://api.example.com\"\n\n[cors]\n# who\nallow_origins = [\"https://a.example.com\"]\nallow_methods = [\"PUT\"]\nallow_headers = [\"x-a\"]\n",
            },
            Case {
                name: "every header dropped",
                policy: "[route]\npath = \"/a\"\nupstream = \"https://api.example.com\"\n[cors]\nallow_origins = [\"https://a.example.com\"]\nallow_headers = [\"x-a\", \"x-b\"]\n",
                drop: &["x-a", "x-b"],
                expected: "[route]\npath = \"/a\"\nupstream = \"https://api.example.com\"\n[cors]\nallow_origins = [\"https://a.example.com\"]\nallow_headers = []\n",
            },
        ];
        for case in cases {
            let sources = [PolicySource {
                name: "a".into(),
                file: "a.toml".into(),
                text: case.policy.into(),
            }];
            let loaded = load_policies(&sources).unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
            let text = narrowed_text(&loaded[0].document, |_, entry| !case.drop.contains(&entry));
            assert_eq!(text, case.expected, "{}", case.name);
            let again = [PolicySource {
                text,
                ..sources[0].clone()
            }];
            assert!(load_policies(&again).is_ok(), "{}: still valid", case.name);
        }
    }
}
