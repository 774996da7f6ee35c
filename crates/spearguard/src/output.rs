//! How scan results are printed: a text line or a JSON object per message.

use serde::Serialize;
use sg_detect::{Location, Report};

/// One signal in JSON output.
#[derive(Debug, Serialize)]
pub(crate) struct JsonSignal<'a> {
    name: &'a str,
    group: &'static str,
    score: f32,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a Location>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    facts: serde_json::Map<String, serde_json::Value>,
}

/// One message in JSON output.
#[derive(Debug, Serialize)]
pub(crate) struct JsonResult<'a> {
    source: &'a str,
    message_id: Option<&'a str>,
    verdict: &'static str,
    score: f32,
    signals: Vec<JsonSignal<'a>>,
}

/// The JSON object for one scanned message.
pub(crate) fn json_line(source: &str, message_id: Option<&str>, report: &Report) -> String {
    json_value(source, message_id, report).to_string()
}

/// [`json_line`] as a value, for callers that add fields (`scan --state`).
pub(crate) fn json_value(
    source: &str,
    message_id: Option<&str>,
    report: &Report,
) -> serde_json::Value {
    let signals = report
        .signals
        .iter()
        .map(|s| JsonSignal {
            name: &s.name,
            group: s.group.name(),
            score: s.score,
            detail: &s.evidence.summary,
            location: s.evidence.location.as_ref(),
            facts: s
                .evidence
                .facts
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                .collect(),
        })
        .collect();
    let r = JsonResult {
        source,
        message_id,
        verdict: report.verdict.as_str(),
        score: report.score,
        signals,
    };
    serde_json::to_value(&r)
        .unwrap_or_else(|e| serde_json::json!({ "source": source, "error": e.to_string() }))
}

/// The JSON object for a message that could not be read or parsed.
pub(crate) fn json_error(source: &str, error: &str) -> String {
    serde_json::json!({ "source": source, "error": error }).to_string()
}

/// The text line for one scanned message: source, verdict, score, signals.
pub(crate) fn text_line(source: &str, report: &Report) -> String {
    let signals: Vec<String> = report
        .signals
        .iter()
        .map(|s| format!("{}({:+.1})", s.name, s.score))
        .collect();
    format!(
        "{source}\t{}\t{:.1}\t{}",
        report.verdict,
        report.score,
        if signals.is_empty() {
            "-".to_string()
        } else {
            signals.join(",")
        }
    )
}
