//! `spearguard train` (being written).

use std::path::Path;

/// Runs the command.
pub(crate) fn run(_args: crate::cli::TrainArgs, _config: Option<&Path>) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
