//! The gateway's moving parts, shared by the SMTP relay (and later the milter): the
//! pipeline that judges and spools each message, and the worker that delivers the spool
//! (to the local Maildirs or the next hop), bouncing what fails for good.

pub(crate) mod bounce;
pub(crate) mod delivery;
pub(crate) mod headers;
pub(crate) mod pipeline;
pub(crate) mod worker;
