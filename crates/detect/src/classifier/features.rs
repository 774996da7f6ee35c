//! Turns a message's visible facts into hashed binary features for the linear classifier.
//!
//! Each feature is a token from one *family* (subject words, body words, word bigrams, CJK
//! character n-grams, link hosts, registrable domains, TLDs, link path tokens, shape tokens),
//! hashed with xxh3 under a per-family seed so that "invoice" in the subject and in the body are
//! different features, then reduced modulo `2^bits`. Tokens are normalised so the model learns
//! what phishing looks like and not the accidents of a training corpus: text is lowercased,
//! full-width ASCII is folded, every digit becomes `0` (runs capped at four), email addresses
//! become the single token `<email>`, and URLs are left to the link families. Japanese,
//! Chinese and Korean have no spaces, so runs of those scripts yield character unigrams and
//! bigrams instead of words; no dictionary is needed. Cost is bounded by `max_*` limits, and
//! the hot path hashes byte slices into reused buffers without allocating per token.
//! [`FeatureExtractor::describe`] re-runs the same extraction to name chosen ids for evidence.

use super::tokens::{Scratch, Sink};

/// Version of the tokenisation rules; a model trained under another version is refused.
pub const EXTRACTOR_VERSION: u32 = 1;
/// Smallest accepted feature-space size, in bits.
pub const MIN_BITS: u8 = 10;
/// Largest accepted feature-space size, in bits: a model holds one `f32` per slot (64 MiB at
/// 24 bits) and training two more.
pub const MAX_BITS: u8 = 24;
/// Default feature-space size: 2^20 slots.
pub const DEFAULT_BITS: u8 = 20;

/// One link found in the message, as computed by the URL analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkFeature<'a> {
    /// Lowercase ASCII host, e.g. `login.example.co.jp`.
    pub host: &'a str,
    /// Registrable domain (public suffix + 1), e.g. `example.co.jp`.
    pub registrable: &'a str,
    /// Path and query, e.g. `/account/verify?id=12`.
    pub path: &'a str,
}

/// What the extractor reads from one message.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeatureInput<'a> {
    /// Decoded Subject header.
    pub subject: &'a str,
    /// Visible body text, already decoded to UTF-8.
    pub text: &'a str,
    /// Links found in the message.
    pub links: &'a [LinkFeature<'a>],
    /// Structural tokens computed elsewhere, e.g. `html_only`, `reply_to_differs`.
    pub shapes: &'a [&'a str],
}

/// Limits and size of the feature space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureConfig {
    /// Feature ids are taken modulo `2^bits`; clamped to `MIN_BITS..=MAX_BITS`.
    pub bits: u8,
    /// Most distinct features kept per message (shapes, subject and links come first).
    pub max_features: usize,
    /// Bytes of body text considered (cut back to a character boundary).
    pub max_text_bytes: usize,
    /// Bytes of subject considered.
    pub max_subject_bytes: usize,
    /// Links considered per message.
    pub max_links: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            bits: DEFAULT_BITS,
            max_features: 4000,
            max_text_bytes: 64 * 1024,
            max_subject_bytes: 2048,
            max_links: 256,
        }
    }
}

/// The kind of token a feature came from; each family hashes under its own seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A word of the subject.
    SubjectWord,
    /// Two consecutive subject words.
    SubjectBigram,
    /// A CJK/kana/hangul character or character pair of the subject.
    SubjectCjk,
    /// A word of the body text.
    BodyWord,
    /// Two consecutive body words.
    BodyBigram,
    /// A CJK/kana/hangul character or character pair of the body.
    BodyCjk,
    /// A link's full host.
    LinkHost,
    /// A link's registrable domain.
    LinkDomain,
    /// A link's top-level domain.
    LinkTld,
    /// A token of a link's path.
    LinkPath,
    /// A structural token supplied by the caller.
    Shape,
}

impl Family {
    /// Short prefix used when naming a feature, e.g. `subject:invoice`.
    pub fn name(self) -> &'static str {
        match self {
            Family::SubjectWord => "subject",
            Family::SubjectBigram => "subject2",
            Family::SubjectCjk => "subject_cjk",
            Family::BodyWord => "body",
            Family::BodyBigram => "body2",
            Family::BodyCjk => "body_cjk",
            Family::LinkHost => "host",
            Family::LinkDomain => "domain",
            Family::LinkTld => "tld",
            Family::LinkPath => "path",
            Family::Shape => "shape",
        }
    }
}

/// Extracts features; keep one per thread and reuse it, since it owns the scratch buffers.
#[derive(Clone)]
pub struct FeatureExtractor {
    config: FeatureConfig,
    seen: Vec<u64>,
    scratch: Scratch,
}

