//! The WASIp3 figures, side by side in one run, each artifact under its host's default settings
//! (what users get: `wasmtime serve` and Spin 4.1 reuse a WASIp3 instance for 128 requests,
//! 16 at once; every WASIp2 request gets a fresh instance):
//! - edge preflights of the WASIp3 gateway against the WASIp2 one, on `wasmtime serve` and on
//!   Spin 4.1, against a trivial WASIp3 component making the same host calls, and against the
//!   nginx recipe on the same pinned core;
//! - an actual request through corsgate as middleware in front of a WASIp3 app, against the app
//!   alone and against the WASIp3 gateway forwarding to the app over HTTP.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use corsgate_testkit::harness::{
    repo_root, Artifact, Component, Host, ServeOptions, Server, Target as Serving,
};
use corsgate_testkit::world::write_policies;

use crate::report::{reference, table};
use crate::settings::Settings;
use crate::wrk::{interleaved, served, Config, Load, Target};

/// The two tables and what they show, as markdown lines.
pub(crate) fn figures(
    settings: &Rc<Settings>,
    work: &Path,
    upstream: &str,
    small_p2: &Path,
    nginx: &Rc<dyn Fn() -> Target>,
) -> Vec<String> {
    // The benchmark policy with `{UPSTREAM}` left to fill.
    let small_policy = std::fs::read_to_string(repo_root().join("bench/policies/small.toml"))
        .expect("bench/policies/small.toml")
        .replace("{PREFLIGHT}", "edge");
    let edge = policies(
        work,
        "p3-small",
        small_policy.replace("{UPSTREAM}", upstream),
    );
    let small_p3 = built(
        work,
        "corsgate-p3-small",
        Component::artifact(Artifact::P3, &edge),
    );
    let preflights = preflights(settings, work, small_p2, &small_p3, nginx);
    let middleware = built(
        work,
        "corsgate-middleware",
        Component::package("corsgate-middleware")
            .env("CORSGATE_POLICIES", &edge.display().to_string()),
    );
    let middleware_configs = middleware_and_app(settings, work, &small_policy, &middleware);

    let mut out = preflights_section(&preflights);
    out.extend(middleware_section(&middleware_configs));
    out.push(String::new());
    out.push(sizes(&[
        ("corsgate (WASIp2)", small_p2),
        ("corsgate-p3", &small_p3),
        ("corsgate-middleware", &middleware),
    ]));
    out
}

/// `text` as the one policy file of `work/policies/<name>`.
fn policies(work: &Path, name: &str, text: String) -> PathBuf {
    let dir = work.join("policies").join(name);
    write_policies(&dir, &[("api.toml".into(), text)], &[]);
    dir
}

/// `component` built as `work/<name>.wasm`.
pub(crate) fn built(work: &Path, name: &str, component: Component) -> PathBuf {
    component.build(&work.join(format!("{name}.wasm")))
}

/// `wasm` served on `target`, on `cpu`, under the host's default settings.
fn serve(
    work: &Path,
    target: Serving,
    wasm: &Path,
    cpu: Option<usize>,
) -> impl Fn() -> Target + 'static {
    served(work, "", target, wasm, ServeOptions::default().cpu(cpu))
}

