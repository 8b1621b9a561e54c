//! The `/mcp` access log.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::mcp_access_logs::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// Column sizes in characters (see migration m0020). Values are cut to fit before the insert:
/// MySQL in strict mode refuses an over-long value, and one bad row would fail its whole batch.
pub const PRINCIPAL_KIND_CHARS: usize = 16;
pub const PRINCIPAL_ID_CHARS: usize = 191;
pub const PRINCIPAL_NAME_CHARS: usize = 255;
pub const CLIENT_IP_CHARS: usize = 64;
pub const METHOD_CHARS: usize = 100;
pub const TARGET_CHARS: usize = 255;
pub const ERROR_CHARS: usize = 500;

/// `s` cut to at most `n` characters, on a character boundary.
fn clip(mut s: String, n: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(n) {
        s.truncate(at);
    }
    s
}

fn fitted(r: Model) -> ActiveModel {
    let r = Model {
        id: 0,
        principal_kind: clip(r.principal_kind, PRINCIPAL_KIND_CHARS),
        principal_id: clip(r.principal_id, PRINCIPAL_ID_CHARS),
        principal_name: clip(r.principal_name, PRINCIPAL_NAME_CHARS),
        client_ip: clip(r.client_ip, CLIENT_IP_CHARS),
        method: clip(r.method, METHOD_CHARS),
        target: clip(r.target, TARGET_CHARS),
        error: clip(r.error, ERROR_CHARS),
        ..r
    };
    let mut a: ActiveModel = r.into();
    a.id = sea_orm::ActiveValue::NotSet;
    a
}

/// Inserts rows with a few multi-row statements (see [`crate::batch`]); ids are assigned by
/// the database, so those of `rows` are ignored.
pub async fn insert_many(store: &Store, rows: Vec<Model>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let models: Vec<ActiveModel> = rows.into_iter().map(fitted).collect();
    crate::batch::insert_in_fixed_chunks(store.db(), models).await
}

/// The newest `limit` rows, newest first; an empty `principal_id` means anyone's.
pub async fn list(
    store: &Store,
    principal_id: &str,
    errors_only: bool,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut q = Entity::find();
    if !principal_id.is_empty() {
        q = q.filter(Column::PrincipalId.eq(principal_id));
    }
    if errors_only {
        q = q.filter(Column::IsError.eq(true));
    }
    Ok(q.order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
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

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("héllo".into(), 2), "hé");
        assert_eq!(clip("ab".into(), 5), "ab");
        assert_eq!(clip("日本語".into(), 0), "");
        assert_eq!(clip("日本語".into(), 3), "日本語");
    }
}
