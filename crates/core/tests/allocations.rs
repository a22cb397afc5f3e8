//! The preflight path allocates nothing: every header value is precomputed in the policy or
//! borrowed from the request, from the bare decisions up to the request plan's edge answer
//! (its status, headers and body). Counted with a wrapping global allocator.

#![allow(unsafe_code)] // A GlobalAlloc is unsafe to implement; this one only counts and delegates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use corsgate_core::config::{route_from_toml, route_table_from_toml};
use corsgate_core::decision::{forwarded, preflight, CorsRequest};
use corsgate_core::{plan, Plan, RequestHead};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn decisions_do_not_allocate() {
    let text = "[route]\npath = \"/x/...\"\nupstream = \"https://api.example.com\"\n[cors]\nallow_origins = [\"https://app.example.com\", \"https://*.example.org\", \"http://localhost:*\"]\nallow_methods = [\"PUT\"]\nallow_headers = [\"authorization\", \"x-a\"]\nexpose_headers = [\"x-b\"]\nallow_credentials = true\nmax_age = 600\n";
    let route = route_from_toml(text).expect("valid");
    let table = route_table_from_toml(&[("x", text)]).expect("valid");
    let commas = ",".repeat(100_000);
    /// Name, Origin, Access-Control-Request-Method, Access-Control-Request-Headers.
    type Case<'a> = (&'a str, &'a [u8], &'a [u8], &'a [u8]);
    let cases: Vec<Case> = vec![
        (
            "allowed exact origin",
            b"https://app.example.com",
            b"PUT",
            b"authorization, x-a",
        ),
        (
            "allowed subdomain pattern",
            b"https://a.b.example.org",
            b"PUT",
            b"x-a",
        ),
        (
            "allowed port pattern",
            b"http://localhost:3000",
            b"PUT",
            b"",
        ),
        ("disallowed origin", b"https://evil.example", b"PUT", b"x-a"),
        (
            "disallowed method",
            b"https://app.example.com",
            b"TRACE",
            b"",
        ),
        (
            "disallowed header",
            b"https://app.example.com",
            b"PUT",
            b"x-nope",
        ),
        (
            "hostile request headers",
            b"https://app.example.com",
            b"PUT",
            commas.as_bytes(),
        ),
    ];
    for (name, origin, method, acrh) in cases {
        let origin = [origin];
        let method = [method];
        let acrh = [acrh];
        let request = CorsRequest {
            method: b"OPTIONS",
            origin: &origin,
            request_method: &method,
            request_headers: &acrh,
            request_private_network: &[],
        };
        let n = allocations_during(|| {
            std::hint::black_box(preflight(route.cors(), &request));
            std::hint::black_box(forwarded(
                route.cors(),
                &CorsRequest {
                    method: b"GET",
                    ..request
                },
            ));
            let head = RequestHead {
                path_and_query: "/x/users/1?page=2",
                cors: request,
            };
            let Plan::Answer(answer) = plan(&table, &head) else {
                panic!("case {name}: a preflight is answered at the edge");
            };
            std::hint::black_box(answer.status());
            std::hint::black_box(answer.body());
            for line in answer.headers() {
                std::hint::black_box(line);
            }
        });
        assert_eq!(n, 0, "case {name}: {n} allocations");
    }
}