impl FeatureExtractor {
    /// Creates an extractor; `bits` is clamped to `MIN_BITS..=MAX_BITS`, `max_features` to ≥ 1.
    pub fn new(mut config: FeatureConfig) -> Self {
        config.bits = config.bits.clamp(MIN_BITS, MAX_BITS);
        config.max_features = config.max_features.max(1);
        FeatureExtractor {
            seen: vec![0; (1usize << config.bits) / 64],
            scratch: Scratch::new(config.bits),
            config,
        }
    }

    /// The effective configuration, after clamping.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Clears `out` and fills it with the message's distinct feature ids, in extraction order
    /// (shapes, subject, links, body), stopping at `max_features`.
    pub fn extract(&mut self, input: &FeatureInput<'_>, out: &mut Vec<u32>) {
        out.clear();
        let mut sink = Collect {
            out,
            seen: &mut self.seen,
            cap: self.config.max_features,
        };
        self.scratch.run(&self.config, input, &mut sink);
        for &id in out.iter() {
            if let Some(word) = self.seen.get_mut(id as usize / 64) {
                *word = 0;
            }
        }
    }

    /// Names the ids in `wanted` that this message produces, as `family:token`, in `wanted`'s
    /// order; ids the message does not produce are left out. Slow path, for evidence only.
    pub fn describe(&mut self, input: &FeatureInput<'_>, wanted: &[u32]) -> Vec<(u32, String)> {
        let mut sorted = wanted.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut sink = Names {
            names: vec![None; sorted.len()],
            missing: sorted.len(),
            wanted: sorted,
        };
        self.scratch.run(&self.config, input, &mut sink);
        let mut out = Vec::with_capacity(wanted.len());
        for &id in wanted {
            if let Ok(i) = sink.wanted.binary_search(&id)
                && let Some(name) = sink.names.get_mut(i).and_then(Option::take)
            {
                out.push((id, name));
            }
        }
        out
    }
}

impl std::fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureExtractor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Hot-path sink: order-preserving dedup through a bitmap, stops at the cap.
struct Collect<'a> {
    out: &'a mut Vec<u32>,
    seen: &'a mut [u64],
    cap: usize,
}

impl Sink for Collect<'_> {
    #[inline]
    fn emit(&mut self, id: u32, _: Family, _: &[u8], _: Option<&[u8]>) -> bool {
        if let Some(word) = self.seen.get_mut(id as usize / 64) {
            let bit = 1u64 << (id % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.out.push(id);
            }
        }
        self.out.len() < self.cap
    }
}

/// Evidence sink: records the first token that produced each wanted id.
struct Names {
    wanted: Vec<u32>,
    names: Vec<Option<String>>,
    missing: usize,
}

impl Sink for Names {
    fn emit(&mut self, id: u32, family: Family, first: &[u8], second: Option<&[u8]>) -> bool {
        if let Ok(i) = self.wanted.binary_search(&id)
            && let Some(slot @ None) = self.names.get_mut(i)
        {
            let mut name = format!("{}:{}", family.name(), String::from_utf8_lossy(first));
            if let Some(second) = second {
                name.push(' ');
                name.push_str(&String::from_utf8_lossy(second));
            }
            *slot = Some(name);
            self.missing -= 1;
        }
        self.missing > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(input: &FeatureInput<'_>) -> Vec<u32> {
        let mut ids = Vec::new();
        FeatureExtractor::new(FeatureConfig::default()).extract(input, &mut ids);
        ids
    }

    fn names_of(input: &FeatureInput<'_>) -> Vec<String> {
        let mut extractor = FeatureExtractor::new(FeatureConfig::default());
        let mut ids = Vec::new();
        extractor.extract(input, &mut ids);
        let named = extractor.describe(input, &ids);
        assert_eq!(named.len(), ids.len(), "every id must be nameable");
        named.into_iter().map(|(_, name)| name).collect()
    }

    fn body(text: &str) -> Vec<String> {
        names_of(&FeatureInput {
            text,
            ..Default::default()
        })
    }

    fn has(names: &[String], name: &str) -> bool {
        names.iter().any(|n| n == name)
    }

    #[test]
    fn digits_fold_to_zero_and_runs_cap_at_four() {
        let names = body("pay 1299 yen by 2024-11-26 ref 12345678 id A7");
        assert!(has(&names, "body:0000"), "{names:?}");
        assert!(has(&names, "body:00"), "{names:?}");
        assert!(has(&names, "body:a0"), "{names:?}");
        let tokens = names
            .iter()
            .filter_map(|n| n.split_once(':'))
            .map(|(_, t)| t);
        assert!(
            tokens
                .clone()
                .all(|t| !t.contains(|c: char| c.is_ascii_digit() && c != '0'))
        );
        assert!(!has(&names, "body:00000"));
    }

    #[test]
    fn email_addresses_become_one_token() {
        let names = body("write to alice.smith@example.org or phishing@pot today");
        assert!(has(&names, "body:<email>"), "{names:?}");
        assert!(has(&names, "body2:to <email>"), "{names:?}");
        for leaked in ["alice", "smith", "example", "phishing", "pot"] {
            assert!(
                !names.iter().any(|n| n.contains(leaked)),
                "{leaked} leaked: {names:?}"
            );
        }
    }

    #[test]
    fn full_width_email_becomes_one_token() {
        let names = body("連絡先 ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ まで");
        assert!(has(&names, "body:<email>"), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.contains("user") || n.contains("ｕｓｅｒ"))
        );
    }

