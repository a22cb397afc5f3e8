//! corsgate's decisions against tower-http's `CorsLayer`, configured equivalently, side by side
//! in one run (ratios, since machines are noisy).
//!
//! corsgate is measured twice: the bare decision (what the component calls), and the decision
//! plus building an `http::HeaderMap` from it, which is what tower-http's number includes.
//! tower-http's request is built outside the timed routine (`iter_batched`).

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use corsgate_core::config::route_from_toml;
use corsgate_core::decision::{forwarded, preflight, CorsRequest};
use corsgate_core::Route;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response};
use tower::{Service, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use corsgate_testkit::expect::APP;

fn origins(n: usize) -> Vec<String> {
    let mut list: Vec<String> = (0..n.saturating_sub(1))
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    list.push(APP.to_string());
    list
}

fn corsgate_route(origins: &[String]) -> Route {
    let list: Vec<String> = origins.iter().map(|o| format!("{o:?}")).collect();
    let text = format!(
        "[route]\npath = \"/x/...\"\nupstream = \"https://api.example.com\"\n[cors]\nallow_origins = [{}]\nallow_methods = [\"GET\", \"POST\", \"PUT\", \"DELETE\"]\nallow_headers = [\"authorization\", \"content-type\"]\nexpose_headers = [\"x-request-id\"]\nallow_credentials = true\nmax_age = 600\n",
        list.join(", ")
    );
    route_from_toml(&text).expect("valid")
}

/// The inner service: answers every request with an empty 200.
type Inner = fn(Request<()>) -> std::future::Ready<Result<Response<()>, Infallible>>;
type Svc = tower_http::cors::Cors<tower::util::ServiceFn<Inner>>;

fn tower_service(origins: &[String]) -> Svc {
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            origins
                .iter()
                .map(|o| HeaderValue::from_str(o).expect("origin")),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            HeaderName::from_static("authorization"),
            HeaderName::from_static("content-type"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    let inner: Inner = |_| std::future::ready(Ok(Response::new(())));
    tower::ServiceBuilder::new()
        .layer(layer)
        .service(tower::service_fn(inner))
}

fn tower_request(method: &str, origin: &str, acrh: Option<&str>) -> Request<()> {
    let mut builder = Request::builder()
        .method(method)
        .uri("/x/users")
        .header("origin", origin);
    if method == "OPTIONS" {
        builder = builder.header("access-control-request-method", "PUT");
    }
    if let Some(acrh) = acrh {
        builder = builder.header("access-control-request-headers", acrh);
    }
    builder.body(()).expect("request")
}

fn to_header_map<'v>(headers: impl Iterator<Item = (&'static str, &'v [u8])>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_bytes(value).expect("value"),
        );
    }
    map
}

fn bench(c: &mut Criterion) {
    let hostile_acrh = format!("{}content-type", "a,".repeat(32 * 1024));
    let cases: Vec<(&str, usize, &str, &str, Option<&str>)> = vec![
        (
            "preflight allowed",
            3,
            "OPTIONS",
            APP,
            Some("authorization,content-type"),
        ),
        (
            "preflight disallowed",
            3,
            "OPTIONS",
            "https://evil.example",
            Some("authorization"),
        ),
        ("actual request", 3, "GET", APP, None),
        (
            "1000 origins hit",
            1000,
            "OPTIONS",
            APP,
            Some("content-type"),
        ),
        (
            "1000 origins miss",
            1000,
            "OPTIONS",
            "https://evil.example",
            Some("content-type"),
        ),
        (
            "hostile ACRH",
            3,
            "OPTIONS",
            APP,
            Some(hostile_acrh.as_str()),
        ),
    ];
    for (name, n, method, origin, acrh) in cases {
        let list = origins(n);
        let route: &'static Route = Box::leak(Box::new(corsgate_route(&list)));
        let origin_line: &'static [&'static [u8]] = Box::leak(
            vec![&*Box::leak(origin.as_bytes().to_vec().into_boxed_slice())].into_boxed_slice(),
        );
        let acrh_line: &'static [&'static [u8]] = match acrh {
            Some(v) => Box::leak(
                vec![&*Box::leak(v.as_bytes().to_vec().into_boxed_slice())].into_boxed_slice(),
            ),
            None => &[],
        };
        let request = CorsRequest {
            method: if method == "OPTIONS" {
                b"OPTIONS"
            } else {
                b"GET"
            },
            origin: origin_line,
            request_method: if method == "OPTIONS" { &[b"PUT"] } else { &[] },
            request_headers: acrh_line,
            request_private_network: &[],
        };
        let mut group = c.benchmark_group(name);
        let decide = move || {
            if method == "OPTIONS" {
                preflight(route.cors(), black_box(&request)).headers
            } else {
                forwarded(route.cors(), black_box(&request)).headers
            }
        };
        group.bench_function("corsgate", |b| b.iter(|| black_box(decide())));
        group.bench_function("corsgate + HeaderMap", |b| {
            b.iter(|| black_box(to_header_map(decide().iter())))
        });
        let mut service = tower_service(&list);
        group.bench_function("tower-http CorsLayer", |b| {
            b.iter_batched(
                || tower_request(method, origin, acrh),
                |req| {
                    let svc = service.ready_now();
                    black_box(futures_executor::block_on(svc.call(req)).expect("infallible"))
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

trait ReadyNow {
    fn ready_now(&mut self) -> &mut Self;
}

impl<S: Service<Request<()>> + Unpin> ReadyNow for S {
    /// `CorsLayer` over a `service_fn` is always ready; poll it once as tower requires.
    fn ready_now(&mut self) -> &mut Self {
        futures_executor::block_on(ServiceExt::<Request<()>>::ready(self))
            .ok()
            .expect("always ready")
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
