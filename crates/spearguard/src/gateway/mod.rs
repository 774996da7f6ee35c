//! The gateway's moving parts, shared by the SMTP relay (and later the milter): the
//! pipeline that judges and spools each message, and the worker that delivers the spool.

pub(crate) mod headers;
pub(crate) mod pipeline;
pub(crate) mod record;
pub(crate) mod worker;
