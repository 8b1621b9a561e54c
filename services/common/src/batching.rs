//! Gathering queued rows into batches for the background log writers (`/v1` requests, `/mcp`
//! calls), so a busy surface costs a few inserts a second, not one per call.

use std::time::Duration;

use tokio::sync::mpsc;

/// Waits for the first item, then takes what else arrives within `window`, up to `max` in all.
/// `None` once the channel is closed and empty.
pub async fn next_batch<T>(
    rx: &mut mpsc::Receiver<T>,
    max: usize,
    window: Duration,
) -> Option<Vec<T>> {
    let first = rx.recv().await?;
    let mut batch = Vec::with_capacity(max.min(64));
    batch.push(first);
    let deadline = tokio::time::Instant::now() + window;
    while batch.len() < max {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(item)) => batch.push(item),
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_are_bounded_and_end_with_the_channel() {
        let (tx, mut rx) = mpsc::channel(10);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let window = Duration::from_millis(20);
        assert_eq!(next_batch(&mut rx, 3, window).await, Some(vec![0, 1, 2]));
        assert_eq!(next_batch(&mut rx, 3, window).await, Some(vec![3, 4]));
        drop(tx);
        assert_eq!(next_batch(&mut rx, 3, window).await, None);
    }
}
