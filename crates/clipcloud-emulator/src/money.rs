//! Money as whole cents, so sums and refunds are exact and `100 - 2.2` prints `97.8`.

use core::fmt;

/// An amount in hundredths of the service's currency unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal amount such as `100`, `12.5` or `0.01`, rounded to cents.
    pub fn parse(text: &str) -> Option<Self> {
        let value: f64 = text.trim().parse().ok()?;
        Self::from_units(value)
    }

    /// A non-negative finite amount (at most a trillion units), rounded to cents.
    pub fn from_units(value: f64) -> Option<Self> {
        if !value.is_finite() || !(0.0..=1e12).contains(&value) {
            return None;
        }
        // In range 0..=1e14 after scaling, so the cast cannot saturate.
        Some(Money((value * 100.0).round() as i64))
    }

    /// The amount as the JSON number the API sends. Dividing two exactly representable
    /// integers rounds correctly, so 9780 cents becomes the double closest to 97.8.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    pub fn saturating_mul(self, n: u32) -> Money {
        Money(self.0.saturating_mul(i64::from(n)))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // f64's Display is the shortest round-trip form: 100, 97.8, 0.01.
        fmt::Display::fmt(&self.as_f64(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_in_cents() {
        let balance = Money::parse("100").unwrap().saturating_sub(Money::from_cents(220));
        assert_eq!(balance.to_string(), "97.8");
        assert_eq!(serde_json::to_string(&balance.as_f64()).unwrap(), "97.8");
        assert_eq!(
            Money::parse("0.1").unwrap().saturating_add(Money::parse("0.2").unwrap()).to_string(),
            "0.3"
        );
        assert_eq!(Money::from_cents(330).to_string(), "3.3");
    }

    #[test]
    fn parse_rejects_nonsense() {
        assert_eq!(Money::parse(" 12.34 "), Some(Money::from_cents(1234)));
        for bad in ["", "-1", "abc", "NaN", "inf", "1e13"] {
            assert_eq!(Money::parse(bad), None, "{bad}");
        }
    }
}
