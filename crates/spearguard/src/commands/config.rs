//! `spearguard config default|check|show`.

use std::path::Path;

use anyhow::Context as _;
use sg_detect::BuildOptions;

use crate::cli::ConfigCommand;
use crate::config::{Config, EXAMPLE};
use crate::{EXIT_BLOCKED, EXIT_OK};

/// Runs a config subcommand.
pub(crate) fn run(cmd: ConfigCommand, config: Option<&Path>) -> anyhow::Result<u8> {
    match cmd {
        ConfigCommand::Default => {
            print!("{EXAMPLE}");
            Ok(EXIT_OK)
        }
        ConfigCommand::Check { file } => {
            let path = file.as_deref().or(config);
            let cfg = match Config::load(path) {
                Ok(cfg) => cfg,
                Err(e) => {
                    eprintln!("{e:#}");
                    return Ok(EXIT_BLOCKED);
                }
            };
            match cfg.build(&BuildOptions::default()) {
                Ok(_) => {
                    println!(
                        "{}: ok",
                        path.map_or("built-in defaults".to_string(), |p| p.display().to_string())
                    );
                    Ok(EXIT_OK)
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    eprintln!("{} error(s)", errors.len());
                    Ok(EXIT_BLOCKED)
                }
            }
        }
        ConfigCommand::Show => {
            let cfg = Config::load(config)?;
            let text = toml::to_string_pretty(&cfg).context("serialising the effective config")?;
            print!("{text}");
            Ok(EXIT_OK)
        }
    }
}
