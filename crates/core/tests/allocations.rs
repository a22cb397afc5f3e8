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
    struct Case<'a> {
        name: &'static str,
        /// The one `Origin` line.
        origin: &'a [u8],
        /// The one `Access-Control-Request-Method` line.
        request_method: &'a [u8],
        /// The one `Access-Control-Request-Headers` line.
        request_headers: &'a [u8],
    }
    let cases: Vec<Case> = vec![
        Case {
            name: "allowed exact origin",
            origin: b"https://app.example.com",
            request_method: b"PUT",
            request_headers: b"authorization, x-a",
        },
        Case {
            name: "allowed subdomain pattern",
            origin: b"https://a.b.example.org",
            request_method: b"PUT",
            request_headers: b"x-a",
        },
        Case {
            name: "allowed port pattern",
            origin: b"http://localhost:3000",
            request_method: b"PUT",
            request_headers: b"",
        },
        Case {
            name: "disallowed origin",
            origin: b"https://evil.example",
            request_method: b"PUT",
            request_headers: b"x-a",
        },
        Case {
            name: "disallowed method",
            origin: b"https://app.example.com",
            request_method: b"TRACE",
            request_headers: b"",
        },
        Case {
            name: "disallowed header",
            origin: b"https://app.example.com",
            request_method: b"PUT",
            request_headers: b"x-nope",
        },
        Case {
            name: "hostile request headers",
            origin: b"https://app.example.com",
            request_method: b"PUT",
            request_headers: commas.as_bytes(),
        },
    ];
    for case in cases {
        let name = case.name;
        let origin = [case.origin];
        let method = [case.request_method];
        let acrh = [case.request_headers];
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
