//! Encoding a large snapshot (5,000 groups × 20 event types) once, and
//! serving it again from the snapshot's cached encoding; and a cached scrape
//! of a small organisation (3 × 5), plain and gzip, where the parts made per
//! scrape are most of the work.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use genesys_eventbridge_exporter::exposition::{Encoding, Format};

mod common;

fn exposition(c: &mut Criterion) {
    let figures = common::figures(5_000, 20);
    let org = common::Org::new();
    for (name, format) in [("openmetrics", Format::OpenMetrics), ("text", Format::Text)] {
        c.bench_function(&format!("render {name} 100k series, first scrape"), |b| {
            // One fresh snapshot at a time, made and dropped outside the
            // timing, so that only the encoding is measured.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    org.serve(figures.clone());
                    let started = Instant::now();
                    black_box(org.scrape(format, Encoding::Identity));
                    total += started.elapsed();
                }
                total
            })
        });
        org.serve(figures.clone());
        let cached = || org.scrape(format, Encoding::Identity);
        // The first scrape encodes; the benchmark measures the later ones.
        cached();
        c.bench_function(&format!("render {name} 100k series, cached"), |b| {
            b.iter(cached)
        });
    }
}

fn small_cached(c: &mut Criterion) {
    let org = common::Org::new();
    org.serve(common::figures(3, 5));
    for (name, encoding) in [("plain", Encoding::Identity), ("gzip", Encoding::Gzip)] {
        let cached = || org.scrape(Format::OpenMetrics, encoding);
        cached();
        c.bench_function(&format!("render openmetrics 3x5, cached, {name}"), |b| {
            b.iter(cached)
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = exposition, small_cached
}
criterion_main!(benches);
