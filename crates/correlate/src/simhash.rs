//! SimHash (Charikar 2002) over overlapping shingles of normalised text: near-identical
//! texts (a name changed, a line added) get fingerprints a few bits apart.
//!
//! Text is folded first (lowercase, digits to `0`, runs of whitespace and punctuation to
//! one space) so trivial edits do not move bits. Shingles are three words for spaced
//! scripts and three characters for runs of CJK/kana, where there are no spaces.

use xxhash_rust::xxh3::xxh3_64;

/// A 64-bit SimHash and how many shingles it was built from (few shingles: weak evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SimHash {
    /// The fingerprint bits.
    pub bits: u64,
    /// Shingles that went into it.
    pub shingles: u32,
}

/// Bits that differ between two fingerprints.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Most bytes of text looked at; a campaign shows in its first screen of text.
const MAX_TEXT: usize = 4 * 1024;

impl SimHash {
    /// The SimHash of `text`.
    pub fn of(text: &str) -> SimHash {
        let tokens = token_hashes(text);
        let mut weights = [0i32; 64];
        let mut shingles = 0u32;
        let mut add = |h: u64| {
            shingles = shingles.saturating_add(1);
            // Branch-free so the compiler can vectorise it: +1 for a set bit, -1 otherwise.
            for (bit, w) in weights.iter_mut().enumerate() {
                *w += ((h >> bit) & 1) as i32 * 2 - 1;
            }
        };
        if tokens.len() < 3 {
            tokens.iter().copied().for_each(&mut add);
        }
        for w in tokens.windows(3) {
            add(mix(mix(w[0], w[1]), w[2]));
        }
        let bits = weights.iter().enumerate().fold(
            0u64,
            |acc, (bit, &w)| if w > 0 { acc | 1 << bit } else { acc },
        );
        SimHash { bits, shingles }
    }
}

/// Combines two hashes into one, order-sensitive (a multiply-xorshift step).
fn mix(a: u64, b: u64) -> u64 {
    let x = (a.rotate_left(23) ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// Whether `c` is written without spaces between words (CJK ideographs, kana, hangul).
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff
        | 0xff66..=0xff9f | 0xac00..=0xd7af)
}

/// Hashes of the folded tokens: words of spaced scripts (lowercased, digits as `0`),
/// single characters of unspaced ones. One reused buffer, no allocation per token.
fn token_hashes(text: &str) -> Vec<u64> {
    let end = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= MAX_TEXT)
        .unwrap_or(text.len());
    let mut out = Vec::with_capacity(end / 4);
    let mut word = String::new();
    let mut buf = [0u8; 4];
    let flush = |word: &mut String, out: &mut Vec<u64>| {
        if !word.is_empty() {
            out.push(xxh3_64(word.as_bytes()));
            word.clear();
        }
    };
    for c in text[..end].chars() {
        if unspaced(c) {
            flush(&mut word, &mut out);
            out.push(xxh3_64(c.encode_utf8(&mut buf).as_bytes()));
        } else if c.is_alphanumeric() {
            if c.is_numeric() {
                word.push('0');
            } else if c.is_ascii() {
                word.push(c.to_ascii_lowercase());
            } else {
                word.extend(c.to_lowercase());
            }
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LETTER: &str = "いつもお世話になっております。標記の件につきまして、意見書を作成いたしましたのでご確認ください。\
        資料は以下よりダウンロードいただけます。ご多忙のところ恐縮ですが、よろしくお願いいたします。";

    #[test]
    fn a_changed_name_moves_few_bits_another_text_many() {
        let a = SimHash::of(&format!("田中 様\n{LETTER}"));
        let b = SimHash::of(&format!("佐藤 様\n{LETTER}"));
        let other = SimHash::of(
            "職員各位\n情報セキュリティ研修の実施について、詳細はイントラネットをご確認ください。総務部",
        );
        assert!(hamming(a.bits, b.bits) <= 6, "{}", hamming(a.bits, b.bits));
        assert!(
            hamming(a.bits, other.bits) >= 16,
            "{}",
            hamming(a.bits, other.bits)
        );
        assert!(a.shingles > 50);
    }

    #[test]
    fn digits_case_and_spacing_do_not_matter_for_spaced_text() {
        let a = SimHash::of("Your invoice 12345 is ready. Please review it today.");
        let b = SimHash::of("your   INVOICE 99871 is ready, please review it today!");
        assert_eq!(a.bits, b.bits);
    }

    #[test]
    fn empty_and_tiny_texts_do_not_panic() {
        assert_eq!(SimHash::of("").shingles, 0);
        assert_eq!(SimHash::of("hi").shingles, 1);
        let _ = SimHash::of("\u{0}\u{ffff}日");
    }
}
