//! Labelled mail for `eval`, `train` and `bench`: folders read into memory and parsed in
//! parallel, each message tagged with its class.

use std::path::PathBuf;

use rayon::prelude::*;
use sg_message::{Limits, Message};

use crate::inputs::{self, Input};
use crate::progress;

/// What a labelled message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Phishing or other malicious mail.
    Malicious,
    /// Legitimate mail.
    Benign,
    /// Unsolicited bulk mail (reported, not used for the bars).
    Spam,
}

impl Class {
    /// Lowercase name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Class::Malicious => "malicious",
            Class::Benign => "benign",
            Class::Spam => "spam",
        }
    }
}

/// One labelled message, parsed.
pub(crate) struct Sample {
    /// Where it came from.
    pub(crate) source: String,
    /// Its label.
    pub(crate) class: Class,
    /// The parsed message, or why it could not be read or parsed.
    pub(crate) message: Result<Message, String>,
}

/// Reads and parses every message under `paths` as `class`.
pub(crate) fn load(sets: &[(&[PathBuf], Class)], limits: &Limits) -> Vec<Sample> {
    let mut raw: Vec<(String, Class, Result<Vec<u8>, String>)> = Vec::new();
    let mut total = 0u64;
    let mut discovered = Vec::new();
    for (paths, class) in sets {
        let (sources, errors) = inputs::discover(paths);
        for e in errors {
            raw.push((e.source.clone(), *class, Err(e.kind.to_string())));
        }
        total += sources.iter().map(|s| s.size()).sum::<u64>();
        discovered.push((sources, *class));
    }
    let pb = progress::bar(total, "reading");
    for (sources, class) in discovered {
        for source in &sources {
            for input in inputs::read(source, limits.max_message_size) {
                match input {
                    Input::Message(m) => raw.push((m.source, class, Ok(m.bytes))),
                    Input::Error(e) => raw.push((e.source, class, Err(e.kind.to_string()))),
                }
            }
            pb.inc(source.size());
        }
    }
    pb.finish_and_clear();
    raw.into_par_iter()
        .map(|(source, class, bytes)| {
            let message = bytes.and_then(|b| Message::parse(&b, limits).map_err(|e| e.to_string()));
            Sample {
                source,
                class,
                message,
            }
        })
        .collect()
}
