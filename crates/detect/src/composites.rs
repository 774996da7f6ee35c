//! The default composite rules: cross-analyser logic ("free mail AND a link to an
//! executable") lives here and in config, never inside an analyser.

use crate::config::CompositeConfig;

fn rule(name: &str, description: &str, all: &[&str], any: &[&str], score: f32) -> CompositeConfig {
    CompositeConfig {
        name: name.to_string(),
        description: description.to_string(),
        all: all.iter().map(|s| s.to_string()).collect(),
        any: any.iter().map(|s| s.to_string()).collect(),
        none: Vec::new(),
        score,
    }
}

/// The composites shipped in the default config.
pub fn defaults() -> Vec<CompositeConfig> {
    vec![
        rule(
            "FREEMAIL_DANGEROUS_LINK",
            "Free-mail sender links straight to an executable or archive download",
            &["FROM_FREEMAIL"],
            &["LINK_EXECUTABLE", "LINK_ARCHIVE"],
            4.0,
        ),
        rule(
            "FREEMAIL_DANGEROUS_ATTACHMENT",
            "Free-mail sender attaches an executable or an archive holding one",
            &["FROM_FREEMAIL"],
            &["ATTACHMENT_EXECUTABLE", "ARCHIVE_HOLDS_EXECUTABLE"],
            4.0,
        ),
    ]
}
