//! Gauge families written sample by sample, byte for byte as the encoder
//! writes them in either format (the tests hold them to that): the encoder's
//! generic path, about 150 ns a sample, was most of a large organisation's
//! query time (200,000 samples). Used for the per-group series, whose
//! numbers make the bulk of a response.

use super::Format;
use super::family::{Descriptor, Metric, encode};

/// The longest label value taken from upstream, in bytes: each is written
/// into several samples per format, so that an upstream of long distinct
/// names would otherwise multiply its size in memory; real names are a few
/// dozen bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// One gauge family: HELP and TYPE from the encoder, then the samples,
/// `name{key="value",...} value`, written directly. Nothing without samples.
pub fn gauge_family<'a, const N: usize>(
    out: &mut String,
    format: Format,
    m: &Metric,
    samples: impl IntoIterator<Item = ([&'a str; N], f64)>,
) {
    gauge_family_recording(out, format, m, samples, None);
}

/// [`gauge_family`], noting in `labels` where each sample's label set
/// (`{...} `, between the name and the value) was written.
pub fn gauge_family_recording<'a, const N: usize>(
    out: &mut String,
    format: Format,
    m: &Metric,
    samples: impl IntoIterator<Item = ([&'a str; N], f64)>,
    mut labels: Option<&mut Vec<std::ops::Range<usize>>>,
) {
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return;
    }
    let (name, keys) = (m.name, m.labels);
    assert_eq!(
        keys.len(),
        N,
        "{name}: label values for every declared label"
    );
    out.push_str(&encode(format, Descriptor::of(m)));
    // The constant text between the label values, made once per family:
    // `name{k1="`, `",k2="`, ..., and `"} ` before the value.
    let joints: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| match i {
            0 => format!("{name}{{{key}=\""),
            _ => format!("\",{key}=\""),
        })
        .collect();
    let before_value = if N == 0 { " " } else { "\"} " };
    for (values, value) in samples {
        let start = out.len() + name.len();
        if N == 0 {
            out.push_str(name);
        }
        for (joint, label) in joints.iter().zip(values) {
            out.push_str(joint);
            escape_label_value(out, label);
        }
        out.push_str(before_value);
        if let Some(labels) = labels.as_deref_mut() {
            labels.push(start..out.len());
        }
        write_value(out, format, value);
    }
}

/// A gauge value and the line's end, as the encoder prints them.
pub fn write_value(out: &mut String, format: Format, value: f64) {
    // Whole numbers (event counts, flags) as the encoder prints them, `12.0`,
    // by the much cheaper integer formatting; -0.0 keeps its sign below.
    let whole = value as i64;
    if whole as f64 == value && value.abs() < 1e15 && (value != 0.0 || value.is_sign_positive()) {
        out.push_str(itoa::Buffer::new().format(whole));
        out.push_str(".0\n");
        return;
    }
    if let Some(thousandths) = thousandths(value) {
        out.push_str(itoa::Buffer::new().format(thousandths / 1000));
        out.push('.');
        // The fraction's digits up to its last non-zero one, the shortest.
        let (mut rest, mut unit) = (thousandths % 1000, 100);
        while rest != 0 {
            out.push(char::from(b'0' + (rest / unit) as u8));
            (rest, unit) = (rest % unit, unit / 10);
        }
        out.push('\n');
        return;
    }
    let mut digits = dtoa::Buffer::new();
    out.push_str(if value.is_finite() {
        digits.format_finite(value)
    } else {
        match format {
            Format::OpenMetrics => digits.format(value),
            Format::Text if value.is_nan() => "NaN",
            Format::Text if value > 0.0 => "+Inf",
            Format::Text => "-Inf",
        }
    });
    out.push('\n');
}

/// `value` as a whole number of thousandths, when those are exactly the
/// digits the encoder writes: latencies are milliseconds written as seconds,
/// and integer formatting costs a fraction of float formatting. The
/// encoder's algorithm (Grisu2) writes the fewest digits within the value's
/// rounding interval, narrowed by its own rounding error of a few parts in
/// 2^64. A value within 63/64 of half an ulp of `n / 1000` has that decimal
/// well inside the narrowed interval; below 2^33 the interval is far
/// narrower than a thousandth, so no other decimal as short lies in it.
/// Anything else is left to the encoder's algorithm.
fn thousandths(value: f64) -> Option<u64> {
    if !(1e-3..8_589_934_592.0).contains(&value) {
        return None;
    }
    let bits = value.to_bits();
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // A power of two has a lopsided interval: left to the encoder.
    if mantissa == 1 << 52 {
        return None;
    }
    // value = mantissa / 2^shift, shift between 20 and 62 in this range.
    let shift = 1075 - ((bits >> 52) & 0x7ff) as u32;
    let scaled = 1000 * u128::from(mantissa);
    let n = (scaled + (1 << (shift - 1))) >> shift;
    // 1000 × value - n, in units of 2^-shift (one ulp of the value).
    let off = scaled.abs_diff(n << shift);
    // |value - n/1000| <= ulp/2 × 63/64, that is off/1000 <= 63/128.
    (off <= 492 && !n.is_multiple_of(1000)).then_some(n as u64)
}