    #[test]
    fn handles_are_not_emails() {
        let names = body("follow @spearguard");
        assert!(has(&names, "body:spearguard"), "{names:?}");
        assert!(!has(&names, "body:<email>"));
    }

    #[test]
    fn cjk_runs_give_character_bigrams_and_unigrams() {
        let names = body("年金機構からのお知らせ");
        for bigram in [
            "年金", "金機", "機構", "構か", "から", "らの", "のお", "お知", "知ら", "らせ",
        ] {
            assert!(
                has(&names, &format!("body_cjk:{bigram}")),
                "{bigram}: {names:?}"
            );
        }
        for unigram in ["年", "金", "機", "構", "ら", "せ"] {
            assert!(
                has(&names, &format!("body_cjk:{unigram}")),
                "{unigram}: {names:?}"
            );
        }
        // 10 distinct characters (ら twice) and 10 distinct pairs.
        assert_eq!(names.len(), 20, "{names:?}");
    }

    #[test]
    fn cjk_punctuation_splits_runs() {
        let names = body("確認、お願い");
        assert!(has(&names, "body_cjk:確認"));
        assert!(!has(&names, "body_cjk:認お"), "{names:?}");
    }

    #[test]
    fn full_width_ascii_folds_to_ascii() {
        assert_eq!(
            extract(&FeatureInput {
                text: "ＰＡＳＳＷＯＲＤ　１２３",
                ..Default::default()
            }),
            extract(&FeatureInput {
                text: "password 123",
                ..Default::default()
            })
        );
    }

