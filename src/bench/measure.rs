//! Measuring tools shared by the benchmarks: resident memory from /proc,
//! latency histograms, and human units.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Resident set size of this process, in bytes (0 if /proc is missing).
pub fn rss() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

/// Peak resident set size since the last [`reset_peak`] (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// Reset the peak resident set size to the current one (Linux 4.0+).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Give freed heap memory back to the system, so that the next
/// allocations show in the resident set size instead of reusing pages
/// freed by an earlier measurement.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A histogram of durations in nanoseconds, 1 ns to 100 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

pub fn record(histogram: &mut Histogram<u64>, took: Duration) {
    histogram.saturating_record(took.as_nanos().min(u128::from(u64::MAX)) as u64);
}

/// The `q` quantile in microseconds.
pub fn quantile_us(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64 / 1000.0
}

/// The median of some samples (0 for none): the reports' one median
/// ([`crate::report::common::median_f64`]), so a bench and a report never
/// disagree on what a median of an even count is.
pub fn median(samples: Vec<f64>) -> f64 {
    crate::report::common::median_f64(samples).unwrap_or(0.0)
}

/// Bytes per second as MB/s or GB/s (decimal).
pub fn rate_bytes(per_second: f64) -> String {
    if per_second >= 1e9 { format!("{:.2} GB/s", per_second / 1e9) } else { format!("{:.0} MB/s", per_second / 1e6) }
}

/// A count per second, e.g. "48.2k msg/s".
pub fn rate(per_second: f64, unit: &str) -> String {
    if per_second >= 1e6 {
        format!("{:.2}M {unit}/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1}k {unit}/s", per_second / 1e3)
    } else {
        format!("{per_second:.0} {unit}/s")
    }
}

/// Bytes in B, kB or MB (decimal; kB = 1000 bytes).
pub fn bytes(n: f64) -> String {
    if n.abs() >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n.abs() >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n:.0} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_and_grows_when_touched() {
        let before = rss();
        assert!(before > 0);
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = rss();
        assert!(after >= before + (32 << 20), "{before} -> {after}");
        assert!(peak_rss() >= after);
        drop(block);
    }

    #[test]
    fn quantiles_and_units() {
        let mut h = histogram();
        for us in 1..=100u64 {
            record(&mut h, Duration::from_micros(us));
        }
        let p50 = quantile_us(&h, 0.5);
        assert!((49.0..=51.0).contains(&p50), "{p50}");
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(rate_bytes(2.5e9), "2.50 GB/s");
        assert_eq!(rate(48_200.0, "msg"), "48.2k msg/s");
        assert_eq!(bytes(16_384.0), "16.4 kB");
    }
}
