//! The one-line policy change that makes the browser allow a blocked request, pointing at the
//! file and line to edit.

use corsgate_core::config::schema::Key;
use corsgate_core::config::LoadedPolicy;
use corsgate_core::decision::PreflightRejection;
use corsgate_core::request_headers::HeaderRejection;
use corsgate_core::request_origin::RequestOrigin;

/// Where the rule for `key` is: "`key` at file:line", or that its default applies.
pub(super) fn rule(policy: &LoadedPolicy<'_>, key: Key) -> String {
    match policy.document.line_of(key) {
        None => format!("`{key}` not set, default applies ({})", policy.source.file),
        Some(line) => format!("`{key}` at {}:{line}", policy.source.file),
    }
}

/// Adds `value` to the list `key`: after what is there, or after the default when unset.
fn add_to(policy: &LoadedPolicy<'_>, key: Key, value: &str) -> String {
    if policy.document.line_of(key).is_some() {
        return format!("add \"{value}\" to `{key}` ({})", rule(policy, key));
    }
    let mut items: Vec<String> = key
        .default_strings()
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect();
    items.push(format!("\"{value}\""));
    format!(
        "add `{key} = [{}]` to [cors] of {}",
        items.join(", "),
        policy.source.file
    )
}

pub(super) fn origin_fix(policy: &LoadedPolicy<'_>, origin: &str) -> String {
    match RequestOrigin::parse(origin.as_bytes()) {
        Some(_) => add_to(policy, Key::AllowOrigins, origin),
        None => format!("`{origin}` is not a browser-serialized origin; check what the page really sends (DevTools → Network → Origin)"),
    }
}

pub(super) fn credentials_fix(policy: &LoadedPolicy<'_>) -> String {
    if policy.route.cors().origins().is_any() {
        format!("list the page's origin instead of \"*\" in `allow_origins` and set `allow_credentials = true` in {}", policy.source.file)
    } else {
        format!(
            "set `allow_credentials = true` in [cors] of {}",
            policy.source.file
        )
    }
}

pub(super) fn preflight_fix(
    rejection: &PreflightRejection<'_>,
    policy: &LoadedPolicy<'_>,
    origin: &str,
    method: &str,
) -> String {
    match rejection {
        PreflightRejection::Origin => origin_fix(policy, origin),
        PreflightRejection::Method(_) => add_to(policy, Key::AllowMethods, method),
        PreflightRejection::Headers(HeaderRejection::NotAllowed(name)) => {
            add_to(policy, Key::AllowHeaders, &String::from_utf8_lossy(name))
        }
        PreflightRejection::Headers(_) => {
            "the page sends a malformed or oversized header list; check the request in DevTools"
                .into()
        }
    }
}
