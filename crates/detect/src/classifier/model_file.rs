//! Reading and writing [`Model`]s: a small, checksummed little-endian format.
//!
//! Loading treats the file as hostile: every field is validated, errors are typed
//! ([`ModelError`]), nothing panics, and memory grows only with the bytes actually read (the
//! dense weight table is allocated only once the whole file has passed its checks).
//!
//! # File format (all integers and floats little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 6 | magic `SGCLF\x01` |
//! | 6 | 2 | format version (`u16`, currently 1) |
//! | 8 | 4 | feature-extractor version (`u32`, must equal [`EXTRACTOR_VERSION`]) |
//! | 12 | 1 | bits (`u8`, `MIN_BITS..=MAX_BITS`) |
//! | 13 | 3 | reserved, zero |
//! | 16 | 8 | malicious examples seen (`u64`) |
//! | 24 | 8 | benign examples seen (`u64`) |
//! | 32 | 4 | bias (`f32`, finite, `|bias| ≤ 1e6`) |
//! | 36 | 4 | entry count `n` (`u32`, at most `2^bits`) |
//! | 40 | 8·n | entries: index (`u32`, `< 2^bits`, strictly increasing), weight (`f32`, nonzero, `|w| ≤ 1e6`) |
//! | 40+8n | 8 | xxh3-64 of every preceding byte |
//!
//! Nothing may follow the checksum.

use std::io::{self, Read, Write};

use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

use super::features::{EXTRACTOR_VERSION, MAX_BITS, MIN_BITS};
use super::model::Model;

/// First bytes of every model file.
pub const MAGIC: [u8; 6] = *b"SGCLF\x01";
/// Version of the file layout written by [`Model::save`].
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 40;
/// Largest |weight| or |bias| accepted; trained weights stay far below, and the bound keeps
/// every sum of weights finite.
const MAX_ABS_WEIGHT: f32 = 1.0e6;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The reader failed for a reason other than ending early.
    #[error("cannot read model")]
    Io(#[source] io::Error),
    /// The data ended before the structure it announced.
    #[error("model file is truncated")]
    Truncated,
    /// The file does not start with `SGCLF\x01`.
    #[error("not a spearguard classifier model (bad magic)")]
    BadMagic,
    /// The file layout version is not one this build reads.
    #[error("unsupported model format version {found} (expected {FORMAT_VERSION})")]
    UnsupportedFormat {
        /// Version found in the file.
        found: u16,
    },
    /// The model was trained with other tokenisation rules, so its ids mean other tokens.
    #[error("model was trained with feature extractor version {found}, this build uses {expected}")]
    ExtractorMismatch {
        /// Version found in the file.
        found: u32,
        /// Version of this build's extractor.
        expected: u32,
    },
    /// `bits` is outside `MIN_BITS..=MAX_BITS`.
    #[error("model feature space of {bits} bits is out of range")]
    BadBits {
        /// Value found in the file.
        bits: u8,
    },
    /// Reserved header bytes are not zero.
    #[error("model header has nonzero reserved bytes")]
    Reserved,
    /// The bias is NaN, infinite or beyond ±1e6.
    #[error("model bias is not a finite number within ±1e6")]
    BadBias,
    /// More entries than the feature space has slots.
    #[error("model announces {count} entries for a {bits}-bit feature space")]
    TooManyEntries {
        /// Entry count found in the file.
        count: u32,
        /// Feature-space size found in the file.
        bits: u8,
    },
    /// An entry's index is at least `2^bits`.
    #[error("model entry index {index} is outside the {bits}-bit feature space")]
    IndexOutOfRange {
        /// Offending index.
        index: u32,
        /// Feature-space size found in the file.
        bits: u8,
    },
    /// Entry indices are not strictly increasing.
    #[error("model entry index {index} is not above the previous one")]
    Unsorted {
        /// Offending index.
        index: u32,
    },
    /// A weight is NaN, infinite, zero or beyond ±1e6.
    #[error("model weight for index {index} is not a nonzero number within ±1e6")]
    BadWeight {
        /// Index of the offending entry.
        index: u32,
    },
    /// The checksum does not match the content.
    #[error("model checksum mismatch")]
    Checksum,
    /// Bytes follow the checksum.
    #[error("model file has trailing data after the checksum")]
    TrailingData,
}

