//! Risky but legal settings: the policy is valid, yet probably not what its author wants.

use super::load::LoadedPolicy;
use super::schema::Key;
use super::validate::is_loopback_host;
use crate::method::AllowedMethods;
use crate::origins::AllowedOrigins;

/// Which risky setting a warning is about. Tests match on this, never on message text; new
/// warnings add kinds, so matches outside this crate need a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// `"*"` origins on a route that allows `Authorization`: any site can send tokens it holds.
    StarOriginsWithAuthorization,
    /// `max_age` above what an engine honours: WebKit caps preflight caching at 600 s,
    /// Chromium at 7200 s, Firefox at 86400 s (the validator's maximum), each silently.
    MaxAgeAboveEngineCap,
    /// Plain-http upstream on a non-loopback host: traffic behind the gateway is readable.
    PlainHttpUpstream,
    /// A lowercase spelling of a method `fetch()` uppercases (`patch` is not `PATCH`; `fetch`
    /// normalizes only DELETE, GET, HEAD, OPTIONS, POST, PUT).
    LowercaseMethod,
    /// `"*"` next to other origins: the others are redundant.
    RedundantOrigins,
    /// `allow_private_network = true`: Chrome 142 replaced Private Network Access preflights
    /// with the Local Network Access permission prompt, so current browsers never ask.
    LegacyPrivateNetworkAccess,
}

/// How long each engine keeps a preflight answer at most, whatever `Access-Control-Max-Age`
/// says (WebKit `CrossOriginPreflightResultCache`, Chromium `kMaxCacheAge`; Firefox keeps the
/// validator's maximum of 86400 s).
const ENGINE_MAX_AGE_CAPS: [(&str, u32); 2] = [("WebKit", 600), ("Chromium", 7200)];

/// One risky setting in a valid policy file; unlike a [`ConfigError`](super::ConfigError) it
/// does not stop the build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// What is risky, for programs and tests to match on.
    pub kind: WarningKind,
    /// The value of the key the warning is about (the start of the file when the key is
    /// absent).
    pub location: super::Location,
    /// What the setting does and why it is risky, naming the value.
    pub message: String,
}

/// The warnings for one validated policy, in the order their keys appear in the file.
pub fn warnings(policy: &LoadedPolicy<'_>) -> Vec<ConfigWarning> {
    let doc = &policy.document;
    let cors = policy.route.cors();
    let mut out = Vec::new();
    let mut warn = |kind, key: Key, message: String| {
        out.push(ConfigWarning {
            kind,
            location: doc.location(doc.span_of(key)),
            message,
        });
    };
    if cors.origins.is_any() && cors.headers.names.iter().any(|n| n == "authorization") {
        warn(WarningKind::StarOriginsWithAuthorization, Key::AllowHeaders, "`Authorization` is allowed from every origin (`\"*\"`): any site can make requests with tokens it gets hold of; list the origins instead".into());
    }
    if let Some(max_age) = doc.integer(Key::MaxAge) {
        let capped: Vec<String> = ENGINE_MAX_AGE_CAPS
            .iter()
            .filter(|(_, cap)| max_age.value > i128::from(*cap))
            .map(|(engine, cap)| format!("{engine} at {cap} s"))
            .collect();
        if !capped.is_empty() {
            warn(
                WarningKind::MaxAgeAboveEngineCap,
                Key::MaxAge,
                format!(
                    "`max_age = {}` is more than some browsers honour: {} (they cache the preflight that long, no longer)",
                    max_age.value,
                    capped.join(", ")
                ),
            );
        }
    }
    let upstream = policy.route.upstream();
    // Loopback and Spin service chaining never cross a network.
    if upstream.scheme() == crate::route::Scheme::Http
        && !is_loopback_host(upstream.host())
        && !upstream.is_spin_component()
    {
        warn(WarningKind::PlainHttpUpstream, Key::Upstream, format!("upstream `{}` is plain http to a non-loopback host: requests, cookies and tokens cross the network unencrypted", upstream.url()));
    }
    if let AllowedMethods::Listed(methods) = &cors.methods {
        for m in methods.iter() {
            let upper = m.to_ascii_uppercase();
            if *m != upper
                && ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]
                    .contains(&upper.as_str())
            {
                let hint = if upper == "PATCH" {
                    "fetch() sends `PATCH` as written, so `patch` only matches pages that send lowercase"
                } else {
                    "fetch() uppercases it, so this entry never matches"
                };
                warn(
                    WarningKind::LowercaseMethod,
                    Key::AllowMethods,
                    format!("method `{m}`: {hint}; write `{upper}`"),
                );
            }
        }
    }
    if let (AllowedOrigins::Any, Some(list)) = (&cors.origins, doc.strings(Key::AllowOrigins)) {
        if list.value.len() > 1 {
            warn(
                WarningKind::RedundantOrigins,
                Key::AllowOrigins,
                "`\"*\"` already allows every origin: the other entries are redundant".into(),
            );
        }
    }
    if cors.allow_private_network {
        warn(
            WarningKind::LegacyPrivateNetworkAccess,
            Key::AllowPrivateNetwork,
            "`allow_private_network` answers Private Network Access preflights, which Chrome 142 replaced with the Local Network Access permission prompt: current browsers no longer send them, and a page reaches a local address only when the user allows it; the key now serves older Chromium builds only".into(),
        );
    }
    out.sort_by_key(|w| w.location.span.start);
    out
}
