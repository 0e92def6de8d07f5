//! The gzip level for the per-group part, chosen by measurement: size
//! against CPU for the large organisation (5,000 groups × 20 event types),
//! both formats, with the exposition's own compressor (flate2, miniz_oxide).
//! `cargo bench --bench gzip_levels` prints one line per level; `cargo test`
//! (no `--bench` argument) runs a small organisation, as a check that it
//! works, not the minutes the large one takes unoptimised.

use std::io::Write as _;
use std::time::{Duration, Instant};

use genesys_eventbridge_exporter::exposition::{Encoding, Format, to_string};

mod common;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let figures = match full {
        true => common::figures(5_000, 20),
        false => common::figures(50, 5),
    };
    let org = common::Org::new();
    for (name, format) in [("openmetrics", Format::OpenMetrics), ("text", Format::Text)] {
        org.serve(figures.clone());
        let plain = to_string(&org.scrape(format, Encoding::Identity));
        for level in [1, 3, 6, 9] {
            // The fastest of three runs: the machine is shared.
            let mut best = Duration::MAX;
            let mut size = 0;
            for _ in 0..3 {
                let started = Instant::now();
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                gz.write_all(plain.as_bytes()).unwrap();
                size = gz.finish().unwrap().len();
                best = best.min(started.elapsed());
            }
            println!(
                "{name} level {level}: {} bytes -> {size} bytes (1/{:.1}), {:.0} ms",
                plain.len(),
                plain.len() as f64 / size as f64,
                best.as_secs_f64() * 1000.0
            );
        }
    }
}
