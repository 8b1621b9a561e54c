//! A small, bounded, time-limited cache shared by the credential and host lookups: entries
//! answer for at most `ttl`, and a full cache is emptied rather than evicted piecemeal (entries
//! live seconds, so refilling is cheap and the bound stays exact).

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
            if entries.len() >= self.capacity {
                entries.clear();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_capacity_and_removal() {
        let c: TtlCache<String, u32> = TtlCache::new(Duration::from_millis(50), 2);
        c.insert("a".into(), 1);
        assert_eq!(c.get("a"), Some(1));
        c.insert("b".into(), 2);
        c.insert("c".into(), 3); // full: emptied first
        assert_eq!((c.get("a"), c.get("c")), (None, Some(3)));
        c.remove("c");
        assert_eq!(c.get("c"), None);
        c.insert("d".into(), 4);
        c.retain(|v| *v != 4);
        assert_eq!(c.get("d"), None);
        c.insert("e".into(), 5);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get("e"), None);
    }
}
