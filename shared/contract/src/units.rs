//! Figures as people read them: the unit a figure's key names, and the value printed with
//! that unit at a sensible precision (`1.4 ns`, `4.1 µs`, `1.2 M/s`, `2.0×`).

/// What a figure measures, read from the unit in its key (`…_us`, `ns_per_…`, `…_per_s`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// A time, stored in the unit named by the key.
    Time { per_second: f64 },
    /// Megabytes per second.
    MegabytesPerSecond,
    /// Something per second (messages, items).
    PerSecond,
    /// Microseconds per touched mebibyte.
    MicrosPerMib,
    /// A factor, such as a speed-up.
    Factor,
    /// Kibibytes of memory.
    Kib,
    /// A plain count or number.
    Plain,
}

impl Unit {
    /// The unit a figure's key names.
    pub fn of(key: &str) -> Unit {
        if key.contains("mb_per_s") {
            Unit::MegabytesPerSecond
        } else if key.ends_with("_per_s") {
            Unit::PerSecond
        } else if key.contains("_us_per_touched_mib") {
            Unit::MicrosPerMib
        } else if key.starts_with("ns_per_") || key.contains("_ns") {
            Unit::Time { per_second: 1e9 }
        } else if key.contains("_us") {
            Unit::Time { per_second: 1e6 }
        } else if key.contains("_ms") {
            Unit::Time { per_second: 1e3 }
        } else if key.ends_with("_s") {
            Unit::Time { per_second: 1.0 }
        } else if key.contains("_kib") {
            Unit::Kib
        } else if key.starts_with("speedup") || key.contains("_ratio") {
            Unit::Factor
        } else {
            Unit::Plain
        }
    }

    /// `value` (in the key's unit) with its unit, at three significant digits.
    pub fn show(self, value: f64) -> String {
        match self {
            Unit::Time { per_second } => seconds(value / per_second),
            Unit::MegabytesPerSecond => format!("{} MB/s", significant(value)),
            Unit::PerSecond => rate(value),
            Unit::MicrosPerMib => format!("{} µs/MiB", significant(value)),
            Unit::Factor => format!("{}×", significant(value)),
            Unit::Kib => kib(value),
            Unit::Plain => significant(value),
        }
    }
}

/// A figure named by its key, with its unit: `show("ns_per_put_get", 812.0)` is `812 ns`.
pub fn show(key: &str, value: f64) -> String {
    Unit::of(key).show(value)
}

/// A time in the unit that keeps it between 1 and 1000: `0.8 ns`, `41.2 µs`, `1.23 s`.
pub fn seconds(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, unit) = if magnitude == 0.0 || magnitude >= 1.0 {
        (value, "s")
    } else if magnitude >= 1e-3 {
        (value * 1e3, "ms")
    } else if magnitude >= 1e-6 {
        (value * 1e6, "µs")
    } else {
        (value * 1e9, "ns")
    };
    format!("{} {unit}", significant(scaled))
}

/// `512 KiB`, `3.40 MiB`, `1.20 GiB`.
pub fn kib(value: f64) -> String {
    if value.abs() >= 1024.0 * 1024.0 {
        format!("{} GiB", significant(value / (1024.0 * 1024.0)))
    } else if value.abs() >= 1024.0 {
        format!("{} MiB", significant(value / 1024.0))
    } else {
        format!("{} KiB", significant(value))
    }
}

/// `950/s`, `12.3 k/s`, `1.20 M/s`.
pub fn rate(value: f64) -> String {
    if value.abs() >= 1e6 {
        format!("{} M/s", significant(value / 1e6))
    } else if value.abs() >= 1e3 {
        format!("{} k/s", significant(value / 1e3))
    } else {
        format!("{}/s", significant(value))
    }
}

/// Three significant digits below 100, whole numbers above, without an exponent: `0.812`,
/// `8.12`, `81.2`, `812`, `8120`.
pub fn significant(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    // Far from 1 (the bounds of an interval from two runs can be): an exponent.
    if value != 0.0 && !(1e-4..1e7).contains(&value.abs()) {
        return format!("{value:.2e}");
    }
    // Rounded to three significant digits first, so that 9.999 is `10.0`, not `10.00`.
    // Whole numbers from 100 up keep every digit: a count of 98231 is not 98200.
    let value = if value == 0.0 || value.abs() >= 100.0 {
        value
    } else {
        let factor = 10f64.powi(2 - value.abs().log10().floor() as i32);
        (value * factor).round() / factor
    };
    let magnitude = value.abs();
    let decimals = if magnitude == 0.0 || magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        // 0.0123 → 4 decimals: two leading zeros after the point, then three digits.
        (2 - magnitude.log10().floor() as i32).clamp(0, 12) as usize
    };
    let text = format!("{value:.decimals$}");
    // `-0` reads as a sign error.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_key() {
        assert_eq!(show("ns_per_update_locked", 1.43), "1.43 ns");
        assert_eq!(show("channel_8b_round_trip_us", 4.1), "4.10 µs");
        assert_eq!(show("worker_start_join_us", 1234.0), "1.23 ms");
        assert_eq!(show("sequential_wall_s", 0.5), "500 ms");
        assert_eq!(show("concurrent_mb_per_s", 41.27), "41.3 MB/s");
        assert_eq!(show("channel_8b_msgs_per_s", 1_234_567.0), "1.23 M/s");
        assert_eq!(show("raw_os_us_per_touched_mib", 31.4), "31.4 µs/MiB");
        assert_eq!(show("speedup_2_workers", 1.93), "1.93×");
        assert_eq!(show("wakeup_latency_us_p99", 0.5), "500 ns");
        assert_eq!(show("lost_updates", 98231.0), "98231");
    }

    #[test]
    fn three_significant_digits() {
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(0.8123), "0.812");
        assert_eq!(significant(0.012345), "0.0123");
        assert_eq!(significant(8.123), "8.12");
        assert_eq!(significant(81.23), "81.2");
        assert_eq!(significant(812.3), "812");
        assert_eq!(significant(9.9999), "10.0");
        assert_eq!(significant(0.99999), "1.00");
        assert_eq!(significant(99.96), "100");
        assert_eq!(significant(1.234e22), "1.23e22");
        assert_eq!(significant(3.6e-81), "3.60e-81");
        assert_eq!(significant(1_234_567.0), "1234567");
        assert_eq!(significant(-2.5), "-2.50");
        assert_eq!(significant(-0.0000001), "-1.00e-7");
        assert_eq!(significant(-0.0), "0");
        assert_eq!(seconds(-0.0021), "-2.10 ms");
        assert_eq!(kib(3481.6), "3.40 MiB");
        assert_eq!(rate(950.0), "950/s");
    }
}
