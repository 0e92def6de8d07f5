//! The lag model on a large organisation: 5,000 groups × 20 event types.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use genesys_eventbridge_exporter::collectors::analytics::model;

mod common;

fn compute(c: &mut Criterion) {
    let rows = common::raw_rows(5_000, 20);
    c.bench_function("model::compute 100k rows", |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| model::compute(rows, common::WINDOW, &[], common::thresholds()),
            BatchSize::LargeInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = compute
}
criterion_main!(benches);
