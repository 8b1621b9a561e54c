//! The `/v1` request log.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::proxy_requests::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// Filters for [`list`]; empty means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: String,
    pub provider_id: String,
    pub model: String,
}

/// Newest first, keyset-paginated by id.
pub async fn list(
    store: &Store,
    f: &Filter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut q = Entity::find();
    if !f.user_id.is_empty() {
        q = q.filter(Column::UserId.eq(f.user_id.as_str()));
    }
    if !f.provider_id.is_empty() {
        q = q.filter(Column::ProviderId.eq(f.provider_id.as_str()));
    }
    if !f.model.is_empty() {
        q = q.filter(Column::RequestedModel.eq(f.model.as_str()));
    }
    if let Some(id) = before_id {
        q = q.filter(Column::Id.lt(id));
    }
    Ok(q.order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// Inserts rows with a few multi-row statements (see [`crate::batch`]).
pub async fn insert_many(store: &Store, rows: Vec<Model>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let models: Vec<ActiveModel> = rows
        .into_iter()
        .map(|r| {
            let mut a: ActiveModel = r.into();
            a.id = sea_orm::ActiveValue::NotSet;
            a
        })
        .collect();
    crate::batch::insert_in_fixed_chunks(store.db(), models).await
}

/// Rows deleted per statement while pruning, so no statement holds locks for long.
const PRUNE_CHUNK: i64 = 5_000;

/// Deletes rows logged before `older_than` (ms) and all but the newest `keep_rows`; `None`
/// leaves that bound off. Returns how many rows went. Ids grow with time, so both bounds become
/// "every id below a threshold", found through the primary key without a scan of old rows.
pub async fn prune(store: &Store, older_than: Option<i64>, keep_rows: Option<u64>) -> Result<u64> {
    let mut below: Option<i64> = None;
    if let Some(cutoff) = older_than {
        // The first row young enough to keep; everything before it goes (or, if every row is
        // old, everything).
        let first_kept = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::At.gte(cutoff))
            .order_by_asc(Column::Id)
            .into_tuple::<i64>()
            .one(store.db())
            .await?;
        below = Some(first_kept.unwrap_or(i64::MAX));
    }
    if let Some(keep) = keep_rows {
        let oldest_kept = Entity::find()
            .select_only()
            .column(Column::Id)
            .order_by_desc(Column::Id)
            .offset(keep.saturating_sub(1))
            .limit(1)
            .into_tuple::<i64>()
            // Not `one()`: that drops the offset.
            .all(store.db())
            .await?
            .pop();
        if let Some(id) = oldest_kept {
            below = Some(below.map_or(id, |b| b.max(id)));
        }
    }
    let Some(below) = below else { return Ok(0) };
    let mut deleted = 0;
    loop {
        let oldest = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Id.lt(below))
            .order_by_asc(Column::Id)
            .into_tuple::<i64>()
            .one(store.db())
            .await?;
        let Some(oldest) = oldest else {
            return Ok(deleted);
        };
        let done = Entity::delete_many()
            .filter(Column::Id.lt(below.min(oldest.saturating_add(PRUNE_CHUNK))))
            .exec(store.db())
            .await?;
        deleted += done.rows_affected;
    }
}

/// How many rows the log holds.
pub async fn count(store: &Store) -> Result<u64> {
    Ok(Entity::find().count(store.db()).await?)
}
