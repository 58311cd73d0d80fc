//! Encoded images kept in memory; older ones are re-rendered on demand (they are
//! deterministic, so nothing is lost but time).

use crate::lock::lock;
use axum::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// How many encoded images are kept.
pub const CAPACITY: usize = 128;

/// Cheap to clone: clones share the cache.
#[derive(Clone, Debug, Default)]
pub struct ImageCache(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    bytes: HashMap<String, Bytes>,
    /// Oldest first: the first to go.
    order: VecDeque<String>,
}

impl ImageCache {
    pub fn get(&self, image_id: &str) -> Option<Bytes> {
        lock(&self.0).bytes.get(image_id).cloned()
    }

    pub fn put(&self, image_id: &str, bytes: Bytes) {
        let mut cache = lock(&self.0);
        if cache.bytes.insert(image_id.to_string(), bytes).is_none() {
            cache.order.push_back(image_id.to_string());
        }
        while cache.order.len() > CAPACITY {
            if let Some(old) = cache.order.pop_front() {
                cache.bytes.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_images() {
        let cache = ImageCache::default();
        for i in 0..=CAPACITY {
            cache.put(&i.to_string(), Bytes::from(i.to_string()));
        }
        assert_eq!(cache.get("0"), None, "the oldest went");
        assert_eq!(cache.get("1"), Some(Bytes::from("1")));
        assert_eq!(cache.get(&CAPACITY.to_string()), Some(Bytes::from(CAPACITY.to_string())));
    }
}
