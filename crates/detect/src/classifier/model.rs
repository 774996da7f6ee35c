//! FTRL-Proximal logistic regression over hashed binary features, and the compact model it
//! produces.
//!
//! Training follows McMahan et al. 2013, "Ad Click Prediction: a View from the Trenches"
//! (Algorithm 1): every coordinate keeps its own `z` and `n`, so rare features get large steps
//! and frequent ones small steps, and the L1 term drives most weights to exactly zero. [`Ftrl`]
//! holds dense `z`/`n` arrays of `2^bits` slots while training; [`Ftrl::finish`] freezes the
//! weights into a [`Model`]. The file keeps only the nonzero weights; in memory the model is a
//! dense `Vec<f32>` of `2^bits` slots (4 MiB at the default 20 bits), because one branch-free
//! load per feature measured about 4× faster than hash-table layouts sized to the nonzero
//! weights. That table is allocated only after the whole file has been read and checked.

use super::features::{MAX_BITS, MIN_BITS};

/// Logits are clamped to ±16 so `f32` probabilities stay strictly inside (0, 1).
const MAX_LOGIT: f32 = 16.0;
/// Largest class weight balanced training applies to the minority class.
const MAX_CLASS_WEIGHT: f32 = 10.0;

/// FTRL-Proximal hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FtrlConfig {
    /// Learning-rate scale α.
    pub alpha: f32,
    /// Learning-rate smoothing β.
    pub beta: f32,
    /// L1 strength λ1: larger gives sparser models.
    pub l1: f32,
    /// L2 strength λ2.
    pub l2: f32,
    /// Weight each class by `total / (2 · class count)` (capped) so the prior does not dominate.
    pub balanced: bool,
}

impl Default for FtrlConfig {
    fn default() -> Self {
        FtrlConfig {
            alpha: 0.05,
            beta: 1.0,
            l1: 1.0,
            l2: 1.0,
            balanced: true,
        }
    }
}

/// Online FTRL-Proximal trainer over a dense `2^bits` feature space.
#[derive(Debug, Clone)]
pub struct Ftrl {
    config: FtrlConfig,
    bits: u8,
    mask: u32,
    z: Vec<f32>,
    n: Vec<f32>,
    bias_z: f32,
    bias_n: f32,
    malicious: u64,
    benign: u64,
    weights: Vec<f32>,
}

impl Ftrl {
    /// Creates a zero model; `bits` is clamped to `MIN_BITS..=MAX_BITS` and must match the extractor.
    ///
    /// Hyperparameters that would make the update undefined are replaced: a non-positive or
    /// non-finite `alpha` by the default, negative or non-finite `beta`, `l1`, `l2` by 0.
    pub fn new(bits: u8, mut config: FtrlConfig) -> Self {
        let bits = bits.clamp(MIN_BITS, MAX_BITS);
        let sane = |x: f32| if x.is_finite() && x >= 0.0 { x } else { 0.0 };
        if !(config.alpha.is_finite() && config.alpha > 0.0) {
            config.alpha = FtrlConfig::default().alpha;
        }
        (config.beta, config.l1, config.l2) = (sane(config.beta), sane(config.l1), sane(config.l2));
        let size = 1usize << bits;
        Ftrl {
            config,
            bits,
            mask: (1u32 << bits) - 1,
            z: vec![0.0; size],
            n: vec![0.0; size],
            bias_z: 0.0,
            bias_n: 0.0,
            malicious: 0,
            benign: 0,
            weights: Vec::new(),
        }
    }

    /// Counts one example of `label` (used for the class counts and balanced weights).
    pub fn observe(&mut self, malicious: bool) {
        if malicious {
            self.malicious += 1;
        } else {
            self.benign += 1;
        }
    }

