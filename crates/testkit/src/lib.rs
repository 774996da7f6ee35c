//! Helpers shared by the test suites of several crates. A dev-dependency only: nothing here
//! ships in the binary. The `sink` feature adds [`sink`], an SMTP server for delivery tests.

#[cfg(feature = "sink")]
pub mod sink;

mod dns;

pub use dns::TestDns;

/// xorshift64: reproducible pseudo-randomness for fuzz-style test loops, with no dependency.
/// Not for anything that needs real randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced, since xorshift would stay at 0).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` must be at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounds_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.bytes(32), b.bytes(32));
        assert!((0..1000).all(|_| a.below(10) < 10));
        assert_ne!(Rng::new(0).next_u64(), 0);
    }
}
