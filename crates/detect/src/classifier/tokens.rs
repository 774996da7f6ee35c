//! The tokeniser behind [`FeatureExtractor`](super::FeatureExtractor): splits text into
//! normalised words, CJK character n-grams, link parts and shape tokens, and hashes each one
//! under its family's seed.
//!
//! It walks the text once with an ASCII fast path, writes each normalised word into a reused
//! buffer and hashes byte slices, so the hot path allocates nothing per token. Every token goes
//! to a [`Sink`]: the extractor's sink collects ids, the evidence sink names them, and both see
//! exactly the same sequence.

use std::mem;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::chars::{
    Class, char_at, class, fold, is_email, prefix, run_end, skip_ascii_separators, url_len,
    word_run,
};
use super::features::{Family, FeatureConfig, FeatureInput, LinkFeature};

/// Token a whole email address is replaced with, so no address is ever learned.
const EMAIL_TOKEN: &[u8] = b"<email>";
/// Tokens longer than this many characters are ignored (base64 blobs, tracking ids).
const MAX_TOKEN_CHARS: usize = 40;
/// A run of digits keeps at most this many `0`s, so prices and years share features.
const MAX_DIGIT_RUN: usize = 4;
/// Bytes of a link's path that are tokenised.
const MAX_PATH_BYTES: usize = 1024;

/// Where one text field's features go.
#[derive(Clone, Copy)]
struct TextFamilies {
    word: Family,
    bigram: Family,
    cjk: Family,
}

/// State of one text field's scan: its families and the previous word's hash for bigrams.
struct Field {
    fam: TextFamilies,
    prev: Option<u64>,
}

const SUBJECT: TextFamilies = TextFamilies {
    word: Family::SubjectWord,
    bigram: Family::SubjectBigram,
    cjk: Family::SubjectCjk,
};
const BODY: TextFamilies = TextFamilies {
    word: Family::BodyWord,
    bigram: Family::BodyBigram,
    cjk: Family::BodyCjk,
};

/// Receives every feature in extraction order; returns `false` to stop extraction.
pub(super) trait Sink {
    /// Takes one feature and the token(s) it came from; `false` stops extraction.
    fn emit(&mut self, id: u32, family: Family, first: &[u8], second: Option<&[u8]>) -> bool;
}

/// Reused token buffers; `prev` holds the previous word for bigram names.
#[derive(Debug, Clone)]
pub(super) struct Scratch {
    mask: u32,
    cur: Vec<u8>,
    prev: Vec<u8>,
}

/// Counters of the token being written into `Scratch::cur`.
#[derive(Clone, Copy, Default)]
struct Token {
    chars: usize,
    digits: usize,
    first_is_ascii_letter: bool,
}

/// Outcome of normalising one token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Norm {
    Keep,
    /// Empty or a single ASCII letter: ignored, but the words around it stay neighbours.
    Skip,
    TooLong,
}

impl Token {
    fn verdict(&self) -> Norm {
        match self.chars {
            0 => Norm::Skip,
            1 if self.first_is_ascii_letter => Norm::Skip,
            n if n > MAX_TOKEN_CHARS => Norm::TooLong,
            _ => Norm::Keep,
        }
    }
}

impl Scratch {
    pub(super) fn new(bits: u8) -> Self {
        Scratch {
            mask: (1u32 << bits) - 1,
            cur: Vec::with_capacity(64),
            prev: Vec::with_capacity(64),
        }
    }

    /// Feeds every feature of the message to `sink`, highest-priority families first.
    pub(super) fn run(
        &mut self,
        config: &FeatureConfig,
        input: &FeatureInput<'_>,
        sink: &mut impl Sink,
    ) {
        let subject = prefix(input.subject, config.max_subject_bytes);
        let _ = self.shapes(input.shapes, sink)
            && self.text(subject, SUBJECT, sink)
            && self.links(input.links, config.max_links, sink)
            && self.text(prefix(input.text, config.max_text_bytes), BODY, sink);
    }

    #[inline]
    fn id(&self, hash: u64) -> u32 {
        // Low bits of xxh3 are uniform; the mask takes the value modulo 2^bits.
        hash as u32 & self.mask
    }

