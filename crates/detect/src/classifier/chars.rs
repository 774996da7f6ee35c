//! Character-level rules of the tokeniser: full-width folding, character classes (word,
//! joiner, CJK, separator), and spotting URLs and email addresses in running text.
//!
//! Kept apart from [`tokens`](super::tokens) so the rules that decide what a "word" is can be
//! read, and tested, on their own.

/// Character classes after full-width folding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Word,
    Joiner,
    Cjk,
    Separator,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(super) fn prefix(s: &str, max: usize) -> &str {
    s.get(..s.floor_char_boundary(max)).unwrap_or_default()
}

/// The character starting at byte `i` and its length, with an ASCII fast path.
#[inline]
pub(super) fn char_at(s: &str, i: usize) -> Option<(char, usize)> {
    match *s.as_bytes().get(i)? {
        b if b.is_ascii() => Some((b as char, 1)),
        _ => s.get(i..)?.chars().next().map(|c| (c, c.len_utf8())),
    }
}

/// Folds full-width ASCII (U+FF01–FF5E) and the ideographic space to ASCII.
#[inline]
pub(super) fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Classes of the ASCII characters: letters and digits form words, `@ . - _ + '` join them.
const ASCII_CLASS: [Class; 128] = {
    let mut table = [Class::Separator; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => Class::Word,
            b'@' | b'.' | b'-' | b'_' | b'+' | b'\'' => Class::Joiner,
            _ => Class::Separator,
        };
        b += 1;
    }
    table
};

/// Class of a character, after full-width folding.
#[inline]
pub(super) fn class(c: char) -> Class {
    if let Some(&class) = ASCII_CLASS.get(c as usize) {
        return class;
    }
    let c = fold(c);
    if let Some(&class) = ASCII_CLASS.get(c as usize) {
        class
    } else if is_cjk(c) {
        Class::Cjk
    } else if matches!(c, '\u{3000}'..='\u{303F}') {
        // CJK punctuation (、。「」): common in Japanese text, so skip the Unicode tables.
        Class::Separator
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Separator
    }
}

/// Scripts written without spaces between words: Han, kana, hangul (plus 々〆〇 and ー).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3005}'..='\u{3007}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}'
        | '\u{1100}'..='\u{11FF}'
        | '\u{3130}'..='\u{318F}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{20000}'..='\u{2FFFF}')
}

/// End of the word-and-joiner run from `start`, and whether it holds an `@` or `＠`.
#[inline]
pub(super) fn word_run(text: &str, start: usize) -> (usize, bool) {
    let (mut i, mut at) = (start, false);
    while let Some((c, len)) = char_at(text, i) {
        match class(c) {
            Class::Word => {}
            Class::Joiner => at |= c == '@' || c == '\u{FF20}',
            Class::Cjk | Class::Separator => break,
        }
        i += len;
    }
    (i, at)
}

/// First position at or after `i` that is not an ASCII separator (spaces, punctuation).
#[inline]
pub(super) fn skip_ascii_separators(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        if ASCII_CLASS.get(usize::from(b)) != Some(&Class::Separator) {
            break;
        }
        i += 1;
    }
    i
}

/// End of the run of characters from `start` whose class satisfies `keep`.
#[inline]
pub(super) fn run_end(text: &str, start: usize, keep: impl Fn(Class) -> bool) -> usize {
    let mut i = start;
    while let Some((c, len)) = char_at(text, i) {
        if !keep(class(c)) {
            break;
        }
        i += len;
    }
    i
}

/// Length of the URL at the start of `bytes` (`http://`, `https://` or `www.`), or 0.
pub(super) fn url_len(bytes: &[u8]) -> usize {
    if !matches!(bytes.first(), Some(b'h' | b'H' | b'w' | b'W')) {
        return 0;
    }
    // Something must follow the prefix for it to be a URL.
    let starts = |p: &[u8]| {
        bytes.len() > p.len()
            && bytes
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    if !(starts(b"http://") || starts(b"https://") || starts(b"www.")) {
        return 0;
    }
    bytes
        .iter()
        .position(|&b| !b.is_ascii_graphic() || matches!(b, b'<' | b'>' | b'"' | b'\'' | b'`'))
        .unwrap_or(bytes.len())
}

/// `local@domain` (or `＠`) with something on both sides once joiners are trimmed.
pub(super) fn is_email(chunk: &str) -> bool {
    let at = match chunk.as_bytes().iter().position(|&b| b == b'@') {
        Some(at) => Some((at, 1)),
        None if !chunk.is_ascii() => chunk.find('\u{FF20}').map(|at| (at, 3)),
        None => None,
    };
    let Some((at, len)) = at else {
        return false;
    };
    let blank = |s: &str| s.chars().all(|c| class(c) == Class::Joiner);
    !blank(chunk.get(..at).unwrap_or_default()) && !blank(chunk.get(at + len..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_prefixes_are_recognised_case_insensitively() {
        assert_eq!(url_len(b"https://a.example/x y"), 19);
        assert_eq!(url_len(b"HTTP://A.EXAMPLE"), 16);
        assert_eq!(url_len(b"www.example.org<br>"), 15);
        assert_eq!(url_len("http://a.example/パス".as_bytes()), 17);
        assert_eq!(url_len(b"http://"), 0, "a bare scheme is a word");
        assert_eq!(url_len(b"hello"), 0);
        assert_eq!(url_len(b"whatever"), 0);
    }

    #[test]
    fn emails_need_text_on_both_sides_of_the_at() {
        assert!(is_email("a@b"));
        assert!(is_email("first.last@example.co.jp."));
        assert!(is_email("ｕ＠ｅ"));
        assert!(!is_email("@handle"));
        assert!(!is_email("trailing@"));
        assert!(!is_email(".@."));
        assert!(!is_email("no-at-sign"));
    }

    #[test]
    fn full_width_ascii_folds_and_other_text_does_not() {
        assert_eq!(fold('Ａ'), 'A');
        assert_eq!(fold('～'), '~');
        assert_eq!(fold('\u{3000}'), ' ');
        assert_eq!(fold('ア'), 'ア');
        assert_eq!(fold('ｱ'), 'ｱ', "half-width katakana is left alone");
    }

    #[test]
    fn characters_are_classified_after_folding() {
        assert!(
            class('ｗ') == Class::Word && class('é') == Class::Word && class('Ж') == Class::Word
        );
        assert!(class('＠') == Class::Joiner && class('.') == Class::Joiner);
        assert!(
            class('漢') == Class::Cjk && class('ー') == Class::Cjk && class('한') == Class::Cjk
        );
        assert!(class('、') == Class::Separator && class('!') == Class::Separator);
    }

    #[test]
    fn prefix_never_splits_a_character() {
        assert_eq!(prefix("年金", 4), "年");
        assert_eq!(prefix("年金", 100), "年金");
        assert_eq!(prefix("abc", 0), "");
    }
}
