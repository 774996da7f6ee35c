//! Bounds on the work one message may cost, so hostile input costs bounded time and memory.

use serde::{Deserialize, Serialize};

/// How much of a message the parser will look at. Anything beyond is skipped and
/// recorded as an [`crate::Anomaly`], never an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest message accepted at all, in bytes.
    pub max_message_size: usize,
    /// Most MIME parts examined.
    pub max_parts: usize,
    /// Deepest nesting of multiparts and attached messages examined.
    pub max_depth: usize,
    /// Most visible text kept, in bytes, over all text parts.
    pub max_text_bytes: usize,
    /// Most HTML bytes read from one part.
    pub max_html_bytes: usize,
    /// Most links kept.
    pub max_links: usize,
    /// Most headers kept.
    pub max_headers: usize,
    /// Largest attachment whose bytes are kept for inspection.
    pub max_attachment_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 50 * 1024 * 1024,
            max_parts: 500,
            max_depth: 20,
            max_text_bytes: 256 * 1024,
            max_html_bytes: 2 * 1024 * 1024,
            max_links: 500,
            max_headers: 500,
            max_attachment_bytes: 25 * 1024 * 1024,
        }
    }
}
