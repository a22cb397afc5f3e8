//! Where a prebuilt artifact's first request goes, natively: reading its policy folder
//! (`read_policy_dir`), parsing and validating it (`load_policies`) and building the route table
//! (`RouteTable::new`), for folders of 5 and 100 routes of bench/policies/numbered.toml (the
//! folders corsgate-bench's `BENCH_ONLY=prebuilt` serves). Native code on a warm page cache: in
//! a component the same work runs compiled to wasm and reads the folder through the host's
//! WASI filesystem calls, so these figures split the in-wasm total, they do not add up to it.

use std::hint::black_box;
use std::time::Duration;

use corsgate_core::config::{load_policies, load_policy_folder, read_policy_dir};
use corsgate_core::RouteTable;
use corsgate_testkit::harness::work_dir;
use corsgate_testkit::world::write_numbered_policies;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn bench(c: &mut Criterion) {
    for routes in [5, 100] {
        let dir = work_dir(&format!("bench-policy-folder-{routes}"));
        write_numbered_policies(&dir, routes, "127.0.0.1:8080");
        let sources = read_policy_dir(&dir).expect("readable");
        let built: Vec<_> = load_policies(&sources)
            .expect("valid")
            .into_iter()
            .map(|l| l.route)
            .collect();
        let mut group = c.benchmark_group(format!("{routes} routes"));
        group.bench_function("read_policy_dir", |b| {
            b.iter(|| black_box(read_policy_dir(black_box(&dir))))
        });
        group.bench_function("load_policies", |b| {
            b.iter(|| black_box(load_policies(black_box(&sources)).map(|l| l.len())))
        });
        group.bench_function("RouteTable::new", |b| {
            b.iter_batched(
                || built.clone(),
                |routes| black_box(RouteTable::new(routes)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("load_policy_folder (all three)", |b| {
            b.iter(|| black_box(load_policy_folder(black_box(&dir))))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
