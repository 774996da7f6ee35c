//! `spearguard directory import|list`: the staff directory kept in the store. An import
//! replaces the stored copy whole, in one transaction, or changes nothing.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use sg_directory::{Directory, Format, LdifOptions};

use crate::EXIT_OK;
use crate::cli::{DirectoryAction, DirectoryArgs, DirectoryFormat};
use crate::config::Config;

/// Runs `directory import` or `directory list`.
pub(crate) fn run(args: DirectoryArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let data = args.data_dir.unwrap_or(cfg.gateway.data_dir);
    match args.action {
        DirectoryAction::Import {
            file,
            format,
            published_attribute,
            json,
        } => {
            let format = match format {
                Some(DirectoryFormat::Csv) => Format::Csv,
                Some(DirectoryFormat::Ldif) => Format::Ldif,
                None => Format::from_path(&file),
            };
            let ldif = LdifOptions {
                published_attribute,
            };
            let dir = crate::staff::load(&file, format, &ldif).map_err(|e| anyhow!(e))?;
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating data dir {}", data.display()))?;
            let store = sg_store::open(&cfg.store.url, &data).context("opening the store")?;
            store
                .replace_directory(&dir.to_store())
                .context("saving the staff directory")?;
            print_counts(&dir, json)?;
        }
        DirectoryAction::List { json } => {
            let store = sg_store::open(&cfg.store.url, &data).context("opening the store")?;
            let rows = store.directory().context("reading the staff directory")?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = rows.iter().try_for_each(|e| {
                if json {
                    writeln!(out, "{}", serde_json::to_string(e).unwrap_or_default())
                } else {
                    let status = if e.published {
                        "published"
                    } else {
                        "undisclosed"
                    };
                    writeln!(out, "{}\t{status}\t{}\t{}", e.address, e.name, e.department)
                }
            });
            match written.and_then(|()| out.flush()) {
                // A reader that stopped early (`| head`) is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).context("writing the directory");
                }
                _ => {}
            }
        }
    }
    Ok(EXIT_OK)
}

fn print_counts(dir: &Directory, json: bool) -> anyhow::Result<()> {
    let domains: Vec<&String> = dir.domains().iter().collect();
    if json {
        let v = serde_json::json!({
            "entries": dir.len(),
            "published": dir.published_count(),
            "undisclosed": dir.undisclosed_count(),
            "domains": domains.len(),
            "domain_names": domains,
        });
        println!("{v}");
    } else {
        println!(
            "imported {} entries: {} published, {} undisclosed; {} domain{}: {}",
            dir.len(),
            dir.published_count(),
            dir.undisclosed_count(),
            domains.len(),
            if domains.len() == 1 { "" } else { "s" },
            domains
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
