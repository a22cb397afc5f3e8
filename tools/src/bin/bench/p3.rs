//! The WASIp3 figures, side by side in one run, each artifact under its host's default settings
//! (what users get: `wasmtime serve` and Spin 4.1 reuse a WASIp3 instance for 128 requests,
//! 16 at once; every WASIp2 request gets a fresh instance):
//! - edge preflights of the WASIp3 gateway against the WASIp2 one, on `wasmtime serve` and on
//!   Spin 4.1, against a trivial WASIp3 component making the same host calls, and against the
//!   nginx recipe on the same pinned core;
//! - an actual request through corsgate as middleware in front of a WASIp3 app, against the app
//!   alone and against the WASIp3 gateway forwarding to the app over HTTP.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use corsgate_testkit::harness::{
    repo_root, Artifact, Component, Host, ServeOptions, Target as Serving,
};
use corsgate_testkit::world::write_policies;

use crate::report::table;
use crate::settings::Settings;
use crate::wrk::{interleaved, served, Config, Load, Target};

/// The two tables and what they show, as markdown lines.
pub fn figures(
    settings: &Rc<Settings>,
    work: &Path,
    upstream: &str,
    small_p2: &Path,
    nginx: &Rc<dyn Fn() -> Target>,
) -> Vec<String> {
    // The benchmark policy with `{PREFLIGHT}` and `{UPSTREAM}` left to fill.
    let small_policy = std::fs::read_to_string(repo_root().join("bench/policies/small.toml"))
        .expect("bench/policies/small.toml")
        .replace("{PREFLIGHT}", "edge");
    let built =
        |name: &str, component: Component| component.build(&work.join(format!("{name}.wasm")));
    let policies = |name: &str, text: String| -> PathBuf {
        let dir = work.join("policies").join(name);
        write_policies(&dir, &[("api.toml".into(), text)], &[]);
        dir
    };
    let edge = policies("p3-small", small_policy.replace("{UPSTREAM}", upstream));
    let small_p3 = built(
        "corsgate-p3-small",
        Component::artifact(Artifact::P3, &edge),
    );
    let noop = built("noop-p3", Component::package("bench-noop-p3"));
    let host_calls = built(
        "noop-p3-cors-logged",
        Component::package("bench-noop-p3").env("BENCH_MODE", "cors-logged"),
    );
    let serve_as = |suffix: &str, target: Serving, wasm: &Path, options: ServeOptions| {
        served(work, suffix, target, wasm, options)
    };
    let serve = |target: Serving, wasm: &Path, cpu: Option<usize>| {
        serve_as("", target, wasm, ServeOptions::default().cpu(cpu))
    };
    let on_server = settings.server_cpu();
    let p3_wasmtime = Serving::p3(Host::Wasmtime);
    let mut preflights = vec![
        Config::new(
            "trivial WASIp3 component, 204, wasmtime",
            serve(p3_wasmtime, &noop, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the trivial WASIp3 component"),
        Config::new(
            "trivial WASIp3 component making the WASIp3 gateway's host calls, wasmtime",
            serve(p3_wasmtime, &host_calls, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the WASIp3 host-calls component"),
        Config::new(
            "corsgate WASIp2 preflight, wasmtime",
            serve(Serving::p2(Host::Wasmtime), small_p2, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("WASIp2 on wasmtime"),
        Config::new(
            "corsgate WASIp3 preflight, wasmtime",
            serve(p3_wasmtime, &small_p3, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the WASIp3 gateway on wasmtime"),
        Config::new(
            "corsgate WASIp2 preflight, Spin 4.1",
            serve(Serving::p2(Host::Spin4), small_p2, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("WASIp2 on Spin 4.1"),
        Config::new(
            "corsgate WASIp3 preflight, Spin 4.1",
            serve(Serving::p3(Host::Spin4), &small_p3, on_server),
            "/api/x",
            Load::Preflight,
        ),
        Config::new(
            "nginx recipe, preflight allowed",
            {
                let nginx = Rc::clone(nginx);
                move || nginx()
            },
            "/api/x",
            Load::Preflight,
        )
        .short("the nginx recipe"),
    ];
    interleaved(settings, work, "wasip3 preflights", &mut preflights);

    // The app: alone on the server CPU, with the middleware in front (composed by `wac plug`
    // for wasmtime serve, chained by Spin 4.1's `dependencies.middleware`), and behind the
    // WASIp3 gateway over HTTP (then on the other CPU, beside wrk, as every upstream here).
    let app = built("example-p3-api", Component::package("example-p3-api"));
    let middleware = built(
        "corsgate-middleware",
        Component::package("corsgate-middleware")
            .env("CORSGATE_POLICIES", &edge.display().to_string()),
    );
    let app_upstream = p3_wasmtime.serve(
        &app,
        &work.join("servers").join("app-upstream"),
        &ServeOptions::default().cpu(settings.client_cpu()),
    );
    let to_app = policies(
        "p3-to-app",
        small_policy.replace("http://{UPSTREAM}", &app_upstream.url("")),
    );
    let gateway_to_app = built(
        "corsgate-p3-to-app",
        Component::artifact(Artifact::P3, &to_app),
    );
    let behind_middleware = ServeOptions::default()
        .cpu(on_server)
        .middleware(&middleware);
    let p3_spin4 = Serving::p3(Host::Spin4);
    let mut middleware_configs = vec![
        Config::new(
            "WASIp3 app alone, GET, wasmtime",
            serve(p3_wasmtime, &app, on_server),
            "/api/items",
            Load::Get,
        )
        .short("the app alone on wasmtime"),
        Config::new(
            "corsgate middleware composed with the app, GET of a path without a policy (passed through), wasmtime",
            serve_as("-middleware", p3_wasmtime, &app, behind_middleware.clone()),
            "/other",
            Load::Get,
        ),
        Config::new(
            "corsgate middleware composed with the app, GET, wasmtime",
            serve_as("-middleware", p3_wasmtime, &app, behind_middleware.clone()),
            "/api/items",
            Load::Get,
        )
        .short("the middleware on wasmtime"),
        Config::new(
            "corsgate middleware composed with the app, GET, CORSGATE_ACCESS_LOG=problems, wasmtime",
            serve_as(
                "-middleware-problems",
                p3_wasmtime,
                &app,
                behind_middleware.clone().env("CORSGATE_ACCESS_LOG", "problems"),
            ),
            "/api/items",
            Load::Get,
        ),
        Config::new(
            "corsgate WASIp3 gateway forwarding to the app over HTTP, GET, wasmtime",
            serve(p3_wasmtime, &gateway_to_app, on_server),
            "/api/items",
            Load::Get,
        ),
        Config::new(
            "WASIp3 app alone, GET, Spin 4.1",
            serve(p3_spin4, &app, on_server),
            "/api/items",
            Load::Get,
        )
        .short("the app alone on Spin 4.1"),
        Config::new(
            "corsgate middleware chained by Spin 4.1 (dependencies.middleware), GET of a path without a policy (passed through)",
            serve_as("-middleware", p3_spin4, &app, behind_middleware.clone()),
            "/other",
            Load::Get,
        ),
        Config::new(
            "corsgate middleware chained by Spin 4.1 (dependencies.middleware), GET",
            serve_as("-middleware", p3_spin4, &app, behind_middleware),
            "/api/items",
            Load::Get,
        ),
    ];
    interleaved(settings, work, "middleware", &mut middleware_configs);
    drop(app_upstream);

    let preflight_pairs = reference(&preflights, &[(1, 0), (3, 2), (5, 4), (6, 3)]);
    let middleware_pairs = reference(
        &middleware_configs,
        &[(1, 0), (2, 0), (3, 0), (4, 2), (6, 5), (7, 5)],
    );
    let ratio = |a: &Config, b: &Config| a.rps() / b.rps();
    let mut out = vec![
        "### WASIp3 and WASIp2 side by side (each under its host's default settings)".to_string(),
        String::new(),
    ];
    out.extend(table(&preflights, &preflight_pairs, true));
    out.push(String::new());
    out.push(format!(
        "WASIp3 gateway against WASIp2: {:.2}× the preflights on wasmtime serve, {:.2}× on Spin 4.1; {:.0} % of the trivial WASIp3 component making its host calls; the nginx recipe answers {:.2}× as many.",
        ratio(&preflights[3], &preflights[2]),
        ratio(&preflights[5], &preflights[4]),
        ratio(&preflights[3], &preflights[1]) * 100.0,
        ratio(&preflights[6], &preflights[3]),
    ));
    out.extend([
        String::new(),
        "### corsgate as middleware (wasmtime serve and Spin 4.1)".into(),
        String::new(),
    ]);
    out.extend(table(&middleware_configs, &middleware_pairs, true));
    out.push(String::new());
    let cost = |of: usize, against: usize| {
        (1.0 - ratio(&middleware_configs[of], &middleware_configs[against])) * 100.0
    };
    out.push(format!(
        "The CORS layer as middleware costs {:.0} % of the app's throughput on wasmtime serve, of which {:.0} % is the composition itself (a path without a policy goes straight to the app), and {:.0} % with `CORSGATE_ACCESS_LOG=problems`; on Spin 4.1 it costs {:.0} %, of which {:.0} % is the chaining itself. The middleware serves {:.2}× what the gateway forwarding to the same app over HTTP does.",
        cost(2, 0),
        cost(1, 0),
        cost(3, 0),
        cost(7, 5),
        cost(6, 5),
        ratio(&middleware_configs[2], &middleware_configs[4]),
    ));
    out.push(String::new());
    let sizes: Vec<String> = [
        ("corsgate (WASIp2)", small_p2),
        ("corsgate-p3", small_p3.as_path()),
        ("corsgate-middleware", middleware.as_path()),
    ]
    .iter()
    .map(|(name, wasm)| {
        format!(
            "{name} {} KiB",
            std::fs::metadata(wasm).map_or(0, |m| m.len()) / 1024
        )
    })
    .collect();
    out.push(format!(
        "Artifact sizes (bench policy compiled in): {}.",
        sizes.join(", ")
    ));
    out
}

/// Which configuration each is compared with, by index: (of, against).
fn reference<'c>(configs: &'c [Config], pairs: &[(usize, usize)]) -> HashMap<String, &'c Config> {
    pairs
        .iter()
        .map(|&(of, against)| (configs[of].label.clone(), &configs[against]))
        .collect()
}
