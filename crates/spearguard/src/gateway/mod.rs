//! The gateway's moving parts, shared by the SMTP relay (and later the milter): the
//! pipeline that judges and spools each message, and the worker that delivers the spool.

pub(crate) mod headers;
pub(crate) mod pipeline;
pub(crate) mod worker;

/// The gateway's metrics, process-wide so the pipeline and the worker count without
/// threading a handle through them; `serve` hands it to the HTTP API for `/metrics`.
pub(crate) static METRICS: std::sync::LazyLock<std::sync::Arc<sg_web::Metrics>> =
    std::sync::LazyLock::new(Default::default);
