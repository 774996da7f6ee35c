//! Folding: one spelling for the many ways a word can be written.
//!
//! Text and phrases are folded the same way before matching, so a phrase list written once
//! covers the spellings lures use to slip past filters: case, full-width ASCII (`ＶＥＲＩＦＹ`,
//! common in Japanese mail) and half-width katakana (`ｱｶｳﾝﾄ`), Cyrillic and Greek look-alike
//! letters (`accоunt`) and styled mathematical letters (`𝐕𝐞𝐫𝐢𝐟𝐲`), zero-width characters and
//! soft hyphens inserted between letters, hyphens (`sign-in` = `sign in`), curly apostrophes,
//! line wrapping, and numbers (every run of digits becomes `#`, so `within 24 hours` also
//! finds `within 48 hours`). Folding counts the disguises it undid: a word that mixes Latin and
//! look-alike letters is a trick in itself.

/// What folding noticed about the text: disguised letters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Disguise {
    /// Words mixing Latin letters with look-alike Cyrillic or Greek ones (`accоunt`).
    pub(crate) mixed_words: usize,
    /// Letters written with "styled" mathematical alphanumerics (`𝐕𝐞𝐫𝐢𝐟𝐲`).
    pub(crate) styled_letters: usize,
}

/// Appends `s` folded for matching to `out`, stopping once `out` holds `max` bytes.
///
/// Lowercases; maps full-width ASCII (U+FF01–FF5E), styled mathematical letters and Cyrillic
/// or Greek look-alikes to ASCII, half-width katakana to full-width, and the ideographic
/// space to a space; drops zero-width characters and soft hyphens; turns hyphens and dashes
/// into spaces; straightens apostrophes; collapses white space (line breaks included) to one
/// space; and replaces each run of digits with one `#`. Counts the disguises it undid into
/// `seen`.
pub(crate) fn fold_into(out: &mut String, s: &str, max: usize, seen: &mut Disguise) {
    let mut last_space = out.is_empty() || out.ends_with(' ') || out.ends_with('\n');
    let mut last_digit = false;
    // Scripts of the current word: plain Latin letters, and look-alikes from elsewhere.
    let (mut latin, mut lookalike) = (false, false);
    for c in s.chars() {
        if out.len() >= max {
            break;
        }
        if let Some(k) = halfwidth_kana(c, out) {
            // Half-width katakana (ｱｶｳﾝﾄ), the old mobile-mail spelling, read as full-width.
            out.push(k);
            (last_space, last_digit) = (false, false);
            continue;
        }
        if ('\u{3041}'..='\u{9FFF}').contains(&c) {
            // Kana and CJK ideographs: letters without case, the bulk of Japanese text.
            out.push(c);
            (last_space, last_digit) = (false, false);
            continue;
        }
        let c = if c.is_ascii() {
            latin |= c.is_ascii_alphabetic();
            if c == '-' { ' ' } else { c }
        } else {
            let (c, kind) = unmask(c);
            match kind {
                Mask::None => latin |= c.is_ascii_alphabetic(),
                Mask::Lookalike => lookalike = true,
                Mask::Styled => seen.styled_letters += 1,
            }
            match c {
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => continue,
                '\u{2010}'..='\u{2015}' | '\u{2212}' => ' ',
                '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
                _ => c,
            }
        };
        if !c.is_alphanumeric() {
            if latin && lookalike {
                seen.mixed_words += 1;
            }
            (latin, lookalike) = (false, false);
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            last_digit = false;
            continue;
        }
        last_space = false;
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
            continue;
        }
        last_digit = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    if latin && lookalike {
        seen.mixed_words += 1;
    }
}

/// Full-width katakana for half-width U+FF66–FF9F. The voicing marks ﾞ and ﾟ replace the
/// kana just written in `out` with its voiced form (ｶﾞ → ガ, ﾊﾟ → パ).
fn halfwidth_kana(c: char, out: &mut String) -> Option<char> {
    const KANA: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";
    const VOICED: &str = "カキクケコサシスセソタチツテトハヒフヘホ";
    const SEMI_VOICED: &str = "ハヒフヘホ";
    let u = c as u32;
    if !(0xFF66..=0xFF9F).contains(&u) {
        return None;
    }
    if u >= 0xFF9E {
        let prev = out.chars().next_back();
        let voiced = match (u, prev) {
            (0xFF9E, Some('ウ')) => Some('ヴ'),
            (0xFF9E, Some(p)) if VOICED.contains(p) => char::from_u32(p as u32 + 1),
            (0xFF9F, Some(p)) if SEMI_VOICED.contains(p) => char::from_u32(p as u32 + 2),
            _ => None,
        };
        return Some(match voiced {
            Some(v) => {
                out.pop();
                v
            }
            None if u == 0xFF9E => '゛',
            None => '゜',
        });
    }
    KANA.chars().nth((u - 0xFF66) as usize)
}