/// Backslash, double quote and newline escaped, as both formats want.
fn escape_label_value(out: &mut String, value: &str) {
    // A fold rather than `any`: no early exit, so the check vectorises.
    let special = value
        .bytes()
        .fold(false, |found, b| found | matches!(b, b'\\' | b'"' | b'\n'));
    if !special {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::family::gauges;
    use crate::exposition::{Kind, Scope};
    use prometheus_client::collector::Collector;
    use prometheus_client::encoding::DescriptorEncoder;
    use std::fmt;

    const fn test_metric(help: &'static str, labels: &'static [&'static str]) -> Metric {
        Metric {
            name: "x_seconds",
            kind: Kind::Gauge,
            help,
            labels,
            scope: Scope::Group,
        }
    }
    const ODD: Metric = test_metric(
        "Help \\ with \"odd\" text\n.",
        &["consumer_group", "event_type"],
    );
    const ONE: Metric = test_metric("Help.", &["consumer_group"]);
    const NONE: Metric = test_metric("Help.", &[]);
    const ANY: Metric = test_metric("Help.", &["a"]);

    /// A gauge family written by the encoder itself, as the reference.
    #[derive(Debug)]
    struct Reference(Vec<([(&'static str, String); 2], f64)>);

    impl Collector for Reference {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &ODD,
                self.0.iter().map(|([(k1, v1), (k2, v2)], value)| {
                    ([(*k1, v1.as_str()), (*k2, v2.as_str())], *value)
                }),
            )
        }
    }

    #[derive(Debug)]
    struct Reference1(Vec<(String, f64)>);

    impl Collector for Reference1 {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &ONE,
                self.0
                    .iter()
                    .map(|(v, x)| ([("consumer_group", v.as_str())], *x)),
            )
        }
    }

    #[derive(Debug)]
    struct Reference0(Vec<f64>);

    impl Collector for Reference0 {
        fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
            gauges(
                &mut e,
                &NONE,
                self.0.iter().map(|x| ([] as [(&str, &str); 0], *x)),
            )
        }
    }

    #[test]
    fn samples_are_written_exactly_as_the_encoder_writes_them() {
        let names = [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "ünïcødé ☃",
            "",
            "all \\\"\n of them\\",
        ];
        let values = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.1,
            1234.0,
            -1234.0,
            999_999_999_999_999.0,
            4503599627370497.0,
            1e15,
            1e16,
            1e21,
            1.5e-7,
            12345.678,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut samples = Vec::new();
        for (i, name) in names.iter().enumerate() {
            for (j, value) in values.iter().enumerate() {
                let event_type = names[(i + j) % names.len()];
                samples.push((
                    [
                        ("consumer_group", name.to_string()),
                        ("event_type", event_type.to_string()),
                    ],
                    *value,
                ));
            }
        }
        for format in [Format::OpenMetrics, Format::Text] {
            let expected = encode(format, Reference(samples.clone()));
            let mut written = String::new();
            gauge_family(
                &mut written,
                format,
                &ODD,
                samples
                    .iter()
                    .map(|([(_, v1), (_, v2)], value)| ([v1.as_str(), v2.as_str()], *value)),
            );
            assert_eq!(written, expected, "{format:?}");

            // One label, and none.
            let one = Reference1(
                samples
                    .iter()
                    .map(|([(_, v), _], x)| (v.clone(), *x))
                    .collect(),
            );
            let mut written = String::new();
            gauge_family(
                &mut written,
                format,
                &ONE,
                one.0.iter().map(|(v, x)| ([v.as_str()], *x)),
            );
            assert_eq!(written, encode(format, one), "{format:?}");
            let none = Reference0(values.to_vec());
            let mut written = String::new();
            gauge_family(&mut written, format, &NONE, none.0.iter().map(|x| ([], *x)));
            assert_eq!(written, encode(format, none), "{format:?}");

            let mut empty = String::new();
            gauge_family::<1>(&mut empty, format, &ANY, []);
            assert_eq!(empty, "");
        }
    }

    /// Thousandths written by integer formatting are exactly what the
    /// encoder's float formatting writes: every multiple of a thousandth up
    /// to 200, spread ones up to the path's bound with their neighbouring
    /// floats, and values that are no thousandths at all.
    #[test]
    fn thousandths_are_written_as_the_float_formatting_writes_them() {
        // Whether the integer path took it.
        let check = |value: f64| {
            let mut written = String::new();
            write_value(&mut written, Format::OpenMetrics, value);
            let expected = format!("{}\n", dtoa::Buffer::new().format_finite(value));
            assert_eq!(written, expected, "{value:e} ({:#x})", value.to_bits());
            thousandths(value).is_some()
        };
        let taken = (1..=200_000u32)
            .filter(|&n| check(f64::from(n) / 1000.0))
            .count();
        assert!(taken > 195_000, "{taken}");
        // A fixed generator (SplitMix64), so that a failure repeats.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for _ in 0..40_000 {
            // Up to past the path's bound of 2^33 seconds.
            let n = next() % 10_000_000_000_000;
            let value = n as f64 / 1000.0;
            for d in [-2i64, -1, 0, 1, 2] {
                check(f64::from_bits(value.to_bits().wrapping_add_signed(d)));
            }
            // Merged latencies: event-weighted means of milliseconds.
            let (a, b) = ((next() % 50_000) as f64, (next() % 50_000) as f64 + 1.0);
            let (x, y) = ((next() % 60_000) as f64, (next() % 60_000) as f64);
            check((x * a + y * b) / (a + b) / 1000.0);
            // Any float from about 1e-5 to about 1e12.
            let bits = (next() & ((1 << 52) - 1)) | ((1006 + next() % 50) << 52);
            check(f64::from_bits(bits));
        }
        for value in [
            1e-3,
            0.5,
            0.999_999,
            2.0,
            0.1 + 0.2,
            8_589_934_591.999,
            8_589_934_592.001,
        ] {
            check(value);
        }
    }
}
