//! Encoding a large snapshot (5,000 groups × 20 event types) once, and
//! serving it again from the snapshot's cached encoding.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use genesys_eventbridge_exporter::cache::Snapshot;
use genesys_eventbridge_exporter::exposition::{Encoding, Format, OwnSeries, ScrapeView, render};
use genesys_eventbridge_exporter::telemetry::Telemetry;

mod common;

const VIEW: ScrapeView = ScrapeView {
    data_age: Some(Duration::from_secs(5)),
    cooldown: None,
};

fn exposition(c: &mut Criterion) {
    let figures = common::figures(5_000, 20);
    let (own, telemetry) = (OwnSeries::default(), Telemetry::new());
    for (name, format) in [("openmetrics", Format::OpenMetrics), ("text", Format::Text)] {
        c.bench_function(&format!("render {name} 100k series, first scrape"), |b| {
            // One fresh snapshot at a time, made and dropped outside the
            // timing, so that only the encoding is measured.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let snapshot = Snapshot::new(figures.clone());
                    let started = Instant::now();
                    black_box(render(
                        format,
                        Encoding::Identity,
                        &own,
                        &telemetry,
                        VIEW,
                        Some(&snapshot),
                    ));
                    total += started.elapsed();
                }
                total
            })
        });
        let snapshot = Snapshot::new(figures.clone());
        render(
            format,
            Encoding::Identity,
            &own,
            &telemetry,
            VIEW,
            Some(&snapshot),
        );
        c.bench_function(&format!("render {name} 100k series, cached"), |b| {
            b.iter(|| {
                render(
                    format,
                    Encoding::Identity,
                    &own,
                    &telemetry,
                    VIEW,
                    Some(&snapshot),
                )
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = exposition
}
criterion_main!(benches);