impl Model {
    /// Writes the model in the format documented at the top of this module.
    pub fn save(&self, mut w: impl Write) -> io::Result<()> {
        let entries = self.entries();
        let mut buf = Vec::with_capacity(HEADER_LEN + entries.len() * 8 + 8);
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        buf.extend_from_slice(&EXTRACTOR_VERSION.to_le_bytes());
        buf.extend_from_slice(&[self.bits(), 0, 0, 0]);
        buf.extend_from_slice(&self.malicious().to_le_bytes());
        buf.extend_from_slice(&self.benign().to_le_bytes());
        buf.extend_from_slice(&self.bias().to_le_bytes());
        let count = u32::try_from(entries.len()).map_err(io::Error::other)?;
        buf.extend_from_slice(&count.to_le_bytes());
        for (index, weight) in entries {
            buf.extend_from_slice(&index.to_le_bytes());
            buf.extend_from_slice(&weight.to_le_bytes());
        }
        let checksum = xxh3_64(&buf);
        buf.extend_from_slice(&checksum.to_le_bytes());
        w.write_all(&buf)
    }

    /// Reads and validates a model; memory grows only with the bytes actually read.
    pub fn load(r: impl Read) -> Result<Model, ModelError> {
        let mut r = Checked {
            inner: r,
            hasher: Xxh3Default::new(),
        };
        let mut bytes = [0u8; HEADER_LEN];
        r.read_exact(&mut bytes)?;
        let header = Header::parse(&bytes)?;
        let entries = read_entries(&mut r, header.count, header.bits)?;
        let expected = r.hasher.digest();
        let mut tail = [0u8; 8];
        r.inner.read_exact(&mut tail).map_err(read_error)?;
        if u64::from_le_bytes(tail) != expected {
            return Err(ModelError::Checksum);
        }
        let mut probe = [0u8; 1];
        loop {
            match r.inner.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => return Err(ModelError::TrailingData),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ModelError::Io(e)),
            }
        }
        let Header {
            bits,
            malicious,
            benign,
            bias,
            ..
        } = header;
        Ok(Model::from_entries(bits, malicious, benign, bias, &entries))
    }
}

/// The validated fixed-size header.
struct Header {
    bits: u8,
    malicious: u64,
    benign: u64,
    bias: f32,
    count: u32,
}

impl Header {
    fn parse(header: &[u8; HEADER_LEN]) -> Result<Header, ModelError> {
        let field = |at: usize, len: usize| header.get(at..at + len).unwrap_or_default();
        if field(0, 6) != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let format = u16::from_le_bytes([header[6], header[7]]);
        if format != FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormat { found: format });
        }
        let extractor = le_u32(field(8, 4));
        if extractor != EXTRACTOR_VERSION {
            let expected = EXTRACTOR_VERSION;
            return Err(ModelError::ExtractorMismatch {
                found: extractor,
                expected,
            });
        }
        let bits = header[12];
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(ModelError::BadBits { bits });
        }
        if field(13, 3) != [0, 0, 0] {
            return Err(ModelError::Reserved);
        }
        let bias = f32::from_bits(le_u32(field(32, 4)));
        if !in_range(bias) {
            return Err(ModelError::BadBias);
        }
        let count = le_u32(field(36, 4));
        if u64::from(count) > 1u64 << bits {
            return Err(ModelError::TooManyEntries { count, bits });
        }
        let (malicious, benign) = (le_u64(field(16, 8)), le_u64(field(24, 8)));
        Ok(Header {
            bits,
            malicious,
            benign,
            bias,
            count,
        })
    }
}

