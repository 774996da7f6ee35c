//! Queue ids: unique, sortable names for spooled messages, and the generator that hands them out.
//!
//! An id is 20 lowercase hex digits: 48 bits of Unix milliseconds and a 16-bit sequence (one
//! strictly increasing 64-bit counter, so ids from one process never repeat and sort in
//! acceptance order), then 16 random bits chosen when the spool is opened. The random tail
//! keeps ids distinct across restarts even when the clock steps back, which matters because the
//! id travels downstream as a de-duplication key (see the crate docs).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::SpoolError;

/// Number of hex digits in a queue id.
const LEN: usize = 20;

/// The name of one spooled message, also its file name and its log key (`queue_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(u128);

impl QueueId {
    /// Checks a string of exactly 20 lowercase hex digits and turns it into an id.
    pub fn parse(s: &str) -> Result<QueueId, SpoolError> {
        let ok = s.len() == LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let value = ok.then(|| u128::from_str_radix(s, 16).ok()).flatten();
        value.map(QueueId).ok_or_else(|| SpoolError::InvalidId {
            value: s.to_owned(),
        })
    }

    /// When the id was handed out, in Unix milliseconds (approximate under bursts, see module docs).
    pub fn unix_millis(self) -> u64 {
        (self.0 >> 32) as u64
    }

    /// The time-and-sequence part, which orders ids from one process.
    fn counter(self) -> u64 {
        (self.0 >> 16) as u64
    }

    fn from_parts(counter: u64, nonce: u16) -> QueueId {
        QueueId(u128::from(counter) << 16 | u128::from(nonce))
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:020x}", self.0)
    }
}

impl FromStr for QueueId {
    type Err = SpoolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QueueId::parse(s)
    }
}

impl serde::Serialize for QueueId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for QueueId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        QueueId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Hands out ids: lock-free, strictly increasing within the process.
#[derive(Debug)]
pub(crate) struct IdGen {
    /// `unix_ms << 16 | sequence` of the last id handed out.
    last: AtomicU64,
    nonce: u16,
}

impl IdGen {
    /// A generator whose ids all sort after `floor` (the largest id already in the spool).
    pub(crate) fn new(floor: Option<QueueId>) -> IdGen {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(now_ms());
        h.write_u32(std::process::id());
        IdGen {
            last: AtomicU64::new(floor.map_or(0, QueueId::counter)),
            nonce: h.finish() as u16,
        }
    }

    pub(crate) fn next(&self) -> QueueId {
        // 48 bits of milliseconds last until the year 10889.
        let now = (now_ms() & 0xFFFF_FFFF_FFFF) << 16;
        let step = |last: u64| now.max(last.wrapping_add(1));
        let prev = match self
            .last
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| Some(step(l)))
        {
            Ok(p) | Err(p) => p,
        };
        QueueId::from_parts(step(prev), self.nonce)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_its_text() {
        let id = IdGen::new(None).next();
        let text = id.to_string();
        assert_eq!(text.len(), 20);
        assert_eq!(QueueId::parse(&text).unwrap(), id);
    }

    #[test]
    fn id_rejects_wrong_length_case_and_signs() {
        for bad in [
            "",
            "0123",
            "0123456789ABCDEF0123",
            "+123456789abcdef0123",
            "0123456789abcdef01234",
            "0123456789abcdef012g",
        ] {
            assert!(QueueId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_increase_strictly_even_within_one_millisecond() {
        let g = IdGen::new(None);
        let ids: Vec<QueueId> = (0..100_000).map(|_| g.next()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_sort_after_the_floor_even_if_the_clock_is_behind() {
        let future = QueueId::from_parts(u64::MAX - 10, 0);
        let g = IdGen::new(Some(future));
        assert!(g.next() > future);
    }

    #[test]
    fn id_carries_its_creation_time() {
        let before = now_ms();
        let id = IdGen::new(None).next();
        assert!(id.unix_millis() >= before && id.unix_millis() <= now_ms() + 1);
    }
}
