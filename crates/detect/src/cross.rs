//! Facts about a message that only other messages reveal (issue 5), gathered by the
//! gateway's correlator before the scan and handed to the `behaviour` analyser through
//! [`crate::Context::cross`]. Plain data: sg-detect knows nothing of how they were found.

/// What the correlator found out about one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrossFacts {
    /// The sender is outside the organisation and no mail of theirs was ever delivered here.
    pub first_contact: bool,
    /// …and it writes from a free-mail provider.
    pub first_contact_freemail: bool,
    /// The message belongs to a campaign: its id and the distinct internal recipients so far.
    pub campaign: Option<(u64, usize)>,
    /// Undisclosed (never published) addresses among the recipients, reached by a sender
    /// without history.
    pub undisclosed_recipients: usize,
    /// The `directory_leak` alarm is up for this sender; `true` in the pair when escalated
    /// (several undisclosed addresses reached).
    pub directory_leak: Option<bool>,
}
