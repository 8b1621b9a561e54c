//! Statements over many rows in a few fixed sizes. Every distinct statement text is prepared once per
//! pooled connection and kept in its statement cache (sqlx keeps 100), and a multi-row
//! `INSERT`'s prepared form grows with its rows (on SQLite hundreds of kilobytes at 500 rows).
//! Batches of every size from 1 to 500 once made those caches hold over 300 MB under `/v1`
//! load; split into sizes from [`SIZES`], a table needs at most four statements, whatever the
//! batch sizes.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait};

use crate::Result;

/// Chunk sizes, largest first; any count is a sum of them with at most three of each smaller.
const SIZES: [usize; 4] = [64, 16, 4, 1];

/// Inserts `rows` with multi-row statements of the sizes in [`SIZES`] (in order). Callers
/// that need all or nothing pass a transaction.
pub(crate) async fn insert_in_fixed_chunks<A, C>(db: &C, rows: Vec<A>) -> Result<()>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    for size in SIZES {
        while left >= size {
            let chunk: Vec<A> = rows.by_ref().take(size).collect();
            <A::Entity as EntityTrait>::insert_many(chunk)
                .exec(db)
                .await?;
            left -= size;
        }
    }
    Ok(())
}

/// `items` padded to the next power of two by repeating its last item, for statements whose
/// text grows with a list (`IN (…)`, `CASE WHEN …`) and that a repeated item does not change:
/// a list of any length then needs one of a handful of statement texts.
pub(crate) fn padded_to_power_of_two<T: Clone>(items: &[T]) -> Vec<T> {
    let mut padded = items.to_vec();
    if let Some(last) = items.last() {
        padded.resize(items.len().next_power_of_two(), last.clone());
    }
    padded
}

#[cfg(test)]
mod tests {
    use super::padded_to_power_of_two;

    #[test]
    fn lists_are_padded_with_their_last_item() {
        assert_eq!(padded_to_power_of_two(&[1, 2, 3]), vec![1, 2, 3, 3]);
        assert_eq!(padded_to_power_of_two(&[1, 2]), vec![1, 2]);
        assert_eq!(padded_to_power_of_two::<u8>(&[]), Vec::<u8>::new());
        assert_eq!(padded_to_power_of_two(&[7; 65]).len(), 128);
    }
}