    /// Emits a token as it is (already normalised, or a host, shape or CJK slice).
    #[inline]
    fn raw(&self, family: Family, token: &[u8], sink: &mut impl Sink) -> bool {
        if token.is_empty() {
            return true;
        }
        sink.emit(
            self.id(xxh3_64_with_seed(token, seed(family))),
            family,
            token,
            None,
        )
    }

    fn shapes(&mut self, shapes: &[&str], sink: &mut impl Sink) -> bool {
        shapes
            .iter()
            .all(|s| self.raw(Family::Shape, s.as_bytes(), sink))
    }

    /// Host, registrable domain, TLD (not for IP literals) and path tokens of each link.
    fn links(&mut self, links: &[LinkFeature<'_>], max: usize, sink: &mut impl Sink) -> bool {
        for link in links.iter().take(max) {
            let domain = Some(link.registrable).filter(|r| !r.is_empty());
            let tld = match domain.unwrap_or(link.host).rsplit_once('.') {
                Some((_, tld)) if !tld.bytes().all(|b| b.is_ascii_digit()) => tld,
                _ => "",
            };
            let go = self.raw(Family::LinkHost, link.host.as_bytes(), sink)
                && self.raw(Family::LinkDomain, link.registrable.as_bytes(), sink)
                && self.raw(Family::LinkTld, tld.as_bytes(), sink)
                && self.path(prefix(link.path, MAX_PATH_BYTES), sink);
            if !go {
                return false;
            }
        }
        true
    }

    /// Path and query split at `/ . - _ ? = & # + ; : , %`, normalised like words.
    fn path(&mut self, path: &str, sink: &mut impl Sink) -> bool {
        let separators = [
            '/', '.', '-', '_', '?', '=', '&', '#', '+', ';', ':', ',', '%',
        ];
        for token in path.split(separators) {
            self.cur.clear();
            let mut tok = Token::default();
            for c in token.chars() {
                self.push(&mut tok, fold(c));
            }
            if tok.verdict() == Norm::Keep && !self.raw(Family::LinkPath, &self.cur, sink) {
                return false;
            }
        }
        true
    }

    /// Appends one folded character to `cur`: lowercased, digits as `0` with runs capped.
    #[inline]
    fn push(&mut self, tok: &mut Token, c: char) {
        tok.chars += 1;
        if tok.chars > MAX_TOKEN_CHARS {
            return;
        }
        if tok.chars == 1 {
            tok.first_is_ascii_letter = c.is_ascii_alphabetic();
        }
        if c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()) {
            tok.digits += 1;
            if tok.digits <= MAX_DIGIT_RUN {
                self.cur.push(b'0');
            }
            return;
        }
        tok.digits = 0;
        if c.is_ascii() {
            self.cur.push(c.to_ascii_lowercase() as u8);
        } else {
            for lower in c.to_lowercase() {
                let mut buf = [0u8; 4];
                self.cur
                    .extend_from_slice(lower.encode_utf8(&mut buf).as_bytes());
            }
        }
    }

    /// Scans one text field: words and their bigrams, `<email>`, CJK n-grams; URLs are
    /// skipped and break the bigram chain.
    fn text(&mut self, text: &str, fam: TextFamilies, sink: &mut impl Sink) -> bool {
        let bytes = text.as_bytes();
        let mut field = Field { fam, prev: None };
        let mut i = 0;
        while let Some((c, len)) = char_at(text, i) {
            let go = match class(c) {
                Class::Separator => {
                    i = skip_ascii_separators(bytes, i + len);
                    true
                }
                Class::Cjk => {
                    let end = run_end(text, i, |class| class == Class::Cjk);
                    field.prev = None;
                    let go = self.cjk(text.get(i..end).unwrap_or_default(), fam.cjk, sink);
                    i = end;
                    go
                }
                Class::Word | Class::Joiner => match url_len(bytes.get(i..).unwrap_or_default()) {
                    0 => {
                        let (end, has_at) = word_run(text, i);
                        let chunk = text.get(i..end).unwrap_or_default();
                        let go = self.chunk(chunk, has_at, &mut field, sink);
                        i = end;
                        go
                    }
                    url => {
                        i += url;
                        field.prev = None;
                        true
                    }
                },
            };
            if !go {
                return false;
            }
        }
        true
    }