    /// Weight an example of this class gets: 1, or the balanced weight from the counts so far.
    pub fn class_weight(&self, malicious: bool) -> f32 {
        let own = if malicious {
            self.malicious
        } else {
            self.benign
        };
        if !self.config.balanced || own == 0 {
            return 1.0;
        }
        let total = (self.malicious + self.benign) as f64;
        ((total / (2.0 * own as f64)) as f32).min(MAX_CLASS_WEIGHT)
    }

    /// Counts the example, then takes one weighted step; returns the prediction before the step.
    pub fn train_one(&mut self, ids: &[u32], malicious: bool) -> f32 {
        self.observe(malicious);
        self.update(ids, malicious, self.class_weight(malicious))
    }

    /// One FTRL step on a deduplicated feature set, without counting; returns the prior prediction.
    pub fn update(&mut self, ids: &[u32], malicious: bool, weight: f32) -> f32 {
        let FtrlConfig {
            alpha,
            beta,
            l1,
            l2,
            ..
        } = self.config;
        self.weights.clear();
        let bias_w = ftrl_weight(self.bias_z, self.bias_n, alpha, beta, 0.0, 0.0);
        let mut logit = bias_w;
        for &id in ids {
            // Masked, so `i < 2^bits == z.len() == n.len()`: indexing cannot fail.
            let i = (id & self.mask) as usize;
            let w = ftrl_weight(self.z[i], self.n[i], alpha, beta, l1, l2);
            self.weights.push(w);
            logit += w;
        }
        let p = sigmoid(logit);
        let g = (p - if malicious { 1.0 } else { 0.0 }) * weight;
        if !g.is_finite() {
            return p;
        }
        let step = |z: &mut f32, n: &mut f32, w: f32| {
            let sigma = ((*n + g * g).sqrt() - n.sqrt()) / alpha;
            *z += g - sigma * w;
            *n += g * g;
        };
        step(&mut self.bias_z, &mut self.bias_n, bias_w);
        for (&id, &w) in ids.iter().zip(&self.weights) {
            let i = (id & self.mask) as usize;
            step(&mut self.z[i], &mut self.n[i], w);
        }
        p
    }

    /// Current probability that the feature set is malicious.
    pub fn predict(&self, ids: &[u32]) -> f32 {
        let FtrlConfig {
            alpha,
            beta,
            l1,
            l2,
            ..
        } = self.config;
        let mut logit = ftrl_weight(self.bias_z, self.bias_n, alpha, beta, 0.0, 0.0);
        for &id in ids {
            let i = (id & self.mask) as usize;
            logit += ftrl_weight(self.z[i], self.n[i], alpha, beta, l1, l2);
        }
        sigmoid(logit)
    }

    /// Freezes the current weights into a compact [`Model`] holding only nonzero weights.
    pub fn finish(&self) -> Model {
        let FtrlConfig {
            alpha,
            beta,
            l1,
            l2,
            ..
        } = self.config;
        let weights = self
            .z
            .iter()
            .zip(&self.n)
            .map(|(&z, &n)| ftrl_weight(z, n, alpha, beta, l1, l2))
            .map(|w| if w.is_finite() { w } else { 0.0 })
            .collect();
        let bias = ftrl_weight(self.bias_z, self.bias_n, alpha, beta, 0.0, 0.0);
        let bias = if bias.is_finite() { bias } else { 0.0 };
        Model::new(self.bits, self.malicious, self.benign, bias, weights)
    }
}

/// The closed-form FTRL-Proximal weight of one coordinate.
#[inline]
fn ftrl_weight(z: f32, n: f32, alpha: f32, beta: f32, l1: f32, l2: f32) -> f32 {
    if z.abs() <= l1 {
        0.0
    } else {
        -(z - z.signum() * l1) / ((beta + n.sqrt()) / alpha + l2)
    }
}

#[inline]
fn sigmoid(logit: f32) -> f32 {
    let logit = if logit.is_nan() {
        0.0
    } else {
        logit.clamp(-MAX_LOGIT, MAX_LOGIT)
    };
    1.0 / (1.0 + (-logit).exp())
}

