//! Per-stage benchmarks on generated pairs: decompress, decode (each
//! format), symbolize (the C fixture), diff, and render (table, JSON, SVG),
//! with throughput in bytes of decompressed input.
//!
//! `cargo bench -p heapdiff-benchgen` runs them; CI only builds them
//! (`cargo bench --no-run`). End-to-end timings against `zcat` and pprof
//! are `scripts/bench.sh`.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heapdiff_benchgen::{Shape, folded_pair, jemalloc_pair, pprof_pair, tracemalloc_pair};
use heapdiff_diff::{Options, diff};
use heapdiff_report::{HeapFlameOptions, Inputs, TableOptions};

const STACKS: usize = 100_000;

fn inputs() -> Inputs {
    Inputs {
        before: "before".into(),
        after: "after".into(),
    }
}

fn decode_stages(c: &mut Criterion) {
    let shape = Shape::with_stacks(STACKS);
    let (_, gz) = pprof_pair(&shape);
    let raw = heapdiff_profile::gunzip(&gz).unwrap();
    let mut g = c.benchmark_group("decode");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("gunzip pprof", |b| {
        b.iter(|| heapdiff_profile::gunzip(black_box(&gz)).unwrap())
    });
    g.bench_function("pprof", |b| {
        b.iter(|| heapdiff_profile::decode(black_box(&raw)).unwrap())
    });
    let (_, jemalloc) = jemalloc_pair(&shape);
    g.throughput(Throughput::Bytes(jemalloc.len() as u64));
    g.bench_function("jemalloc heap_v2", |b| {
        b.iter(|| heapdiff_profile::decode(black_box(jemalloc.as_bytes())).unwrap())
    });
    let (_, tm) = tracemalloc_pair(&Shape::with_stacks(STACKS / 4));
    g.throughput(Throughput::Bytes(tm.len() as u64));
    g.bench_function("tracemalloc", |b| {
        b.iter(|| heapdiff_profile::decode(black_box(&tm)).unwrap())
    });
    let (_, folded) = folded_pair(&shape);
    g.throughput(Throughput::Bytes(folded.len() as u64));
    g.bench_function("folded", |b| {
        b.iter(|| heapdiff_profile::decode(black_box(folded.as_bytes())).unwrap())
    });
    g.finish();
}

fn diff_and_render(c: &mut Criterion) {
    let shape = Shape::with_stacks(STACKS);
    let (b, a) = pprof_pair(&shape);
    let bytes = (heapdiff_profile::gunzip(&b).unwrap().len()
        + heapdiff_profile::gunzip(&a).unwrap().len()) as u64;
    let before = heapdiff_profile::decode(&b).unwrap();
    let after = heapdiff_profile::decode(&a).unwrap();
    let mut g = c.benchmark_group("diff");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("aggregate + tree", |bench| {
        bench.iter(|| diff(black_box(&before), black_box(&after), &Options::default()).unwrap())
    });
    let d = diff(&before, &after, &Options::default()).unwrap();
    g.bench_function("render table", |bench| {
        bench.iter(|| {
            heapdiff_report::render_table(black_box(&d), &inputs(), &TableOptions::default())
        })
    });
    g.bench_function("render json", |bench| {
        bench.iter(|| heapdiff_report::render_json(black_box(&d), &inputs(), 20, &[]))
    });
    g.bench_function("render heap svg", |bench| {
        bench.iter(|| {
            heapdiff_report::render_heap_flamegraph(
                black_box(&d),
                &inputs(),
                &HeapFlameOptions::default(),
            )
            .unwrap()
        })
    });
    g.finish();
}

fn symbolize(c: &mut Criterion) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/c");
    let before = heapdiff_profile::open(&fixtures.join("jemalloc/before.heap")).unwrap();
    let after = heapdiff_profile::open(&fixtures.join("jemalloc/after.heap")).unwrap();
    let paths = heapdiff_symbolize::SearchPaths {
        binaries: vec![fixtures.join("leak")],
        ..Default::default()
    };
    let mut g = c.benchmark_group("symbolize");
    g.sample_size(10);
    g.bench_function("C fixture pair, fresh symbolizer", |bench| {
        bench.iter(|| {
            let mut s = heapdiff_symbolize::Symbolizer::new(paths.clone());
            let (mut b, mut a) = (before.clone(), after.clone());
            s.symbolize(&mut b, None, &heapdiff_symbolize::NoProgress);
            s.symbolize(&mut a, None, &heapdiff_symbolize::NoProgress);
            black_box((b, a))
        })
    });
    g.finish();
}

criterion_group!(benches, decode_stages, diff_and_render, symbolize);
criterion_main!(benches);
