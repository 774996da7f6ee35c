//! `spearguard signals`: the catalog of every signal with its effective score.

use std::path::Path;

use crate::EXIT_OK;
use crate::cli::{EngineArgs, SignalsArgs};

/// Prints the catalog.
pub(crate) fn run(args: SignalsArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let rt = super::runtime(
        config,
        &EngineArgs {
            model: None,
            only: Vec::new(),
        },
    )?;
    let mut rows: Vec<serde_json::Value> = rt
        .engine
        .catalog()
        .into_iter()
        .map(|(def, effective)| {
            serde_json::json!({
                "name": def.name,
                "group": def.group.name(),
                "default_score": def.score,
                "score": effective,
                "description": def.description,
            })
        })
        .collect();
    rows.extend(rt.engine.composites().iter().map(|c| {
        serde_json::json!({
            "name": c.name,
            "group": "composite",
            "default_score": c.score,
            "score": c.score,
            "description": c.description,
        })
    }));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(EXIT_OK);
    }
    println!(
        "{:<34} {:<12} {:>7} {:>7}  DESCRIPTION",
        "NAME", "GROUP", "DEFAULT", "SCORE"
    );
    for r in &rows {
        println!(
            "{:<34} {:<12} {:>7.2} {:>7.2}  {}",
            r["name"].as_str().unwrap_or_default(),
            r["group"].as_str().unwrap_or_default(),
            r["default_score"].as_f64().unwrap_or_default(),
            r["score"].as_f64().unwrap_or_default(),
            r["description"].as_str().unwrap_or_default(),
        );
    }
    Ok(EXIT_OK)
}
