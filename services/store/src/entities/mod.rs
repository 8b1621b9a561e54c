//! sea-orm entities, one module per table. Times are Unix milliseconds (see the migrations).

pub mod audit_log;
pub mod leases;
pub mod service_tokens;
pub mod settings;
