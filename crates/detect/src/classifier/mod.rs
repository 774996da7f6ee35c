//! Statistical classifier core: a sparse linear model over hashed message features.
//!
//! The same idea as rspamd's neural/Bayes modules and Stalwart's FTRL-Proximal spam model:
//! [`features`] turns a message's subject, visible text, links and shape tokens into hashed
//! binary features (the tokenising rules live in `tokens` and `chars`); [`model`] learns a
//! logistic regression over them online with FTRL-Proximal and freezes it into a [`Model`]
//! that returns a probability plus the features that pushed it, which
//! [`FeatureExtractor::describe`] names for evidence; `model_file` saves and loads models in
//! a checksummed binary format. [`Trainer`] is the batch front end: it extracts once, shuffles
//! deterministically and runs a few epochs.
//!
//! Scanning a message: build one [`FeatureExtractor`] per thread with the model's `bits`, call
//! [`FeatureExtractor::extract`] into a reused `Vec<u32>`, then [`Model::predict`]; only when
//! the score matters, [`Model::contributions`] picks the strongest ids and `describe` names
//! them.

mod chars;
pub mod features;
pub mod model;
mod model_file;
mod tokens;

pub use features::{
    DEFAULT_BITS, EXTRACTOR_VERSION, Family, FeatureConfig, FeatureExtractor, FeatureInput,
    LinkFeature, MAX_BITS, MIN_BITS,
};
pub use model::{Ftrl, FtrlConfig, Model};
pub use model_file::{FORMAT_VERSION, MAGIC, ModelError};

/// Settings for a [`Trainer`] run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainerConfig {
    /// Feature extraction settings; the model inherits `bits`.
    pub features: FeatureConfig,
    /// FTRL hyperparameters.
    pub ftrl: FtrlConfig,
    /// Passes over the shuffled examples.
    pub epochs: u32,
    /// Seed of the shuffle, so the same examples give the same model.
    pub seed: u64,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            features: FeatureConfig::default(),
            ftrl: FtrlConfig::default(),
            epochs: 3,
            seed: 0x5EED_5EED_5EED_5EED,
        }
    }
}

/// Collects labelled messages as feature sets and trains a [`Model`] from them.
#[derive(Debug)]
pub struct Trainer {
    config: TrainerConfig,
    extractor: FeatureExtractor,
    ids: Vec<u32>,
    examples: Vec<Example>,
    scratch: Vec<u32>,
}

/// One stored example: its ids are `ids[start..start + len]`.
#[derive(Debug, Clone, Copy)]
struct Example {
    start: usize,
    len: usize,
    malicious: bool,
}

impl Trainer {
    /// Creates an empty trainer.
    pub fn new(config: TrainerConfig) -> Self {
        Trainer {
            extractor: FeatureExtractor::new(config.features),
            config,
            ids: Vec::new(),
            examples: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Extracts and stores one labelled message (`malicious` = phishing or spam).
    pub fn add(&mut self, input: &FeatureInput<'_>, malicious: bool) {
        self.extractor.extract(input, &mut self.scratch);
        self.examples.push(Example {
            start: self.ids.len(),
            len: self.scratch.len(),
            malicious,
        });
        self.ids.extend_from_slice(&self.scratch);
    }

    /// Number of stored examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether no example has been added.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Trains a fresh model on every stored example for the configured number of epochs.
    pub fn train(&self) -> Model {
        let mut ftrl = Ftrl::new(self.extractor.config().bits, self.config.ftrl);
        for example in &self.examples {
            ftrl.observe(example.malicious);
        }
        // Class weights come from the full counts, not from the running ones.
        let weights = [ftrl.class_weight(false), ftrl.class_weight(true)];
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        let mut rng = XorShift::new(self.config.seed);
        for _ in 0..self.config.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let Some(example) = self.examples.get(i) else {
                    continue;
                };
                let ids = self
                    .ids
                    .get(example.start..example.start + example.len)
                    .unwrap_or_default();
                ftrl.update(
                    ids,
                    example.malicious,
                    weights[usize::from(example.malicious)],
                );
            }
        }
        ftrl.finish()
    }

    /// Convenience: adds every `(input, malicious)` pair and trains.
    pub fn train_all<'a>(
        config: TrainerConfig,
        examples: impl IntoIterator<Item = (FeatureInput<'a>, bool)>,
    ) -> Model {
        let mut trainer = Trainer::new(config);
        for (input, malicious) in examples {
            trainer.add(&input, malicious);
        }
        trainer.train()
    }
}