    /// Emits character unigrams and bigrams of a CJK/kana/hangul run, hashing text slices.
    fn cjk(&mut self, run: &str, family: Family, sink: &mut impl Sink) -> bool {
        let mut prev_start: Option<usize> = None;
        for (start, c) in run.char_indices() {
            let end = start + c.len_utf8();
            let unigram = run.get(start..end).unwrap_or_default();
            if !self.raw(family, unigram.as_bytes(), sink) {
                return false;
            }
            if let Some(p) = prev_start
                && !self.raw(family, run.get(p..end).unwrap_or_default().as_bytes(), sink)
            {
                return false;
            }
            prev_start = Some(start);
        }
        true
    }

    /// A run of word and joiner characters: an email address, or words split at joiners.
    fn chunk(
        &mut self,
        chunk: &str,
        has_at: bool,
        field: &mut Field,
        sink: &mut impl Sink,
    ) -> bool {
        self.cur.clear();
        if has_at && is_email(chunk) {
            self.cur.extend_from_slice(EMAIL_TOKEN);
            return self.word(field, sink);
        }
        let mut tok = Token::default();
        let mut i = 0;
        while let Some((c, len)) = char_at(chunk, i) {
            i += len;
            if class(c) == Class::Joiner {
                if !self.flush(&mut tok, field, sink) {
                    return false;
                }
            } else {
                self.push(&mut tok, fold(c));
            }
        }
        self.flush(&mut tok, field, sink)
    }

    /// Ends the token in `cur`: emits it if it is worth a feature, then starts a new one.
    fn flush(&mut self, tok: &mut Token, field: &mut Field, sink: &mut impl Sink) -> bool {
        let go = match tok.verdict() {
            Norm::Keep => self.word(field, sink),
            Norm::Skip => true,
            // A blob between two words does not make them neighbours.
            Norm::TooLong => {
                field.prev = None;
                true
            }
        };
        *tok = Token::default();
        self.cur.clear();
        go
    }

    /// Emits the word in `cur` and its bigram with the previous word, then makes it previous.
    fn word(&mut self, field: &mut Field, sink: &mut impl Sink) -> bool {
        let fam = field.fam;
        let hash = xxh3_64_with_seed(&self.cur, seed(fam.word));
        if !sink.emit(self.id(hash), fam.word, &self.cur, None) {
            return false;
        }
        if let Some(prev_hash) = field.prev {
            let mut pair = [0u8; 16];
            pair[..8].copy_from_slice(&prev_hash.to_le_bytes());
            pair[8..].copy_from_slice(&hash.to_le_bytes());
            let id = self.id(xxh3_64_with_seed(&pair, seed(fam.bigram)));
            if !sink.emit(id, fam.bigram, &self.prev, Some(&self.cur)) {
                return false;
            }
        }
        field.prev = Some(hash);
        mem::swap(&mut self.cur, &mut self.prev);
        true
    }
}

/// Hash seed of a family. Numbered explicitly so reordering `Family` changes nothing;
/// changing a number requires bumping `EXTRACTOR_VERSION`.
fn seed(family: Family) -> u64 {
    let n: u64 = match family {
        Family::SubjectWord => 1,
        Family::SubjectBigram => 2,
        Family::SubjectCjk => 3,
        Family::BodyWord => 4,
        Family::BodyBigram => 5,
        Family::BodyCjk => 6,
        Family::LinkHost => 7,
        Family::LinkDomain => 8,
        Family::LinkTld => 9,
        Family::LinkPath => 10,
        Family::Shape => 11,
    };
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_seeds_are_distinct() {
        let families = [
            Family::SubjectWord,
            Family::SubjectBigram,
            Family::SubjectCjk,
            Family::BodyWord,
            Family::BodyBigram,
            Family::BodyCjk,
            Family::LinkHost,
            Family::LinkDomain,
            Family::LinkTld,
            Family::LinkPath,
            Family::Shape,
        ];
        let mut seeds: Vec<u64> = families.iter().map(|&f| seed(f)).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), families.len());
    }
}