    #[test]
    fn text_is_lowercased_including_non_ascii() {
        let names = body("URGENT Urgent ПАРОЛЬ");
        assert!(has(&names, "body:urgent"));
        assert!(has(&names, "body2:urgent urgent"));
        assert!(has(&names, "body:пароль"), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.contains("URGENT") || n.contains("ПАРОЛЬ"))
        );
    }

    #[test]
    fn subject_and_body_use_different_namespaces() {
        let subject = extract(&FeatureInput {
            subject: "invoice",
            ..Default::default()
        });
        let text = extract(&FeatureInput {
            text: "invoice",
            ..Default::default()
        });
        assert_eq!(subject.len(), 1);
        assert_eq!(text.len(), 1);
        assert_ne!(subject, text);
        let names = names_of(&FeatureInput {
            subject: "お知らせ",
            ..Default::default()
        });
        assert!(has(&names, "subject_cjk:お知"), "{names:?}");
    }

    #[test]
    fn urls_are_not_words_and_break_bigrams() {
        let names = body("click https://evil.example.com/login?user=bob now or WWW.example.net/x");
        assert!(
            has(&names, "body:click") && has(&names, "body:now"),
            "{names:?}"
        );
        assert!(!has(&names, "body2:click now"), "{names:?}");
        for leaked in ["evil", "login", "bob", "example", "https", "www"] {
            assert!(
                !names.iter().any(|n| n.contains(leaked)),
                "{leaked}: {names:?}"
            );
        }
    }

    #[test]
    fn url_glued_to_japanese_ends_at_the_first_non_ascii_character() {
        let names = body("こちらhttps://example.com/loginからログイン");
        assert!(
            has(&names, "body_cjk:ログ") && has(&names, "body_cjk:こち"),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("login")), "{names:?}");
    }

    #[test]
    fn single_letters_and_long_tokens_are_skipped() {
        let blob = "x".repeat(41);
        let names = body(&format!("verify a account {blob} now"));
        assert!(
            has(&names, "body2:verify account"),
            "single letters keep neighbours: {names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("xxx")));
        assert!(
            !has(&names, "body2:account now"),
            "a blob breaks the bigram chain"
        );
        let edge = "y".repeat(40);
        assert!(
            has(&body(&edge), &format!("body:{edge}")),
            "40 characters are kept"
        );
    }

    #[test]
    fn word_bigrams_follow_word_order() {
        let names = body("verify your account");
        assert!(has(&names, "body2:verify your") && has(&names, "body2:your account"));
        assert!(!has(&names, "body2:your verify"));
    }

    #[test]
    fn links_and_shapes_have_their_own_families() {
        let links = [
            LinkFeature {
                host: "login.example.co.jp",
                registrable: "example.co.jp",
                path: "/Verify?id=9981",
            },
            LinkFeature {
                host: "192.0.2.1",
                registrable: "",
                path: "",
            },
        ];
        let names = names_of(&FeatureInput {
            links: &links,
            shapes: &["html_only"],
            ..Default::default()
        });
        for want in [
            "host:login.example.co.jp",
            "domain:example.co.jp",
            "tld:jp",
            "path:verify",
            "path:id",
            "path:0000",
            "shape:html_only",
            "host:192.0.2.1",
        ] {
            assert!(has(&names, want), "{want}: {names:?}");
        }
        assert!(
            !names.iter().any(|n| n.starts_with("tld:1")),
            "an IP has no TLD: {names:?}"
        );
    }

    #[test]
    fn ids_are_distinct_and_bounded() {
        let text = "spam spam spam eggs spam ".repeat(200);
        let ids = extract(&FeatureInput {
            text: &text,
            ..Default::default()
        });
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.iter().all(|&id| id < 1 << DEFAULT_BITS));
    }

    #[test]
    fn feature_cap_keeps_shapes_and_subject_first() {
        let text: String = (0..2000)
            .map(|i| format!("word{} ", "x".repeat(i % 30)))
            .collect();
        let config = FeatureConfig {
            max_features: 10,
            ..FeatureConfig::default()
        };
        let mut extractor = FeatureExtractor::new(config);
        let input = FeatureInput {
            subject: "hello",
            text: &text,
            shapes: &["html_only"],
            ..Default::default()
        };
        let mut ids = Vec::new();
        extractor.extract(&input, &mut ids);
        assert_eq!(ids.len(), 10);
        let names = extractor.describe(&input, &ids[..2]);
        assert_eq!(names[0].1, "shape:html_only");
        assert_eq!(names[1].1, "subject:hello");
        let uncapped = FeatureExtractor::new(FeatureConfig::default()).describe(&input, &ids);
        assert_eq!(uncapped.len(), 10, "describe names exactly the capped ids");
    }

    #[test]
    fn text_limit_cuts_on_a_character_boundary() {
        let config = FeatureConfig {
            max_text_bytes: 4,
            ..FeatureConfig::default()
        };
        let mut extractor = FeatureExtractor::new(config);
        let input = FeatureInput {
            text: "年金機構",
            ..Default::default()
        };
        let mut ids = Vec::new();
        extractor.extract(&input, &mut ids);
        let names: Vec<String> = extractor
            .describe(&input, &ids)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, ["body_cjk:年"]);
    }

    #[test]
    fn extractor_reuse_gives_identical_results() {
        let mut extractor = FeatureExtractor::new(FeatureConfig::default());
        let (a, b) = (
            FeatureInput {
                text: "one two three",
                ..Default::default()
            },
            FeatureInput {
                text: "two three four",
                ..Default::default()
            },
        );
        let (mut first, mut other, mut again) = (Vec::new(), Vec::new(), Vec::new());
        extractor.extract(&a, &mut first);
        extractor.extract(&b, &mut other);
        extractor.extract(&a, &mut again);
        assert_eq!(first, again);
    }

    #[test]
    fn bits_are_clamped() {
        let extractor = FeatureExtractor::new(FeatureConfig {
            bits: 60,
            ..FeatureConfig::default()
        });
        assert_eq!(extractor.config().bits, MAX_BITS);
        let extractor = FeatureExtractor::new(FeatureConfig {
            bits: 0,
            ..FeatureConfig::default()
        });
        assert_eq!(extractor.config().bits, MIN_BITS);
    }

    #[test]
    fn hostile_text_does_not_panic() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut extractor = FeatureExtractor::new(FeatureConfig {
            bits: MIN_BITS,
            ..FeatureConfig::default()
        });
        let mut ids = Vec::new();
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let alphabet = b"a@.-_ h\xe5\xb9\xb4ttp://w\xef\xbc\xa0\xff0";
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let links = [LinkFeature {
                host: &text,
                registrable: &text,
                path: &text,
            }];
            let input = FeatureInput {
                subject: &text,
                text: &text,
                links: &links,
                shapes: &[&text],
            };
            extractor.extract(&input, &mut ids);
            assert!(ids.iter().all(|&id| id < 1 << MIN_BITS));
            let _ = extractor.describe(&input, &ids);
        }
    }

    #[test]
    fn describe_skips_ids_the_message_does_not_produce() {
        let mut extractor = FeatureExtractor::new(FeatureConfig::default());
        let input = FeatureInput {
            text: "hello world",
            ..Default::default()
        };
        let mut ids = Vec::new();
        extractor.extract(&input, &mut ids);
        let absent = (0..).find(|id| !ids.contains(id)).unwrap();
        let named = extractor.describe(&input, &[absent, ids[0]]);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, ids[0]);
    }
}