/// A trained classifier: bias plus one weight per feature slot, zero for most.
#[derive(Debug, Clone)]
pub struct Model {
    bits: u8,
    malicious: u64,
    benign: u64,
    bias: f32,
    len: usize,
    weights: Vec<f32>,
}

impl Model {
    /// Wraps a dense table of `2^bits` weights.
    fn new(bits: u8, malicious: u64, benign: u64, bias: f32, weights: Vec<f32>) -> Model {
        let len = weights.iter().filter(|&&w| w != 0.0).count();
        Model {
            bits,
            malicious,
            benign,
            bias,
            len,
            weights,
        }
    }

    /// Builds the dense table from sparse entries; indices beyond `2^bits` are ignored.
    pub(super) fn from_entries(
        bits: u8,
        malicious: u64,
        benign: u64,
        bias: f32,
        entries: &[(u32, f32)],
    ) -> Model {
        let mut weights = vec![0.0; 1usize << bits];
        for &(index, weight) in entries {
            if let Some(slot) = weights.get_mut(index as usize) {
                *slot = weight;
            }
        }
        Model::new(bits, malicious, benign, bias, weights)
    }

    /// Size of the feature space the model expects, in bits.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Malicious examples seen in training.
    pub fn malicious(&self) -> u64 {
        self.malicious
    }

    /// Benign examples seen in training.
    pub fn benign(&self) -> u64 {
        self.benign
    }

    /// The intercept (log-odds with no features).
    pub fn bias(&self) -> f32 {
        self.bias
    }

    /// Number of nonzero weights.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the model has no nonzero weight (it then predicts from the bias alone).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Weight of one feature id; 0 for ids the model does not know.
    #[inline]
    pub fn weight(&self, id: u32) -> f32 {
        self.weights.get(id as usize).copied().unwrap_or(0.0)
    }

    /// Probability in (0, 1) that a message with these features is malicious.
    pub fn predict(&self, ids: &[u32]) -> f32 {
        sigmoid(self.bias + ids.iter().map(|&id| self.weight(id)).sum::<f32>())
    }

    /// The `k` features of `ids` with the largest |weight|, strongest first (positive = malicious).
    pub fn contributions(&self, ids: &[u32], k: usize) -> Vec<(u32, f32)> {
        let mut found: Vec<(u32, f32)> = ids
            .iter()
            .map(|&id| (id, self.weight(id)))
            .filter(|&(_, w)| w != 0.0)
            .collect();
        found.sort_unstable_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        found.dedup_by_key(|e| e.0);
        found.truncate(k);
        found
    }

