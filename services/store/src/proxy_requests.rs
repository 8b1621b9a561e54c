//! The `/v1` request log.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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

/// Inserts rows in one statement.
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
    Entity::insert_many(models).exec(store.db()).await?;
    Ok(())
}
