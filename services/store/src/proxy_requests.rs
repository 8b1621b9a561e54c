//! The `/v1` request log.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::proxy_requests::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

pub async fn insert(store: &Store, row: Model) -> Result<Model> {
    let mut active: ActiveModel = row.into();
    active.id = sea_orm::ActiveValue::NotSet;
    Ok(active.insert(store.db()).await?)
}

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
