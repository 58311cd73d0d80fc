//! What a create reserves: the most its kind (style and count, or advanced model, size and
//! count: [`clipcloud::operation::kind_of`]) was seen to cost, learned from the real costs
//! the gateway's own checks settle ([`Prices::learn`]), or, for a kind not seen yet, the
//! configured most an image may cost (`--max-price-per-image`) × count. Only ever raised:
//! one cheap answer (images withheld, a price cut) never lowers what the next create
//! reserves. Kept in the ledger, so a restart does not start from the maximum.
//!
//! Per replica with `--redis`: a replica that has not seen a kind reserves the maximum for
//! it, which only errs high.

use crate::error_log;
use crate::store::ledger::{Cents, Ledger};
use clipcloud::CreateRequest;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Kinds remembered at most: beyond, a new kind keeps the configured maximum (safe).
pub const KINDS: usize = 1_024;

pub struct Prices {
    learned: Mutex<HashMap<String, Cents>>,
    /// Hundredths of a credit per image, for a kind not seen yet.
    max_per_image: Cents,
    ledger: Ledger,
}

impl Prices {
    /// With what `ledger` kept from earlier runs.
    pub async fn open(ledger: Ledger, max_per_image: Cents) -> Result<Self, String> {
        let learned = ledger.prices().await.map_err(|e| format!("--ledger: cannot read the prices: {e}"))?;
        let learned = learned.into_iter().take(KINDS).collect();
        Ok(Self { learned: Mutex::new(learned), max_per_image, ledger })
    }

    /// What a create of `request` reserves.
    pub fn reservation(&self, request: &CreateRequest) -> Cents {
        let kind = clipcloud::operation::kind_of(request);
        self.learned(&kind)
            .unwrap_or_else(|| self.max_per_image.saturating_mul(i64::from(request.image_count())))
    }

    /// The most `kind` was seen to cost, if it was.
    pub fn learned(&self, kind: &str) -> Option<Cents> {
        self.learned.lock().unwrap_or_else(PoisonError::into_inner).get(kind).copied()
    }

    /// A create of `kind` cost `cost`, with `censored` images withheld: kept if it is the
    /// most seen. Not from an answer with images withheld (they are not charged, so it
    /// says less than the next create may cost) nor a cost of 0 (no price at all).
    pub async fn learn(&self, kind: &str, cost: Cents, censored: u32) {
        if kind.is_empty() || cost <= 0 || censored > 0 {
            return;
        }
        {
            let mut learned = self.learned.lock().unwrap_or_else(PoisonError::into_inner);
            let full = learned.len() >= KINDS;
            match learned.get_mut(kind) {
                Some(most) if *most >= cost => return,
                Some(most) => *most = cost,
                None if full => return,
                None => {
                    learned.insert(kind.to_owned(), cost);
                }
            }
        }
        if let Err(e) = self.ledger.save_price(kind.to_owned(), cost).await {
            error_log::write("prices", "save", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::{AdvancedRequest, StyleRequest};
    use std::path::Path;

    fn standard(count: u32) -> CreateRequest {
        let mut request = StyleRequest::new("a", "standard");
        request.count = Some(count);
        request.into()
    }

    #[tokio::test]
    async fn the_most_seen_per_kind_else_the_maximum() {
        let ledger = Ledger::open(Path::new(":memory:")).await.unwrap();
        let prices = Prices::open(ledger.clone(), 550).await.unwrap();
        assert_eq!(prices.reservation(&standard(2)), 1100, "not seen: the maximum per image");
        let kind = clipcloud::operation::kind_of(&standard(2));
        prices.learn(&kind, 220, 0).await;
        assert_eq!(prices.reservation(&standard(2)), 220);
        assert_eq!(prices.reservation(&standard(3)), 1650, "another count is another kind");
        // Never lowered: a cheaper answer, one with images withheld, or none at all.
        prices.learn(&kind, 110, 0).await;
        prices.learn(&kind, 0, 0).await;
        prices.learn(&kind, 110, 1).await;
        assert_eq!(prices.reservation(&standard(2)), 220);
        // A first answer with images withheld teaches nothing.
        let four = clipcloud::operation::kind_of(&standard(4));
        prices.learn(&four, 110, 3).await;
        assert_eq!(prices.reservation(&standard(4)), 2200);
        prices.learn(&kind, 330, 0).await;
        assert_eq!(prices.reservation(&standard(2)), 330, "raised");
        // Advanced creates are kinds by size.
        let mut big = AdvancedRequest::new("x");
        (big.width, big.height, big.count) = (Some(2048), Some(2048), Some(4));
        assert_eq!(prices.reservation(&big.into()), 2200);
        // Kept in the ledger: a restart reserves what was learned.
        let again = Prices::open(ledger, 550).await.unwrap();
        assert_eq!(again.reservation(&standard(2)), 330);
    }
}