/// How a character was disguised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mask {
    None,
    /// A Cyrillic or Greek letter drawn like a Latin one.
    Lookalike,
    /// A mathematical alphanumeric ("bold", "double-struck" …) letter or digit.
    Styled,
}

/// Undoes full-width forms, styled letters and look-alike letters.
fn unmask(c: char) -> (char, Mask) {
    let u = c as u32;
    let ascii = |v: u32| char::from_u32(v).unwrap_or(c);
    match u {
        0xFF01..=0xFF5E => (ascii(u - 0xFEE0), Mask::None),
        0x3000 => (' ', Mask::None),
        // Mathematical Alphanumeric Symbols: 13 styles of A–Z a–z, then 5 styles of 0–9.
        0x1D400..=0x1D6A3 => {
            let i = (u - 0x1D400) % 52;
            let base = if i < 26 { 0x41 + i } else { 0x61 + i - 26 };
            (ascii(base), Mask::Styled)
        }
        0x1D7CE..=0x1D7FF => (ascii(0x30 + (u - 0x1D7CE) % 10), Mask::Styled),
        _ => match lookalike(c) {
            Some(l) => (l, Mask::Lookalike),
            None => (c, Mask::None),
        },
    }
}

/// The Latin letter a Cyrillic or Greek letter is drawn like, for the common look-alikes
/// (Unicode confusables restricted to identical-looking letters), plus letterlike symbols.
fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'В' | 'Β' => 'b',
        'с' | 'С' | 'ℂ' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' | 'Ε' | 'ℯ' => 'e',
        'ɡ' => 'g',
        'һ' | 'Н' | 'Η' | 'ℎ' | 'ℍ' => 'h',
        'і' | 'І' | 'ι' | 'Ι' | 'ı' => 'i',
        'ј' | 'Ј' => 'j',
        'К' | 'κ' | 'Κ' => 'k',
        'ӏ' | 'ℓ' => 'l',
        'М' | 'Μ' => 'm',
        'Ν' | 'ℕ' => 'n',
        'о' | 'О' | 'ο' | 'Ο' | 'ℴ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' | 'ℙ' => 'p',
        'ԛ' | 'ℚ' => 'q',
        'ℝ' => 'r',
        'ѕ' | 'Ѕ' => 's',
        'Т' | 'Τ' => 't',
        'ν' => 'v',
        'ԝ' => 'w',
        'х' | 'Х' | 'Χ' => 'x',
        'у' | 'У' | 'Υ' => 'y',
        'Ζ' | 'ℤ' => 'z',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        let mut out = String::new();
        fold_into(&mut out, s, usize::MAX, &mut Disguise::default());
        out
    }

    #[test]
    fn folding_evens_out_disguises() {
        assert_eq!(
            fold("ＶＥＲＩＦＹ　Your\r\n  Acc\u{200B}ount"),
            "verify your account"
        );
        assert_eq!(fold("Sign-In within 24 hours"), "sign in within # hours");
        assert_eq!(fold("２４時間以内"), "#時間以内");
        assert_eq!(fold("don’t"), "don't");
        assert_eq!(fold("ｱｶｳﾝﾄのﾊﾟｽﾜｰﾄﾞを"), "アカウントのパスワードを");
        assert_eq!(fold("ﾞｳﾞ"), "゛ヴ");
    }

    #[test]
    fn folding_stops_at_the_byte_budget() {
        let mut out = String::new();
        fold_into(&mut out, "abcdefgh", 3, &mut Disguise::default());
        assert_eq!(out, "abc");
    }

    #[test]
    fn look_alike_and_styled_letters_are_undone_and_counted() {
        let mut seen = Disguise::default();
        let mut out = String::new();
        fold_into(
            &mut out,
            "Your accоunt is tempоrarily on hold 𝐕𝐞𝐫𝐢𝐟𝐲 𝟐𝟒",
            usize::MAX,
            &mut seen,
        );
        assert_eq!(out, "your account is temporarily on hold verify #");
        assert_eq!(seen.mixed_words, 2);
        assert_eq!(seen.styled_letters, 8);
    }

    #[test]
    fn plain_cyrillic_and_greek_words_are_not_disguises() {
        let mut seen = Disguise::default();
        let mut out = String::new();
        fold_into(&mut out, "Скорость ορος mixed", usize::MAX, &mut seen);
        assert_eq!(seen, Disguise::default());
    }
}