/// xorshift64*: small, seedable and good enough to shuffle training order.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHISH: &[&str] = &[
        "verify",
        "account",
        "suspended",
        "password",
        "urgent",
        "click",
        "login",
        "confirm",
        "security",
        "unlock",
        "expire",
        "billing",
        "restore",
        "limited",
        "identity",
        "アカウント確認",
    ];
    const HAM: &[&str] = &[
        "meeting",
        "lunch",
        "project",
        "report",
        "schedule",
        "team",
        "thanks",
        "attached",
        "review",
        "notes",
        "agenda",
        "weekend",
        "coffee",
        "draft",
        "minutes",
        "会議の資料",
    ];
    const SHARED: &[&str] = &[
        "the",
        "you",
        "please",
        "today",
        "message",
        "email",
        "time",
        "information",
        "update",
        "tomorrow",
        "regards",
        "hello",
        "we",
        "your",
        "for",
        "and",
        "お願いします",
    ];

    /// A toy message: own-class words, shared words and some of the other class's words.
    struct Toy {
        subject: String,
        text: String,
        host: String,
        malicious: bool,
    }

    fn pick(rng: &mut XorShift, words: &[&str]) -> String {
        words[(rng.next_u64() % words.len() as u64) as usize].to_string()
    }

    fn toy(rng: &mut XorShift, malicious: bool) -> Toy {
        let (own, other) = if malicious {
            (PHISH, HAM)
        } else {
            (HAM, PHISH)
        };

        let mut words = Vec::new();
        for _ in 0..20 {
            let roll = rng.next_u64() % 100;
            words.push(match roll {
                0..35 => pick(rng, own),
                35..85 => pick(rng, SHARED),
                _ => pick(rng, other),
            });
        }
        let id = rng.next_u64() % 100_000;
        words.push(format!("ref {id} user{id}@example.org"));
        let subject = format!("{} {}", pick(rng, own), pick(rng, SHARED));
        let host = if (rng.next_u64() % 100 < 70) == malicious {
            format!("login-{}.example.net", id % 50)
        } else {
            "www.example.org".to_string()
        };
        Toy {
            subject,
            text: words.join(" "),
            host,
            malicious,
        }
    }

    fn dataset(seed: u64, n: usize, label_noise: u64) -> Vec<Toy> {
        let mut rng = XorShift::new(seed);
        (0..n)
            .map(|i| {
                let mut t = toy(&mut rng, i % 3 == 0);
                if rng.next_u64() % 100 < label_noise {
                    t.malicious = !t.malicious;
                }
                t
            })
            .collect()
    }

    fn with_input<R>(t: &Toy, f: impl FnOnce(FeatureInput<'_>) -> R) -> R {
        let links = [LinkFeature {
            host: &t.host,
            registrable: "example.net",
            path: "/signin",
        }];
        let links = if t.host.starts_with("login") {
            &links[..]
        } else {
            &[]
        };
        f(FeatureInput {
            subject: &t.subject,
            text: &t.text,
            links,
            shapes: &[],
        })
    }

    fn train(examples: &[Toy]) -> Model {
        let mut trainer = Trainer::new(TrainerConfig::default());
        for t in examples {
            with_input(t, |input| trainer.add(&input, t.malicious));
        }
        trainer.train()
    }

    #[test]
    fn learns_toy_vocabularies_and_generalises() {
        let train_set = dataset(1, 1500, 5);
        let test_set = dataset(2, 500, 0);
        let model = train(&train_set);
        let mut extractor = FeatureExtractor::new(FeatureConfig::default());
        let mut ids = Vec::new();
        let mut correct = 0;
        for t in &test_set {
            let p = with_input(t, |input| {
                extractor.extract(&input, &mut ids);
                model.predict(&ids)
            });
            assert!(p > 0.0 && p < 1.0, "{p}");
            correct += usize::from((p > 0.5) == t.malicious);
        }
        let accuracy = correct as f64 / test_set.len() as f64;
        assert!(accuracy > 0.9, "held-out accuracy {accuracy}");
        assert_eq!(model.malicious() + model.benign(), 1500);
    }

    #[test]
    fn contributions_name_real_tokens() {
        let model = train(&dataset(3, 1500, 0));
        let mut extractor = FeatureExtractor::new(FeatureConfig::default());
        let message = Toy {
            subject: "urgent notice".into(),
            text: "please verify your password today or the account is suspended, phishing@pot"
                .into(),
            host: "login-7.example.net".into(),
            malicious: true,
        };
        with_input(&message, |input| {
            let mut ids = Vec::new();
            extractor.extract(&input, &mut ids);
            assert!(model.predict(&ids) > 0.5);
            let top = model.contributions(&ids, 5);
            assert!(!top.is_empty() && top[0].1 > 0.0, "{top:?}");
            let wanted: Vec<u32> = top.iter().map(|&(id, _)| id).collect();
            let named = extractor.describe(&input, &wanted);
            assert_eq!(named.len(), top.len(), "{named:?}");
            for (_, name) in &named {
                let (_, token) = name.split_once(':').unwrap();
                let mut words = token.split(' ');
                let in_message = |w: &str| {
                    input.subject.contains(w)
                        || input.text.contains(w)
                        || message.host.contains(w)
                        || w == "signin"
                };
                assert!(words.all(in_message), "{name} is not from the message");
            }
            // Addresses are always `<email>`, so no evidence can show one.
            let mut all = Vec::new();
            extractor.extract(&input, &mut all);
            let every = extractor.describe(&input, &all);
            assert!(
                every
                    .iter()
                    .all(|(_, n)| !n.contains("phishing") && !n.contains("pot"))
            );
        });
    }

    #[test]
    fn training_is_deterministic() {
        let data = dataset(4, 300, 5);
        assert_eq!(train(&data).entries(), train(&data).entries());
    }

    #[test]
    fn empty_trainer_gives_a_neutral_model() {
        let trainer = Trainer::new(TrainerConfig::default());
        assert!(trainer.is_empty());
        let model = trainer.train();
        assert!(model.is_empty());
        assert_eq!(model.predict(&[1, 2, 3]), 0.5);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<u32> = (0..100).collect();
        XorShift::new(7).shuffle(&mut items);
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }
}
