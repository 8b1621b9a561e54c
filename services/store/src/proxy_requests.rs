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

/// Deletes rows logged before `older_than` (ms) and all but the newest `keep_rows` (see
/// [`crate::log_prune::prune`]); returns how many rows went.
pub async fn prune(store: &Store, older_than: Option<i64>, keep_rows: Option<u64>) -> Result<u64> {
    crate::log_prune::prune::<Entity>(store, Column::Id, Column::At, older_than, keep_rows).await
}

/// How many rows the log holds.
pub async fn count(store: &Store) -> Result<u64> {
    Ok(Entity::find().count(store.db()).await?)
}
