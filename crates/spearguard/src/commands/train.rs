//! `spearguard train`: learn the classifier from labelled mail and write one model file.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use sg_detect::analysers::classifier::MessageFeatures;
use sg_detect::classifier::{Model, Trainer, TrainerConfig};

use crate::cli::TrainArgs;
use crate::config::Config;
use crate::labelled::{self, Class, Sample};
use crate::{EXIT_OK, progress};

/// Trains and writes the model.
pub(crate) fn run(args: TrainArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let samples = labelled::load(
        &[
            (&args.labelled.malicious, Class::Malicious),
            (&args.labelled.benign, Class::Benign),
        ],
        &cfg.limits,
    );
    let skipped = samples.iter().filter(|s| s.message.is_err()).count();
    let model = train(&samples, args.epochs, |_| true);
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating model file {}", args.out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    model
        .save(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing model file {}", args.out.display()))?;
    println!(
        "learned {} malicious and {} benign messages ({} unreadable skipped); {} nonzero weights; wrote {}",
        model.malicious(),
        model.benign(),
        skipped,
        model.len(),
        args.out.display()
    );
    Ok(EXIT_OK)
}

/// Trains on the malicious and benign samples that `keep` accepts (spam is never used).
pub(crate) fn train(samples: &[Sample], epochs: usize, keep: impl Fn(&Sample) -> bool) -> Model {
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: u32::try_from(epochs).unwrap_or(u32::MAX).max(1),
        ..TrainerConfig::default()
    });
    let pb = progress::count_bar(samples.len() as u64, "learning");
    for s in samples {
        pb.inc(1);
        let Ok(msg) = &s.message else { continue };
        if s.class == Class::Spam || !keep(s) {
            continue;
        }
        let features = MessageFeatures::of(msg);
        trainer.add(&features.input(), s.class == Class::Malicious);
    }
    pb.finish_and_clear();
    trainer.train()
}