/// Reads `count` entries in chunks. The vector grows with the data, not with the announced
/// count, so a short file cannot force a big allocation.
fn read_entries<R: Read>(
    r: &mut Checked<R>,
    count: u32,
    bits: u8,
) -> Result<Vec<(u32, f32)>, ModelError> {
    const CHUNK: usize = 512;
    let mut entries: Vec<(u32, f32)> = Vec::with_capacity((count as usize).min(CHUNK));
    let mut chunk = [0u8; 8 * CHUNK];
    let mut left = count as usize;
    while left > 0 {
        let take = left.min(CHUNK);
        let bytes = chunk.get_mut(..take * 8).unwrap_or_default();
        r.read_exact(bytes)?;
        for entry in bytes.chunks_exact(8) {
            let index = le_u32(entry);
            let weight = f32::from_bits(le_u32(entry.get(4..).unwrap_or_default()));
            if u64::from(index) >= 1u64 << bits {
                return Err(ModelError::IndexOutOfRange { index, bits });
            }
            if entries.last().is_some_and(|&(prev, _)| prev >= index) {
                return Err(ModelError::Unsorted { index });
            }
            if weight == 0.0 || !in_range(weight) {
                return Err(ModelError::BadWeight { index });
            }
            entries.push((index, weight));
        }
        left -= take;
    }
    Ok(entries)
}

/// A reader that hashes what it hands out, for the trailing checksum.
struct Checked<R> {
    inner: R,
    hasher: Xxh3Default,
}

impl<R: Read> Checked<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ModelError> {
        self.inner.read_exact(buf).map_err(read_error)?;
        self.hasher.update(buf);
        Ok(())
    }
}

/// Finite and within `±MAX_ABS_WEIGHT` (NaN is not).
fn in_range(x: f32) -> bool {
    x.is_finite() && x.abs() <= MAX_ABS_WEIGHT
}

