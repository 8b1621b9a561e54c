//! Pruning of the append-only logs (`/v1` requests, `/mcp` calls): rows with an auto-increment
//! id that grows with time and a `Unix ms` time column.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{Result, Store};

/// Rows deleted per statement while pruning, so no statement holds locks for long.
const PRUNE_CHUNK: i64 = 5_000;

/// Deletes rows logged before `older_than` (ms) and all but the newest `keep_rows` (0 keeps
/// none); `None` leaves that bound off. Returns how many rows went. Ids grow with time, so both
/// bounds become "every id below a threshold", found through the primary key without a scan of
/// old rows.
pub(crate) async fn prune<E: EntityTrait>(
    store: &Store,
    id: E::Column,
    at: E::Column,
    older_than: Option<i64>,
    keep_rows: Option<u64>,
) -> Result<u64> {
    let mut below: Option<i64> = None;
    if let Some(cutoff) = older_than {
        // The first row young enough to keep; everything before it goes (or, if every row is
        // old, everything).
        let first_kept = E::find()
            .select_only()
            .column(id)
            .filter(at.gte(cutoff))
            .order_by_asc(id)
            .into_tuple::<i64>()
            .one(store.db())
            .await?;
        below = Some(first_kept.unwrap_or(i64::MAX));
    }
    if let Some(keep) = keep_rows {
        let oldest_kept = if keep == 0 {
            Some(i64::MAX)
        } else {
            E::find()
                .select_only()
                .column(id)
                .order_by_desc(id)
                .offset(keep - 1)
                .limit(1)
                .into_tuple::<i64>()
                // Not `one()`: that drops the offset.
                .all(store.db())
                .await?
                .pop()
        };
        if let Some(kept) = oldest_kept {
            below = Some(below.map_or(kept, |b| b.max(kept)));
        }
    }
    let Some(below) = below else { return Ok(0) };
    let mut deleted = 0;
    loop {
        let oldest = E::find()
            .select_only()
            .column(id)
            .filter(id.lt(below))
            .order_by_asc(id)
            .into_tuple::<i64>()
            .one(store.db())
            .await?;
        let Some(oldest) = oldest else {
            return Ok(deleted);
        };
        let done = E::delete_many()
            .filter(id.lt(below.min(oldest.saturating_add(PRUNE_CHUNK))))
            .exec(store.db())
            .await?;
        deleted += done.rows_affected;
    }
}
