//! Creations and their lifecycle: charged in full when made, in progress until their
//! `ready_at`, then done (and settled once: the withheld images refunded), and the
//! images each one delivers.

use crate::create::Order;
use crate::ids;
use crate::images::ImageSpec;
use crate::money::Money;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug)]
pub struct Creation {
    pub owner: String,
    prompt: String,
    width: u32,
    height: u32,
    count: u32,
    /// Images the content filter withholds (refunded when the creation completes).
    censored: u32,
    unit_price: Money,
    pub ready_at: Instant,
    settled: bool,
    /// Unix ms it was made.
    pub created_ms: u64,
    /// Unix ms of each check.
    pub checks_ms: Vec<u64>,
}

/// What a check finds.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    InProgress,
    Done {
        /// Price of the delivered images (what the balance lost).
        cost: Money,
        censored: u32,
        /// Image ids (64 hex) of the delivered images.
        images: Vec<String>,
    },
}

/// One creation's timeline, for benchmarks (`GET /emulator/creations`), in Unix ms.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CreationRecord {
    pub creation_id: String,
    pub created_ms: u64,
    pub ready_ms: u64,
    /// When each check of it was answered (ready or not).
    pub checks_ms: Vec<u64>,
}

impl Creation {
    /// A creation of `owner` for this order, ready at `ready_at`.
    pub fn new(owner: &str, order: Order, ready_at: Instant, created_ms: u64) -> Self {
        Self {
            owner: owner.to_owned(),
            unit_price: crate::pricing::price_per_image(order.width, order.height),
            censored: if order.censored { order.count } else { 0 },
            prompt: order.prompt,
            width: order.width,
            height: order.height,
            count: order.count,
            ready_at,
            settled: false,
            created_ms,
            checks_ms: Vec::new(),
        }
    }

    /// What it costs up front: every image, the withheld ones too.
    pub fn price(&self) -> Money {
        self.unit_price.saturating_mul(self.count)
    }

    /// The refund due the first time it is found done at `now`; zero afterwards, and
    /// while it is in progress (`None`).
    pub fn settle(&mut self, now: Instant) -> Option<Money> {
        if now < self.ready_at {
            return None;
        }
        let refund = if self.settled { Money::ZERO } else { self.unit_price.saturating_mul(self.censored) };
        self.settled = true;
        Some(refund)
    }

    /// What a check of it (with this id) finds at `now`.
    pub fn progress(&self, id: &str, now: Instant) -> Progress {
        if now < self.ready_at {
            return Progress::InProgress;
        }
        Progress::Done {
            cost: self.unit_price.saturating_mul(self.count - self.censored),
            censored: self.censored,
            images: (self.censored..self.count).map(|i| ids::image_id(id, i)).collect(),
        }
    }
}

/// Every creation, and every delivered image's creation.
#[derive(Debug, Default)]
pub struct Creations {
    by_id: HashMap<String, Creation>,
    /// Image id → (creation id, index).
    images: HashMap<String, (String, u32)>,
    next: u64,
}

impl Creations {
    /// Files the creation under a fresh id (deterministic from the seed) and returns it.
    pub fn insert(&mut self, seed: &str, creation: Creation) -> String {
        let mut id = ids::creation_id(seed, self.next);
        self.next += 1;
        while self.by_id.contains_key(&id) {
            id = ids::creation_id(seed, self.next);
            self.next += 1;
        }
        for index in creation.censored..creation.count {
            self.images.insert(ids::image_id(&id, index), (id.clone(), index));
        }
        self.by_id.insert(id.clone(), creation);
        id
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Creation> {
        self.by_id.get_mut(id)
    }

    /// The creation `id` if `key` made it.
    pub fn owned_by(&self, key: Option<&str>, id: &str) -> Option<&Creation> {
        self.by_id.get(id).filter(|c| Some(c.owner.as_str()) == key)
    }

    /// The key that created this image.
    pub fn image_owner(&self, image_id: &str) -> Option<&str> {
        let (creation, _) = self.images.get(image_id)?;
        self.by_id.get(creation).map(|c| c.owner.as_str())
    }

    /// What to draw for an image id once its creation is done; `None` if unknown or not ready.
    pub fn image_spec(&self, image_id: &str, now: Instant) -> Option<ImageSpec> {
        let (creation_id, index) = self.images.get(image_id)?;
        let creation = self.by_id.get(creation_id)?;
        if now < creation.ready_at {
            return None;
        }
        Some(ImageSpec {
            prompt: creation.prompt.clone(),
            index: *index,
            width: creation.width,
            height: creation.height,
        })
    }
}
