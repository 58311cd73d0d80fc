//! HTTP-dates (IMF-fixdate, RFC 9110 §5.6.7, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) as
//! seconds since the Unix epoch: a `Retry-After` may be one
//! ([`crate::codec::parse_retry_after`]). By hand, with no date library: the shipped wasm
//! carries only this.

/// IMF-fixdate → seconds since the Unix epoch; `None` for anything else.
pub fn parse(value: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    // `Pieces`, not `str::split`/`split_once`: no substring nor char searcher in the wasm.
    let mut parts = Pieces::new(value, b',');
    parts.next()?;
    let mut parts = Pieces::new(parts.rest?.strip_prefix(" ")?, b' ');
    let number = crate::error::parse_decimal;
    let day = number(parts.next()?)?;
    let name = parts.next()?.as_bytes();
    let month = MONTHS.chunks(3).position(|m| m == name)? as u64 + 1;
    let year = number(parts.next()?)?;
    let mut clock = Pieces::new(parts.next()?, b':').map(number);
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    // A pattern, not `RangeInclusive::contains`: no range constants in the wasm's data.
    let in_range = matches!((year, day, h, m, s), (1970..=9999, 1..=31, 0..=23, 0..=59, 0..=60));
    if parts.next()? != "GMT" || !in_range {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s)
}

/// The months' names, in order, three letters each.
const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";

/// `str::split` by one ASCII byte: the same pieces, in a few bytes of wasm.
struct Pieces<'a> {
    /// What follows the last separator found (`None` once the last piece was given).
    rest: Option<&'a str>,
    separator: u8,
}

impl<'a> Pieces<'a> {
    fn new(text: &'a str, separator: u8) -> Self {
        Self { rest: Some(text), separator }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.rest?;
        match text.bytes().position(|b| b == self.separator) {
            // An ASCII byte: both cuts are on character boundaries.
            Some(at) => {
                self.rest = text.get(at + 1..);
                text.get(..at)
            }
            None => {
                self.rest = None;
                Some(text)
            }
        }
    }
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imf_fixdates() {
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(1_445_412_480));
        assert_eq!(parse("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400));
        // A leap second, and the last moment read.
        assert_eq!(parse("Sat, 31 Dec 2016 23:59:60 GMT"), Some(1_483_228_800));
        assert_eq!(parse("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        for bad in [
            "",
            "soon",
            "Wed, 21 Oct 2015 07:28:00",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:00:00 GMT",
            "Wed 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 1969 07:28:00 GMT",
            "Wed, 00 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:60:00 GMT",
            "Wed, 21 Oct 2015 07:28:61 GMT",
            "Wed, 21 Oct 10000 07:28:00 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    // Native only: proptest needs an OS random source.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn pieces_are_str_split(text in "[a-c ,:é]{0,12}", separator in proptest::sample::select(vec![b' ', b',', b':'])) {
            let ours: Vec<&str> = Pieces::new(&text, separator).collect();
            let std: Vec<&str> = text.split(char::from(separator)).collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }
}