    /// Nonzero weights as `(index, weight)`, sorted by index.
    pub fn entries(&self) -> Vec<(u32, f32)> {
        (0u32..)
            .zip(&self.weights)
            .filter(|&(_, &w)| w != 0.0)
            .map(|(index, &w)| (index, w))
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A small trained model: ids 1..=20 lean malicious, 101..=120 benign.
    pub(in crate::classifier) fn small_model() -> Model {
        let mut ftrl = Ftrl::new(MIN_BITS, FtrlConfig::default());
        for round in 0..200u32 {
            let bad: Vec<u32> = (1..=20).filter(|i| (i + round) % 3 != 0).collect();
            let good: Vec<u32> = (101..=120).filter(|i| (i + round) % 3 != 0).collect();
            ftrl.train_one(&bad, true);
            ftrl.train_one(&good, false);
        }
        ftrl.finish()
    }

    #[test]
    fn ftrl_learns_a_separable_problem() {
        let model = small_model();
        let bad: Vec<u32> = (1..=20).collect();
        let good: Vec<u32> = (101..=120).collect();
        assert!(model.predict(&bad) > 0.9, "{}", model.predict(&bad));
        assert!(model.predict(&good) < 0.1, "{}", model.predict(&good));
        assert!(model.weight(1) > 0.0 && model.weight(101) < 0.0);
        assert_eq!((model.malicious(), model.benign()), (200, 200));
        assert!(!model.is_empty() && model.len() <= 40);
    }

    #[test]
    fn l1_keeps_unseen_and_rare_weights_at_zero() {
        let model = small_model();
        assert_eq!(model.weight(500), 0.0);
        let mut ftrl = Ftrl::new(MIN_BITS, FtrlConfig::default());
        ftrl.train_one(&[7], true);
        assert!(ftrl.finish().is_empty(), "one example cannot beat l1 = 1");
    }

    #[test]
    fn predictions_stay_strictly_inside_zero_one() {
        let model = Model::from_entries(MIN_BITS, 0, 0, 0.0, &[(1, 1000.0), (2, -1000.0)]);
        let high = model.predict(&[1]);
        let low = model.predict(&[2]);
        assert!(high < 1.0 && high > 0.99, "{high}");
        assert!(low > 0.0 && low < 0.01, "{low}");
        assert_eq!(model.predict(&[]), 0.5);
        assert_eq!(sigmoid(f32::NAN), 0.5);
    }

    #[test]
    fn undefined_hyperparameters_are_replaced() {
        let config = FtrlConfig {
            alpha: 0.0,
            beta: f32::NAN,
            l1: -1.0,
            l2: f32::INFINITY,
            balanced: false,
        };
        let mut ftrl = Ftrl::new(MIN_BITS, config);
        for _ in 0..50 {
            ftrl.train_one(&[1, 2], true);
            ftrl.train_one(&[3, 4], false);
        }
        let model = ftrl.finish();
        assert!(model.bias().is_finite());
        assert!(model.predict(&[1, 2]) > 0.5 && model.predict(&[3, 4]) < 0.5);
    }

    #[test]
    fn balanced_weights_favour_the_minority_class() {
        let mut ftrl = Ftrl::new(MIN_BITS, FtrlConfig::default());
        for i in 0..100 {
            ftrl.observe(i < 10);
        }
        assert!((ftrl.class_weight(true) - 5.0).abs() < 1e-6);
        assert!((ftrl.class_weight(false) - 100.0 / 180.0).abs() < 1e-6);
        let plain = Ftrl::new(
            MIN_BITS,
            FtrlConfig {
                balanced: false,
                ..FtrlConfig::default()
            },
        );
        assert_eq!(plain.class_weight(true), 1.0);
    }

    #[test]
    fn ids_beyond_the_feature_space_do_not_panic() {
        let mut ftrl = Ftrl::new(MIN_BITS, FtrlConfig::default());
        ftrl.train_one(&[u32::MAX, 1 << 20], true);
        assert!(ftrl.predict(&[u32::MAX]) > 0.0);
        assert_eq!(small_model().weight(u32::MAX), 0.0);
    }

    #[test]
    fn entries_list_exactly_the_nonzero_weights() {
        let entries = [(0, 1.0), (5, -2.5), ((1 << MIN_BITS) - 1, 0.25)];
        let model = Model::from_entries(MIN_BITS, 0, 0, 0.0, &entries);
        assert_eq!(model.entries(), entries);
        assert_eq!(model.len(), 3);
        assert_eq!(model.weight(5), -2.5);
        assert_eq!(model.weight(1 << MIN_BITS), 0.0);
    }

    #[test]
    fn contributions_are_top_k_by_magnitude() {
        let model = Model::from_entries(
            MIN_BITS,
            0,
            0,
            0.0,
            &[(1, 0.5), (2, -2.0), (3, 1.0), (4, 0.1)],
        );
        assert_eq!(
            model.contributions(&[1, 2, 3, 4, 9], 3),
            [(2, -2.0), (3, 1.0), (1, 0.5)]
        );
        assert_eq!(model.contributions(&[3, 3], 5), [(3, 1.0)]);
        assert!(model.contributions(&[9], 5).is_empty());
    }
}
