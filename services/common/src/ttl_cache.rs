//! A small, bounded, time-limited cache shared by the credential and host lookups: entries
//! answer for at most `ttl`, and a full cache first drops what expired, then its older half.
//! Evicting half at once keeps the bound exact at an amortised O(1) per insert (one linear
//! pass per `capacity / 2` inserts), without the bookkeeping of a per-entry LRU order; and
//! unlike emptying it whole, a fleet larger than the cache keeps its recent callers cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Arc<Mutex<HashMap<K, (V, Instant)>>>,
}

impl<K, V> Clone for TtlCache<K, V> {
    fn clone(&self) -> Self {
        TtlCache {
            ttl: self.ttl,
            capacity: self.capacity,
            entries: self.entries.clone(),
        }
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The value, if it was stored less than `ttl` ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        let (value, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                evict(&mut entries, self.ttl, self.capacity);
            }
            entries.insert(key, (value, Instant::now()));
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Keeps only the entries whose value satisfies `keep`.
    pub fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (v, _)| keep(v));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Makes room in a full map: expired entries go first; if more than half the capacity is still
/// taken, the older entries go until half is left, so the next eviction is `capacity / 2`
/// inserts away.
fn evict<K: Eq + Hash, V>(entries: &mut HashMap<K, (V, Instant)>, ttl: Duration, capacity: usize) {
    entries.retain(|_, (_, at)| at.elapsed() < ttl);
    let target = capacity / 2;
    if entries.len() <= target {
        return;
    }
    let mut ages: Vec<Instant> = entries.values().map(|(_, at)| *at).collect();
    // The newest `target` entries stay: everything older than the target-th newest goes.
    let cut = ages.len() - target;
    let (_, threshold, _) = ages.select_nth_unstable(cut);
    let threshold = *threshold;
    entries.retain(|_, (_, at)| *at >= threshold);
    // Entries inserted within the same instant can tie at the threshold; stay within bounds.
    if entries.len() >= capacity {
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_capacity_and_removal() {
        let c: TtlCache<String, u32> = TtlCache::new(Duration::from_millis(50), 2);
        c.insert("a".into(), 1);
        assert_eq!(c.get("a"), Some(1));
        std::thread::sleep(Duration::from_millis(1));
        c.insert("b".into(), 2);
        c.insert("c".into(), 3); // full: the older half goes
        assert_eq!(
            (c.get("a"), c.get("b"), c.get("c")),
            (None, Some(2), Some(3))
        );
        c.remove("c");
        assert_eq!(c.get("c"), None);
        c.insert("d".into(), 4);
        c.retain(|v| *v != 4);
        assert_eq!(c.get("d"), None);
        c.insert("e".into(), 5);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get("e"), None);
    }

    #[test]
    fn a_full_cache_keeps_its_newest_half_and_its_bound() {
        let c: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 100);
        for i in 0..1_000 {
            c.insert(i, i);
            if i % 10 == 0 {
                std::thread::sleep(Duration::from_micros(50));
            }
            let len = c.entries.lock().map(|e| e.len()).unwrap_or(usize::MAX);
            assert!(len <= 100, "{len} entries after inserting {i}");
        }
        // The most recent inserts survive every eviction.
        assert!((990..1_000).all(|i| c.get(&i) == Some(i)));
        assert_eq!(c.get(&0), None);
    }
}
