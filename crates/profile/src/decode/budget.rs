//! The memory budget decoders count against.
//!
//! Profiles come from strangers, and a few kilobytes can describe gigabytes:
//! a gzip bomb, a protobuf of a million empty strings, a pickle that shares
//! one huge traceback a million times. Limits on each thing counted (input
//! bytes, samples, frames) bound each amplification separately; the budget
//! bounds their sum. It is measured, not estimated: the binary counts what
//! its allocator hands out and gives the decoders a [`Budget`] that reads
//! the count, so that a decoder about to grow a buffer can refuse with an
//! error naming its file instead of growing past the limit. (The binary also
//! watches the count as a backstop, for the allocations no decoder sees.)

/// How many bytes a run may hold, and how to tell how many it holds now.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    limit: u64,
    in_use: fn() -> u64,
}

impl PartialEq for Budget {
    /// Budgets of the same limit (their measures cannot be compared).
    fn eq(&self, other: &Self) -> bool {
        self.limit == other.limit
    }
}

impl Eq for Budget {}

impl Default for Budget {
    /// No limit.
    fn default() -> Self {
        Budget::UNLIMITED
    }
}

/// The bytes a budget without a measure reports in use.
fn nothing() -> u64 {
    0
}

impl Budget {
    /// A budget that never refuses.
    pub const UNLIMITED: Budget = Budget {
        limit: u64::MAX,
        in_use: nothing,
    };

    /// A budget of `limit` bytes; `in_use` says how many are held now.
    pub fn new(limit: u64, in_use: fn() -> u64) -> Self {
        Budget { limit, in_use }
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How many more bytes may be taken now.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub((self.in_use)())
    }

    /// Refuses, with [`crate::Error::OverBudget`], to take `more` bytes
    /// beyond what is held now if that passes the limit.
    pub fn check(&self, more: u64) -> Result<(), crate::Error> {
        if more > self.remaining() {
            return Err(crate::Error::OverBudget { limit: self.limit });
        }
        Ok(())
    }
}

/// `bytes` for a message: `4 GiB`, `1.5 GiB`, `300 MiB`, `4096 bytes`.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{v:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_what_passes_its_limit() {
        fn half() -> u64 {
            500
        }
        let b = Budget::new(1000, half);
        assert_eq!(b.remaining(), 500);
        assert!(b.check(500).is_ok());
        let err = b.check(501).unwrap_err();
        assert!(
            matches!(err, crate::Error::OverBudget { limit: 1000 }),
            "{err}"
        );
        assert!(Budget::UNLIMITED.check(u64::MAX).is_ok());
        assert_eq!(Budget::default(), Budget::UNLIMITED);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human(4 << 30), "4 GiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(300 << 20), "300 MiB");
        assert_eq!(human(4096), "4 KiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
