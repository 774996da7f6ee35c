//! One file per subcommand; `run` dispatches.

mod bench;
mod config;
mod directory;
mod eval;
mod messages;
mod quarantine;
mod scan;
mod scan_state;
mod serve;
mod signals;
mod train;

use std::path::Path;

use anyhow::bail;
use sg_detect::BuildOptions;

use crate::cli::{Cli, Command, EngineArgs};
use crate::config::{Config, Runtime};

/// Runs the chosen command and returns the exit status.
pub(crate) fn run(cli: Cli) -> anyhow::Result<u8> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => serve::run(args, config),
        Command::Quarantine(args) => quarantine::run(args, config),
        Command::Messages(args) => messages::run(args, config),
        Command::Scan(args) => scan::run(args, config),
        Command::Signals(args) => signals::run(args, config),
        Command::Config(cmd) => config::run(cmd, config),
        Command::Eval(args) => eval::run(args, config),
        Command::Train(args) => train::run(args, config),
        Command::Bench(args) => bench::run(args, config),
        Command::Directory(args) => directory::run(args, config),
    }
}

/// Loads the config and builds the engine with the command-line engine options applied.
pub(crate) fn runtime(config: Option<&Path>, args: &EngineArgs) -> anyhow::Result<Runtime> {
    runtime_from(&Config::load(config)?, args)
}

/// Builds the engine from a loaded config with the command-line engine options applied.
pub(crate) fn runtime_from(cfg: &Config, args: &EngineArgs) -> anyhow::Result<Runtime> {
    let opts = BuildOptions {
        model: args.model.clone(),
        model_data: None,
    };
    runtime_with(cfg, &opts, &args.only)
}

/// Builds the engine with explicit build options, keeping only the `only` analysers (when
/// given, each must exist).
pub(crate) fn runtime_with(
    cfg: &Config,
    opts: &BuildOptions,
    only: &[String],
) -> anyhow::Result<Runtime> {
    let mut rt = cfg.build_runtime(opts)?;
    if !only.is_empty() {
        let known = rt.engine.analyser_ids();
        let unknown: Vec<&String> = only
            .iter()
            .filter(|id| !known.contains(&id.as_str()))
            .collect();
        if !unknown.is_empty() {
            bail!(
                "--only: unknown analyser {}; analysers are {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                known.join(", ")
            );
        }
        let ids: Vec<&str> = only.iter().map(String::as_str).collect();
        rt.engine = rt.engine.only(&ids);
    }
    Ok(rt)
}
