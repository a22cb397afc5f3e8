//! Policies are checked at build time: an invalid folder fails the build with every error located;
//! so are the settings' values a build compiles in as defaults.

use std::path::Path;

use corsgate_testkit::harness::{work_dir, Artifact, Component};

use crate::support::*;

pub(crate) fn cases() -> Vec<NamedCase<()>> {
    cases![
        invalid_policies_fail_the_build_with_locations,
        an_invalid_built_in_setting_fails_the_build,
        a_live_route_fails_the_wasip2_build_and_builds_for_wasip3,
    ]
}

fn invalid_policies_fail_the_build_with_locations(_: &()) {
    let out = Component::gateway(Path::new("tests/invalid-policies")).cargo_build();
    assert!(
        !out.status.success(),
        "an invalid policy must fail the build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "tests/invalid-policies/broken.toml:2:8: route path `users/...` must start with `/`",
        "tests/invalid-policies/broken.toml:3:12: upstream `https://user:pw@api.example.com` must not carry userinfo",
        "tests/invalid-policies/broken.toml:6:1: unknown key `allow_origin` in `[cors]` (did you mean `allow_origins`?)",
        "tests/invalid-policies/broken.toml:7:25: `TRACE` is a forbidden method",
        "tests/invalid-policies/broken.toml:8:18: `Cookie` in `allow_headers`",
        "tests/invalid-policies/broken.toml:9:11: `max_age = 90000` is outside 0..=86400",
        "tests/invalid-policies/wildcard.toml:6:18: `\"*\"` in `allow_origins` cannot be combined with `allow_credentials = true`",
        "tests/invalid-policies/wildcard.toml:6:23: `https://App.example.com/` is not written the way browsers send origins",
        "write `https://app.example.com`",
    ] {
        assert!(stderr.contains(expected), "build output lacks {expected:?}:\n{stderr}");
    }
}

fn an_invalid_built_in_setting_fails_the_build(_: &()) {
    let out = Component::gateway(Path::new("policies"))
        .env("CORSGATE_ACCESS_LOG", "loud")
        .cargo_build();
    assert!(
        !out.status.success(),
        "a setting the gateway cannot understand must fail the build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "corsgate: invalid setting in the build's environment: CORSGATE_ACCESS_LOG=\"loud\" is not one of all, problems, off",
        "set it to one of those values or unset it; nothing was built",
    ] {
        assert!(stderr.contains(expected), "build output lacks {expected:?}:\n{stderr}");
    }
}

/// A route with `[live]` reads a store, once per TTL per instance: the WASIp2 gateway, a fresh
/// instance per request, would read it per request, so its build refuses the route and names
/// the artifacts that serve it; the WASIp3 gateway builds the same folder.
fn a_live_route_fails_the_wasip2_build_and_builds_for_wasip3(_: &()) {
    let folder = work_dir("live-build").join("policies");
    std::fs::create_dir_all(&folder).expect("create the policy folder");
    std::fs::write(
        folder.join("users.toml"),
        "[route]\npath = \"/users/...\"\nupstream = \"http://127.0.0.1:9\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n[live]\nceiling = [\"https://app.example.com\", \"https://*.partner.example\"]\nwhen_unreadable = \"deny\"\n",
    )
    .expect("write the policy");
    let out = Component::gateway(&folder).cargo_build();
    assert!(
        !out.status.success(),
        "a live route must fail the WASIp2 build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "users.toml:7:11: route `users` has `[live]`, which the WASIp2 gateway cannot serve",
        "build the WASIp3 gateway (`corsgate-p3`, components/p3) or middleware (components/middleware)",
        "corsgate: 1 error(s); nothing was built",
    ] {
        assert!(stderr.contains(expected), "build output lacks {expected:?}:\n{stderr}");
    }
    let p3 = Component::artifact(Artifact::P3, &folder).cargo_build();
    assert!(
        p3.status.success(),
        "the WASIp3 gateway serves live routes:\n{}",
        String::from_utf8_lossy(&p3.stderr)
    );
}