fn read_error(e: io::Error) -> ModelError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ModelError::Truncated
    } else {
        ModelError::Io(e)
    }
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b.get(..4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which error a corrupted file must produce.
    type Check = fn(&ModelError) -> bool;

    use super::super::model::tests::small_model;

    fn bytes_of(model: &Model) -> Vec<u8> {
        let mut bytes = Vec::new();
        model.save(&mut bytes).unwrap();
        bytes
    }

    /// Recomputes the trailing checksum after a test edits the body.
    fn reseal(bytes: &mut [u8]) {
        let body = bytes.len() - 8;
        let sum = xxh3_64(&bytes[..body]).to_le_bytes();
        bytes[body..].copy_from_slice(&sum);
    }

    #[test]
    fn save_then_load_gives_identical_predictions() {
        let model = small_model();
        let loaded = Model::load(bytes_of(&model).as_slice()).unwrap();
        assert_eq!(loaded.entries(), model.entries());
        assert_eq!(
            (
                loaded.bits(),
                loaded.bias(),
                loaded.malicious(),
                loaded.benign()
            ),
            (
                model.bits(),
                model.bias(),
                model.malicious(),
                model.benign()
            )
        );
        for ids in [&[1u32, 2, 3][..], &[101, 102], &[1, 101, 500], &[]] {
            assert_eq!(loaded.predict(ids).to_bits(), model.predict(ids).to_bits());
        }
    }

    #[test]
    fn file_starts_with_magic_and_has_documented_length() {
        let model = small_model();
        let bytes = bytes_of(&model);
        assert_eq!(&bytes[..6], b"SGCLF\x01");
        assert_eq!(bytes.len(), HEADER_LEN + 8 * model.len() + 8);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = bytes_of(&small_model());
        for len in 0..bytes.len() {
            assert!(
                matches!(Model::load(&bytes[..len]), Err(ModelError::Truncated)),
                "len {len}"
            );
        }
    }

    #[test]
    fn trailing_data_is_an_error() {
        let mut bytes = bytes_of(&small_model());
        bytes.push(0);
        assert!(matches!(
            Model::load(bytes.as_slice()),
            Err(ModelError::TrailingData)
        ));
    }

    #[test]
    fn header_fields_are_validated() {
        let good = bytes_of(&small_model());
        let cases: [(usize, &[u8], Check); 8] = [
            (0, b"X", |e| matches!(e, ModelError::BadMagic)),
            (6, &[2, 0], |e| {
                matches!(e, ModelError::UnsupportedFormat { found: 2 })
            }),
            (8, &[99, 0, 0, 0], |e| {
                matches!(e, ModelError::ExtractorMismatch { found: 99, .. })
            }),
            (12, &[MAX_BITS + 1], |e| {
                matches!(e, ModelError::BadBits { .. })
            }),
            (12, &[MIN_BITS - 1], |e| {
                matches!(e, ModelError::BadBits { .. })
            }),
            (14, &[1], |e| matches!(e, ModelError::Reserved)),
            (32, &f32::NAN.to_le_bytes(), |e| {
                matches!(e, ModelError::BadBias)
            }),
            (32, &1.0e7f32.to_le_bytes(), |e| {
                matches!(e, ModelError::BadBias)
            }),
        ];
        for (at, patch, expected) in cases {
            let mut bytes = good.clone();
            bytes[at..at + patch.len()].copy_from_slice(patch);
            reseal(&mut bytes);
            let err = Model::load(bytes.as_slice()).unwrap_err();
            assert!(expected(&err), "patch at {at}: {err}");
        }
    }

    #[test]
    fn entries_are_validated() {
        let good = bytes_of(&small_model());
        let first = HEADER_LEN;
        let second = HEADER_LEN + 8;
        let cases: [(usize, Vec<u8>, Check); 6] = [
            (first, 5000u32.to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::IndexOutOfRange { index: 5000, .. })
            }),
            (second, 0u32.to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::Unsorted { index: 0 })
            }),
            (first + 4, f32::INFINITY.to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::BadWeight { .. })
            }),
            (first + 4, f32::NAN.to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::BadWeight { .. })
            }),
            (first + 4, 0f32.to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::BadWeight { .. })
            }),
            (first + 4, (-1.0e7f32).to_le_bytes().to_vec(), |e| {
                matches!(e, ModelError::BadWeight { .. })
            }),
        ];
        for (at, patch, expected) in cases {
            let mut bytes = good.clone();
            bytes[at..at + patch.len()].copy_from_slice(&patch);
            reseal(&mut bytes);
            let err = Model::load(bytes.as_slice()).unwrap_err();
            assert!(expected(&err), "patch at {at}: {err}");
        }
    }

    #[test]
    fn every_single_bit_flip_is_an_error() {
        let good = bytes_of(&small_model());
        for at in 0..good.len() {
            let mut bytes = good.clone();
            bytes[at] ^= 1 << (at % 8);
            assert!(Model::load(bytes.as_slice()).is_err(), "flip at byte {at}");
        }
    }

    #[test]
    fn a_flipped_weight_bit_fails_the_checksum() {
        let mut bytes = bytes_of(&small_model());
        bytes[HEADER_LEN + 5] ^= 0x01;
        assert!(matches!(
            Model::load(bytes.as_slice()),
            Err(ModelError::Checksum)
        ));
    }

    #[test]
    fn a_huge_announced_count_does_not_allocate_it() {
        let mut bytes = bytes_of(&small_model());
        bytes.truncate(HEADER_LEN);
        bytes[12] = MAX_BITS;
        bytes[36..40].copy_from_slice(&(1u32 << MAX_BITS).to_le_bytes());
        assert!(matches!(
            Model::load(bytes.as_slice()),
            Err(ModelError::Truncated)
        ));
        bytes[36..40].copy_from_slice(&((1u32 << MAX_BITS) + 1).to_le_bytes());
        assert!(matches!(
            Model::load(bytes.as_slice()),
            Err(ModelError::TooManyEntries { .. })
        ));
    }

    #[test]
    fn random_bytes_are_errors_not_panics() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let good = bytes_of(&small_model());
        for round in 0..2000 {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let len = (next() % 200) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 {
                // Keep a valid header half the time so the entry checks run too.
                let keep = good.len().min(HEADER_LEN).min(bytes.len());
                bytes[..keep].copy_from_slice(&good[..keep]);
            }
            assert!(Model::load(bytes.as_slice()).is_err());
        }
    }

    #[test]
    fn read_errors_are_reported_as_io() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        assert!(matches!(Model::load(Broken), Err(ModelError::Io(_))));
    }
}
