//! HTTP-dates (IMF-fixdate, RFC 9110 §5.6.7, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) as
//! seconds since the Unix epoch: a `Retry-After` may be one
//! ([`crate::codec::parse_retry_after`]). By hand, with no date library: the shipped wasm
//! carries only this.

/// IMF-fixdate → seconds since the Unix epoch; `None` for anything else.
pub fn parse(value: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT": the day's name up to the comma, a space, then
    // day, month, year and time each followed by a space, then "GMT" (what follows a
    // further space is not read); the time as hours, minutes and seconds, each but the
    // last followed by a colon.
    let (_, rest) = cut(value.as_bytes(), b',')?;
    let rest = rest.strip_prefix(b" ")?;
    let (day, rest) = cut(rest, b' ')?;
    let (month, rest) = cut(rest, b' ')?;
    let (year, rest) = cut(rest, b' ')?;
    let (clock, rest) = cut(rest, b' ')?;
    let (h, clock) = cut(clock, b':')?;
    let (m, clock) = cut(clock, b':')?;
    let number = crate::error::parse_decimal;
    let (day, year, h, m, s) =
        (number(day)?, number(year)?, number(h)?, number(m)?, number(first(clock, b':'))?);
    let month = MONTHS.chunks(3).position(|name| name == month)? as u64 + 1;
    // A pattern, not `RangeInclusive::contains`: no range constants in the wasm's data.
    let in_range = matches!((year, day, h, m, s), (1970..=9999, 1..=31, 0..=23, 0..=59, 0..=60));
    if first(rest, b' ') != b"GMT" || !in_range {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s)
}

/// The months' names, in order, three letters each.
const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";

/// `text` up to the first `at` and what follows it; `None` when there is none. Bytes, not
/// `str::split_once`: no char searcher nor char boundary checks in the wasm (every
/// separator and everything read is ASCII).
fn cut(text: &[u8], at: u8) -> Option<(&[u8], &[u8])> {
    let (before, after) = text.split_at_checked(text.iter().position(|b| *b == at)?)?;
    Some((before, after.get(1..)?))
}

/// `text` up to the first `at`, or all of it.
fn first(text: &[u8], at: u8) -> &[u8] {
    cut(text, at).map_or(text, |(first, _)| first)
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

    /// The rules as std's `str::split` spells them: what `parse` must agree with.
    fn by_split(value: &str) -> Option<u64> {
        let (_, rest) = value.split_once(',')?;
        let mut parts = rest.strip_prefix(' ')?.split(' ');
        let day: u64 = parts.next()?.parse().ok()?;
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let name = parts.next()?;
        let month = month.iter().position(|m| *m == name)? as u64 + 1;
        let year: u64 = parts.next()?.parse().ok()?;
        let mut clock = parts.next()?.split(':').map(|n| n.parse::<u64>().ok());
        let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
        let in_range = matches!((year, day, h, m, s), (1970..=9999, 1..=31, 0..=23, 0..=59, 0..=60));
        (parts.next()? == "GMT" && in_range)
            .then(|| days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s)
    }

    // Native only: proptest needs an OS random source.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn parse_is_the_rules_by_split(
            value in "[A-Za-z]{0,3},?( |  )?[+0-9]{0,3} ?(Jan|Feb|Dec|Foo|é)? ?[+0-9]{0,5} ?[0-9:+]{0,10}( |:)?(GMT|UTC|é)?( x)?"
        ) {
            proptest::prop_assert_eq!(parse(&value), by_split(&value));
        }
    }

    #[test]
    fn every_spelling_of_the_pieces_reads_as_by_split() {
        let (mut read, mut checked) = (0, 0);
        for start in ["Sun, ", "Sun,", ", ", "Sun "] {
            for day in ["6", "06", "+06", "32", "", "0x"] {
                for month in ["Nov", "Foo", "nov"] {
                    for year in ["1994", "+1994", "10000"] {
                        for clock in ["08:49:37", "08:49", "08:49:37:99", "24:00:00", "8:+9:7", ""] {
                            for end in [" GMT", " GMT later", "  GMT", " UTC", "", " GMT:"] {
                                let value = [start, day, " ", month, " ", year, " ", clock, end].concat();
                                assert_eq!(parse(&value), by_split(&value), "{value}");
                                read += usize::from(parse(&value).is_some());
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(read > 50 && read < checked / 4, "{read} of {checked} read");
        assert_eq!(parse("Sun, 6 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    }
}