/// Edge preflights: the WASIp3 gateway against the WASIp2 one on both hosts, against trivial
/// WASIp3 components and against the nginx recipe; `preflights_section` relies on this order.
fn preflights(
    settings: &Settings,
    work: &Path,
    small_p2: &Path,
    small_p3: &Path,
    nginx: &Rc<dyn Fn() -> Target>,
) -> Vec<Config> {
    let noop = built(work, "noop-p3", Component::package("bench-noop-p3"));
    let host_calls = built(
        work,
        "noop-p3-cors-logged",
        Component::package("bench-noop-p3").env("BENCH_MODE", "cors-logged"),
    );
    let on_server = settings.server_cpu();
    let p3_wasmtime = Serving::p3(Host::Wasmtime);
    let mut preflights = vec![
        Config::new(
            "trivial WASIp3 component, 204, wasmtime",
            serve(work, p3_wasmtime, &noop, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the trivial WASIp3 component"),
        Config::new(
            "trivial WASIp3 component making the WASIp3 gateway's host calls, wasmtime",
            serve(work, p3_wasmtime, &host_calls, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the WASIp3 host-calls component"),
        Config::new(
            "corsgate WASIp2 preflight, wasmtime",
            serve(work, Serving::p2(Host::Wasmtime), small_p2, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("WASIp2 on wasmtime"),
        Config::new(
            "corsgate WASIp3 preflight, wasmtime",
            serve(work, p3_wasmtime, small_p3, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("the WASIp3 gateway on wasmtime"),
        Config::new(
            "corsgate WASIp2 preflight, Spin 4.1",
            serve(work, Serving::p2(Host::Spin4), small_p2, on_server),
            "/api/x",
            Load::Preflight,
        )
        .short("WASIp2 on Spin 4.1"),
        Config::new(
            "corsgate WASIp3 preflight, Spin 4.1",
            serve(work, Serving::p3(Host::Spin4), small_p3, on_server),
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
    preflights
}

/// The app: alone on the server CPU, with the middleware in front (composed by `wac plug`
/// for wasmtime serve, chained by Spin 4.1's `dependencies.middleware`), and behind the
/// WASIp3 gateway over HTTP (then on the other CPU, beside wrk, as every upstream here);
/// `middleware_section` relies on this order.
fn middleware_and_app(
    settings: &Settings,
    work: &Path,
    small_policy: &str,
    middleware: &Path,
) -> Vec<Config> {
    let app = built(work, "example-p3-api", Component::package("example-p3-api"));
    let p3_wasmtime = Serving::p3(Host::Wasmtime);
    let (app_upstream, gateway_to_app) = gateway_to_app(settings, work, small_policy, &app);
    let on_server = settings.server_cpu();
    let behind_middleware = ServeOptions::default()
        .cpu(on_server)
        .middleware(middleware);
    let p3_spin4 = Serving::p3(Host::Spin4);
    let mut configs = vec![
        Config::new(
            "WASIp3 app alone, GET, wasmtime",
            serve(work, p3_wasmtime, &app, on_server),
            "/api/items",
            Load::Get,
        )
        .short("the app alone on wasmtime"),
        Config::new(
            "corsgate middleware composed with the app, GET of a path without a policy (passed through), wasmtime",
            served(work, "-middleware", p3_wasmtime, &app, behind_middleware.clone()),
            "/other",
            Load::Get,
        ),
        Config::new(
            "corsgate middleware composed with the app, GET, wasmtime",
            served(work, "-middleware", p3_wasmtime, &app, behind_middleware.clone()),
            "/api/items",
            Load::Get,
        )
        .short("the middleware on wasmtime"),
        Config::new(
            "corsgate middleware composed with the app, GET, CORSGATE_ACCESS_LOG=problems, wasmtime",
            served(
                work,
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
            serve(work, p3_wasmtime, &gateway_to_app, on_server),
            "/api/items",
            Load::Get,
        ),
        Config::new(
            "WASIp3 app alone, GET, Spin 4.1",
            serve(work, p3_spin4, &app, on_server),
            "/api/items",
            Load::Get,
        )
        .short("the app alone on Spin 4.1"),
        Config::new(
            "corsgate middleware chained by Spin 4.1 (dependencies.middleware), GET of a path without a policy (passed through)",
            served(work, "-middleware", p3_spin4, &app, behind_middleware.clone()),
            "/other",
            Load::Get,
        ),
        Config::new(
            "corsgate middleware chained by Spin 4.1 (dependencies.middleware), GET",
            served(work, "-middleware", p3_spin4, &app, behind_middleware),
            "/api/items",
            Load::Get,
        ),
    ];
    interleaved(settings, work, "middleware", &mut configs);
    drop(app_upstream);
    configs
}

/// The app served as an upstream on the client CPU, and the WASIp3 gateway built to forward
/// to it; the server must outlive the runs through that gateway.
fn gateway_to_app(
    settings: &Settings,
    work: &Path,
    small_policy: &str,
    app: &Path,
) -> (Server, PathBuf) {
    let app_upstream = Serving::p3(Host::Wasmtime).serve(
        app,
        &work.join("servers").join("app-upstream"),
        &ServeOptions::default().cpu(settings.client_cpu()),
    );
    let to_app = policies(
        work,
        "p3-to-app",
        small_policy.replace("http://{UPSTREAM}", &app_upstream.url("")),
    );
    let gateway = built(
        work,
        "corsgate-p3-to-app",
        Component::artifact(Artifact::P3, &to_app),
    );
    (app_upstream, gateway)
}

fn ratio(a: &Config, b: &Config) -> f64 {
    a.rps() / b.rps()
}

/// The preflights' table and what it shows.
fn preflights_section(preflights: &[Config]) -> Vec<String> {
    let pairs = reference(preflights, &[(1, 0), (3, 2), (5, 4), (6, 3)]);
    let mut out = vec![
        "### WASIp3 and WASIp2 side by side (each under its host's default settings)".to_string(),
        String::new(),
    ];
    out.extend(table(preflights, &pairs, true));
    out.push(String::new());
    out.push(format!(
        "WASIp3 gateway against WASIp2: {:.2}× the preflights on wasmtime serve, {:.2}× on Spin 4.1; {:.0} % of the trivial WASIp3 component making its host calls; the nginx recipe answers {:.2}× as many.",
        ratio(&preflights[3], &preflights[2]),
        ratio(&preflights[5], &preflights[4]),
        ratio(&preflights[3], &preflights[1]) * 100.0,
        ratio(&preflights[6], &preflights[3]),
    ));
    out
}

/// The middleware's table and what it costs.
fn middleware_section(configs: &[Config]) -> Vec<String> {
    let pairs = reference(configs, &[(1, 0), (2, 0), (3, 0), (4, 2), (6, 5), (7, 5)]);
    let mut out = vec![
        String::new(),
        "### corsgate as middleware (wasmtime serve and Spin 4.1)".into(),
        String::new(),
    ];
    out.extend(table(configs, &pairs, true));
    out.push(String::new());
    let cost = |of: usize, against: usize| (1.0 - ratio(&configs[of], &configs[against])) * 100.0;
    out.push(format!(
        "The CORS layer as middleware costs {:.0} % of the app's throughput on wasmtime serve, of which {:.0} % is the composition itself (a path without a policy goes straight to the app), and {:.0} % with `CORSGATE_ACCESS_LOG=problems`; on Spin 4.1 it costs {:.0} %, of which {:.0} % is the chaining itself. The middleware serves {:.2}× what the gateway forwarding to the same app over HTTP does.",
        cost(2, 0),
        cost(1, 0),
        cost(3, 0),
        cost(7, 5),
        cost(6, 5),
        ratio(&configs[2], &configs[4]),
    ));
    out
}

/// "Artifact sizes (bench policy compiled in): <name> N KiB, ...".
fn sizes(artifacts: &[(&str, &Path)]) -> String {
    let sizes: Vec<String> = artifacts
        .iter()
        .map(|(name, wasm)| {
            format!(
                "{name} {} KiB",
                std::fs::metadata(wasm).map_or(0, |m| m.len()) / 1024
            )
        })
        .collect();
    format!(
        "Artifact sizes (bench policy compiled in): {}.",
        sizes.join(", ")
    )
}
