//! Delivery of accepted mail. With no downstream relay configured, spearguard delivers to a
//! local Maildir per recipient (`DATA/mailboxes/<address>/{tmp,new,cur}`), so the default
//! set-up is useful on its own. The relay client to a next hop comes with the gateway.

mod maildir;

pub use maildir::{DeliverError, Maildirs};
