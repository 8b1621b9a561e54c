//! Token usage rows (hosts' `POST /usage` for now; the gateway's calls later).

use sea_orm::Set;

use crate::entities::usage_rows::{ActiveModel, Model};
use crate::{Result, Store};

/// Stores rows of one ingest in one transaction (all or none).
pub async fn insert_all(store: &Store, rows: Vec<Model>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let models: Vec<ActiveModel> = rows
        .into_iter()
        .map(|r| ActiveModel {
            id: sea_orm::NotSet,
            ingest_id: Set(r.ingest_id),
            host_id: Set(r.host_id),
            source: Set(r.source),
            recorded_at: Set(r.recorded_at),
            model: Set(r.model),
            total_tokens: Set(r.total_tokens),
            input_tokens: Set(r.input_tokens),
            cached_input_tokens: Set(r.cached_input_tokens),
            output_tokens: Set(r.output_tokens),
            reasoning_output_tokens: Set(r.reasoning_output_tokens),
            line: Set(r.line),
            client_ip: Set(r.client_ip),
        })
        .collect();
    let txn = store.begin().await?;
    crate::batch::insert_in_fixed_chunks(&txn, models).await?;
    txn.commit().await?;
    Ok(())
}
