//! Encoding a large snapshot (5,000 groups × 20 event types) once, and
//! serving it again from the snapshot's cached encoding; and a cached scrape
//! of a small organisation (3 × 5), plain and gzip, where the parts made per
//! scrape are most of the work.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use genesys_eventbridge_exporter::cache::Snapshot;
use genesys_eventbridge_exporter::exposition::{Encoding, Format, OwnSeries, ScrapeView, render};
use genesys_eventbridge_exporter::telemetry::Telemetry;

mod common;

const VIEW: ScrapeView = ScrapeView {
    data_age: Some(Duration::from_secs(5)),
    cooldown: None,
};

/// One scrape's body of a snapshot.
fn scrape(
    format: Format,
    encoding: Encoding,
    own: &OwnSeries,
    telemetry: &Telemetry,
    snapshot: &Snapshot,
) -> Vec<Bytes> {
    render(format, encoding, own, telemetry, VIEW, Some(snapshot))
}

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
                    black_box(scrape(
                        format,
                        Encoding::Identity,
                        &own,
                        &telemetry,
                        &snapshot,
                    ));
                    total += started.elapsed();
                }
                total
            })
        });
        let snapshot = Snapshot::new(figures.clone());
        let cached = || scrape(format, Encoding::Identity, &own, &telemetry, &snapshot);
        // The first scrape encodes; the benchmark measures the later ones.
        cached();
        c.bench_function(&format!("render {name} 100k series, cached"), |b| {
            b.iter(cached)
        });
    }
}

fn small_cached(c: &mut Criterion) {
    let snapshot = Snapshot::new(common::figures(3, 5));
    let (own, telemetry) = (OwnSeries::default(), Telemetry::new());
    for (name, encoding) in [("plain", Encoding::Identity), ("gzip", Encoding::Gzip)] {
        let cached = || scrape(Format::OpenMetrics, encoding, &own, &telemetry, &snapshot);
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
