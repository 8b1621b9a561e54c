//! Reading the audit log (every service appends to it through the store, in the transaction of
//! the change it records).

use codex_central_store::Store;
use codex_central_store::audit::{self, AuditFilter};
use codex_central_store::entities::audit_log::Model;

use crate::{Error, Result};

pub async fn list(
    store: &Store,
    filter: &AuditFilter,
    page_token: Option<String>,
    limit: u64,
) -> Result<Vec<Model>> {
    let before_id =
        match page_token {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                Error::invalid("page_token", "page_token is not a valid page token")
            })?),
        };
    Ok(audit::list(store, filter, before_id, limit).await?)
}
