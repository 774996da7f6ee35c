//! The registry of analysers: one line per analyser in [`build`], one field per analyser in
//! [`AnalysersConfig`]. Adding an analyser touches this file, its own file and its cases file.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analyser::Analyser;
use crate::engine::ConfigError;

pub mod attachments;
pub mod auth;
pub mod behaviour;
pub mod classifier;
pub mod content;
pub mod links;
pub mod sender;

/// `[analysers.*]`: each analyser's own section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysersConfig {
    /// `[analysers.links]`
    pub links: links::Config,
    /// `[analysers.sender]`
    pub sender: sender::Config,
    /// `[analysers.auth]`
    pub auth: auth::Config,
    /// `[analysers.attachments]`
    pub attachments: attachments::Config,
    /// `[analysers.content]`
    pub content: content::Config,
    /// `[analysers.classifier]`
    pub classifier: classifier::Config,
    /// `[analysers.behaviour]`
    pub behaviour: behaviour::Config,
}

/// Options that come from the command line rather than the config file.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Classifier model file; overrides `[analysers.classifier] model`.
    pub model: Option<PathBuf>,
    /// A model already in memory (cross-validation); overrides both of the above.
    pub model_data: Option<Arc<crate::classifier::Model>>,
}

/// Builds every enabled analyser, reporting every configuration problem at once.
pub fn build(
    cfg: &AnalysersConfig,
    opts: &BuildOptions,
) -> Result<Vec<Box<dyn Analyser>>, Vec<ConfigError>> {
    let results = [
        links::build(&cfg.links),
        sender::build(&cfg.sender),
        auth::build(&cfg.auth),
        attachments::build(&cfg.attachments),
        content::build(&cfg.content),
        classifier::build(&cfg.classifier, opts),
        behaviour::build(&cfg.behaviour),
    ];
    let mut analysers = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(Some(a)) => analysers.push(a),
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(analysers)
    } else {
        Err(errors)
    }
}

/// What each analyser's `build` returns: `None` when disabled.
pub(crate) type Built = Result<Option<Box<dyn Analyser>>, Vec<ConfigError>>;
