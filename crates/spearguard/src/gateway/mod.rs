//! The gateway's moving parts, shared by the SMTP relay and the milter: the judgement both
//! use, the pipeline that judges and spools each relayed message, the milter handler that
//! judges and answers Postfix, and the worker that delivers the spool.

pub(crate) mod headers;
pub(crate) mod judge;
pub(crate) mod milter;
pub(crate) mod pipeline;
pub(crate) mod record;
pub(crate) mod worker;

/// The gateway's metrics, process-wide so the pipeline and the worker count without
/// threading a handle through them; `serve` hands it to the HTTP API for `/metrics`.
pub(crate) static METRICS: std::sync::LazyLock<std::sync::Arc<sg_web::Metrics>> =
    std::sync::LazyLock::new(Default::default);
