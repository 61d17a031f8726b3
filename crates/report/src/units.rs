//! Human formatting of quantities: bytes in binary units, durations, counts
//! with thousands separators, percentages. Every renderer formats through
//! here so that the table, the SVG and the markdown agree.

/// Formats `v` in `unit` for people: `bytes` as B/KiB/MiB/GiB/TiB with one
/// decimal, `nanoseconds` as ns/µs/ms/s, anything else as a grouped integer
/// followed by the unit unless it is `count`. With `signed`, positive values
/// get a `+`.
///
/// ```
/// use heapdiff_report::units::format_value;
/// assert_eq!(format_value(1536, "bytes", true), "+1.5 KiB");
/// assert_eq!(format_value(-512, "bytes", true), "-512 B");
/// assert_eq!(format_value(12345, "count", false), "12,345");
/// assert_eq!(format_value(2_500_000, "nanoseconds", false), "2.5 ms");
/// ```
pub fn format_value(v: i64, unit: &str, signed: bool) -> String {
    let sign = sign(v, signed);
    let m = v.unsigned_abs();
    let body = match unit {
        "bytes" | "byte" | "B" => scaled(m, 1024, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]),
        "nanoseconds" | "nanosecond" | "ns" => time(m),
        "count" | "" => group(m),
        other => format!("{} {}", group(m), crate::escape::terminal(other)),
    };
    format!("{sign}{body}")
}

/// Formats a count with thousands separators (`+12,345`).
pub fn format_count(v: i64, signed: bool) -> String {
    format!("{}{}", sign(v, signed), group(v.unsigned_abs()))
}

/// Formats a fraction as a percentage with one decimal (`0.123` -> `12.3%`).
/// With `signed`, positive values get a `+`. Large values keep separators
/// (`+1,456.3%`).
pub fn format_percent(fraction: f64, signed: bool) -> String {
    let pct = fraction * 100.0;
    let rounded = format!("{:.1}", pct.abs());
    let (int, dec) = rounded.split_once('.').unwrap_or((&rounded, "0"));
    let int: u64 = int.parse().unwrap_or(u64::MAX);
    let negative = pct < 0.0 && rounded != "0.0";
    let sign = if negative {
        "-"
    } else if signed && rounded != "0.0" {
        "+"
    } else {
        ""
    };
    format!("{sign}{}.{dec}%", group(int))
}

/// The relative change from `before` to `after` as a fraction, or `None`
/// when `before` is zero.
pub fn relative_change(before: i64, after: i64) -> Option<f64> {
    (before != 0).then(|| (after as f64 - before as f64) / (before as f64).abs())
}

fn sign(v: i64, signed: bool) -> &'static str {
    if v < 0 {
        "-"
    } else if signed && v > 0 {
        "+"
    } else {
        ""
    }
}

fn scaled(m: u64, base: u64, names: &[&str]) -> String {
    if m < base {
        return format!("{m} {}", names[0]);
    }
    let mut value = m as f64;
    let mut i = 0;
    while value >= base as f64 && i + 1 < names.len() {
        value /= base as f64;
        i += 1;
    }
    // 1023.96 KiB would print as "1024.0 KiB": move up a unit instead.
    if format!("{value:.1}") == format!("{base}.0") && i + 1 < names.len() {
        value /= base as f64;
        i += 1;
    }
    format!("{value:.1} {}", names[i])
}

fn time(ns: u64) -> String {
    const STEPS: &[(u64, &str)] = &[(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs")];
    for &(scale, name) in STEPS {
        if ns >= scale {
            return format!("{:.1} {name}", ns as f64 / scale as f64);
        }
    }
    format!("{ns} ns")
}

fn group(m: u64) -> String {
    let digits = m.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time in nanoseconds since the Unix epoch, as `2026-12-07 10:00:00
/// UTC` (`?` for one no calendar holds).
pub fn format_time(nanos: i128) -> String {
    jiff::Timestamp::from_nanosecond(nanos)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(format_value(0, "bytes", true), "0 B");
        assert_eq!(format_value(1023, "bytes", false), "1023 B");
        assert_eq!(format_value(1024, "bytes", false), "1.0 KiB");
        assert_eq!(format_value(1_048_575, "bytes", false), "1.0 MiB");
        assert_eq!(format_value(3_484_624, "bytes", true), "+3.3 MiB");
        assert_eq!(format_value(-2_536_831, "bytes", true), "-2.4 MiB");
        assert_eq!(format_value(5 << 30, "bytes", false), "5.0 GiB");
        assert_eq!(format_value(i64::MIN, "bytes", true), "-8.0 EiB");
        assert_eq!(format_value(i64::MAX, "bytes", true), "+8.0 EiB");
    }

    #[test]
    fn counts_times_and_other_units() {
        assert_eq!(format_value(-1_234_567, "count", true), "-1,234,567");
        assert_eq!(format_value(999, "count", true), "+999");
        assert_eq!(format_value(1_500, "nanoseconds", false), "1.5 µs");
        assert_eq!(format_value(12, "nanoseconds", false), "12 ns");
        assert_eq!(format_value(3_000_000_000, "nanoseconds", true), "+3.0 s");
        assert_eq!(format_value(4200, "widgets", false), "4,200 widgets");
        assert_eq!(format_count(12345, true), "+12,345");
        assert_eq!(format_count(0, true), "0");
    }

    #[test]
    fn percentages() {
        assert_eq!(format_percent(0.6202, false), "62.0%");
        assert_eq!(format_percent(14.563, true), "+1,456.3%");
        assert_eq!(format_percent(-0.25, true), "-25.0%");
        assert_eq!(format_percent(-0.0001, true), "0.0%");
        assert_eq!(format_percent(0.0, true), "0.0%");
        assert_eq!(relative_change(0, 5), None);
        assert_eq!(relative_change(200, 300), Some(0.5));
        assert_eq!(relative_change(-100, 0), Some(1.0));
    }
}
