//! The memory budget (`--max-memory`): what the whole run may hold.
//!
//! Every byte heapdiff allocates goes through a counting allocator (`cap`
//! around the system's), so the budget is measured, not estimated: both
//! profiles together, every decoder, the symbolizer's inflated debug
//! sections, an HTTP body, the diff and the graph all count against it.
//! Two things enforce it:
//!
//! - the decoders, given a [`heapdiff_profile::Budget`] that reads the
//!   count, refuse to grow an input buffer past it, with an error naming
//!   their file;
//! - a watchdog thread reads the count and ends the run (exit 2, one line
//!   naming the inputs and the limit) as soon as it passes the budget, for
//!   the allocations no decoder checks. It looks more often the closer the
//!   count is to the limit, so that memory cannot be written faster than
//!   it looks: what a run holds stays within the budget plus a few MiB.
//!
//! The allocator itself refuses to go past twice the budget, a last
//! resort that aborts the process.

use std::sync::Mutex;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The bytes held now: allocated, or resident if more (the allocator's own
/// bookkeeping and the memory it keeps after a free count too).
pub(crate) fn in_use() -> u64 {
    (ALLOCATOR.allocated() as u64).max(resident().unwrap_or(0))
}

/// The process's resident memory, from `/proc/self/statm` (Linux).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The default budget: a quarter of the machine's memory, at most 4 GiB
/// (4 GiB where the memory cannot be read).
pub(crate) fn default_limit() -> u64 {
    const CEILING: u64 = 4 << 30;
    physical_memory().map_or(CEILING, |m| (m / 4).min(CEILING))
}

/// The machine's memory, from `/proc/meminfo` (Linux).
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// What the run is reading, for the watchdog's message.
static WORK: Mutex<String> = Mutex::new(String::new());

/// Names what the run works on (its inputs), for the message that ends it
/// if it passes the budget.
pub(crate) fn working_on(what: String) {
    *WORK.lock().unwrap_or_else(|e| e.into_inner()) = what;
}

/// Enforces a budget of `limit` bytes for the rest of the run; returns the
/// decoders' view of it.
pub(crate) fn enforce(limit: u64) -> heapdiff_profile::Budget {
    let _ = ALLOCATOR.set_limit(usize::try_from(limit.saturating_mul(2)).unwrap_or(usize::MAX));
    std::thread::spawn(move || watch(limit));
    heapdiff_profile::Budget::new(limit, in_use)
}

/// The fastest memory is assumed to be written, in bytes per second (a
/// page-faulting `memset` on a fast machine does less).
const FASTEST_WRITES: f64 = 16e9;

/// How long the watchdog may sleep when `room` bytes are left: the time
/// the fastest writes take to fill it, within bounds.
fn nap(room: u64) -> Duration {
    Duration::from_secs_f64(room as f64 / FASTEST_WRITES)
        .clamp(Duration::from_micros(200), Duration::from_millis(50))
}

/// Watches the count; ends the run once it passes `limit`.
fn watch(limit: u64) {
    loop {
        let used = in_use();
        if used > limit {
            let work = WORK.lock().map(|w| w.clone()).unwrap_or_default();
            crate::live::remove_scratch();
            let over = heapdiff_profile::Error::OverBudget { limit };
            crate::output::error(&if work.is_empty() {
                over.to_string()
            } else {
                format!("{work}: {over}")
            });
            crate::output::timing("exit");
            std::process::exit(2);
        }
        std::thread::sleep(nap(limit - used));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_quarter_of_memory_at_most_4_gib() {
        let limit = default_limit();
        assert!(limit > 0 && limit <= 4 << 30, "{limit}");
        if let Some(m) = physical_memory() {
            assert_eq!(limit, (m / 4).min(4 << 30));
        }
    }

    #[test]
    fn the_watchdog_looks_more_often_near_the_limit() {
        assert_eq!(nap(0), Duration::from_micros(200));
        assert_eq!(nap(u64::MAX), Duration::from_millis(50));
        assert!(nap(16 << 20) < Duration::from_millis(2));
    }

    #[test]
    fn resident_memory_is_read() {
        let r = resident().expect("Linux");
        assert!(r > 1 << 20 && in_use() >= r, "{r}");
    }

    #[test]
    fn allocations_are_counted() {
        let block = vec![1u8; 64 << 20];
        assert!(in_use() >= 64 << 20);
        drop(block);
    }
}
