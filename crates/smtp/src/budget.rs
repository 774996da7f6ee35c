//! The server-wide memory budget for messages in flight (`max_inflight_bytes`).
//!
//! Each session buffers its DATA in memory, up to `max_message_size`. With 1,000 sessions
//! and 25 MB messages that is 25 GB in the worst case, so the sessions share one
//! [`InflightBudget`]: before a message buffer grows, its session reserves the growth; when
//! the budget has no room left, the message is read to its end and discarded, and the
//! client gets `452 4.3.1` (and tries again later, RFC 5321 §4.5.3.1.10 / RFC 3463). While
//! the budget is spent, MAIL is refused with the same 452, so a client does not send a
//! message that cannot be kept. A [`Reservation`] gives its bytes back when it is dropped:
//! after the message's final reply, or when the connection goes away.
//!
//! This is plain shared accounting (one atomic counter), not I/O, so the sans-IO session
//! holds a handle and stays testable without a runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes that messages in flight may hold together, shared by every session of a server.
#[derive(Debug, Clone)]
pub struct InflightBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    used: AtomicUsize,
}

impl InflightBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> InflightBudget {
        InflightBudget {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// A budget that never runs out (a session on its own, tests).
    pub fn unlimited() -> InflightBudget {
        InflightBudget::new(usize::MAX)
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes reserved right now.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Bytes that can still be reserved.
    pub fn available(&self) -> usize {
        self.inner.limit.saturating_sub(self.in_use())
    }

    /// An empty reservation, to grow as a message arrives.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }

    /// Takes `bytes` from the budget if that many are left.
    fn try_take(&self, bytes: usize) -> bool {
        let limit = self.inner.limit;
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= limit)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.inner.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// Bytes one message holds from an [`InflightBudget`]; returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: InflightBudget,
    bytes: usize,
}

impl Reservation {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Holds `total` bytes in all: grows (if the budget has room; false otherwise, and
    /// nothing changes) or shrinks.
    pub fn resize(&mut self, total: usize) -> bool {
        if total > self.bytes {
            if !self.budget.try_take(total - self.bytes) {
                return false;
            }
        } else {
            self.budget.give_back(self.bytes - total);
        }
        self.bytes = total;
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_limit_and_give_back_on_drop() {
        let budget = InflightBudget::new(100);
        let mut a = budget.reservation();
        let mut b = budget.reservation();
        assert!(a.resize(60));
        assert!(!b.resize(41), "only 40 left");
        assert_eq!(b.bytes(), 0);
        assert!(b.resize(40));
        assert_eq!(budget.available(), 0);
        drop(a);
        assert_eq!(budget.in_use(), 40);
        assert!(b.resize(10));
        assert_eq!(budget.in_use(), 10);
        drop(b);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn unlimited_budget_does_not_overflow() {
        let budget = InflightBudget::unlimited();
        let mut a = budget.reservation();
        assert!(a.resize(usize::MAX - 1));
        assert!(!budget.reservation().resize(2));
    }
}
