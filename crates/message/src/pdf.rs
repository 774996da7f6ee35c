//! Placeholder until the PDF scanner lands.
/// PDF facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdfFacts {
    /// Link targets.
    pub uris: Vec<String>,
    /// JavaScript present.
    pub javascript: bool,
    /// Launch action present.
    pub launch: bool,
    /// OpenAction present.
    pub open_action: bool,
    /// Embedded files.
    pub embedded_files: bool,
    /// SubmitForm.
    pub submit_form: bool,
    /// XFA.
    pub xfa: bool,
    /// Encrypted.
    pub encrypted: bool,
    /// Truncated.
    pub truncated: bool,
}
/// Limits.
#[derive(Debug, Clone, Default)]
pub struct PdfLimits {}
/// Scan.
pub fn scan_pdf(_data: &[u8], _limits: &PdfLimits) -> PdfFacts {
    PdfFacts::default()
}
