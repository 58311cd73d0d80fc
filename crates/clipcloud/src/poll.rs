//! When to check a running creation next. Pure: given how many checks were made, how
//! long the creation has run and what earlier creations of its kind took, the schedule
//! says how long to sleep, or that the deadline has passed. The one thing it changes is
//! in plain sight: the probe count of the `&mut Durations` it is given.

use core::time::Duration;

/// When to check: learned from earlier creations of the same kind when there are some,
/// else quick first checks and a geometric back-off up to a cap; within a total deadline.
///
/// Without knowing when a creation ends, equal spacing is the best there is, and any fixed
/// shape only trades delay against checks. Knowing how long this kind of creation takes
/// (mostly a matter of style, size and count) is what does better, so the client remembers,
/// per kind and in memory only, when its recent creations' last "running" and first
/// "ready" checks were sent ([`Durations`]), and:
///
/// - polls *sparsely before* the earliest usual end (one sleep to a gap past it), *densely
///   within* the usual range (every half its width, at most `dense_interval`, at least
///   `min_interval`, which keeps a misjudged window from hammering the service) and backs
///   off *gently* past it (a creation just past the range is as likely as any to end soon);
/// - when all of them fit one duration (every "running" check was sent before every
///   "ready" one), closes in on it instead: a probe between the bounds, then one check
///   where all were ready. Each probe narrows the bounds for the creations after it, down
///   to [`STEADY_PRECISION`]; then it is one check per creation, right after its end.
///   Creations running together probe at spread-out points (1/2, 1/4, 3/4...), so a batch
///   narrows the bounds once per creation, not once per batch.
///
/// A new client (nothing learned) uses the cold shape until [`Durations::ENOUGH`] creations
/// of the kind have finished. How the figures were chosen, with the measurements:
/// `docs/performance.md`, "How the polling schedule's figures were chosen".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollSchedule {
    /// Sleep before the first check (cold: nothing learned yet).
    pub first_delay: Duration,
    /// Each following sleep is the previous one times this.
    pub growth: f64,
    /// No sleep is shorter than this...
    pub min_interval: Duration,
    /// ...or longer than this, except the one sleep straight to a learned window.
    pub max_interval: Duration,
    /// Give up waiting this long after the creation was accepted.
    pub deadline: Duration,
    /// Learn from earlier creations of the same kind (see above); `false` always follows
    /// the cold shape (e.g. fixed polling: growth 1 and min = max = first).
    pub learn: bool,
    /// Within a learned window, checks are at most this far apart...
    pub dense_interval: Duration,
    /// ...or this far, in a window wider than half its end (durations all over the place:
    /// nothing to aim at but the range).
    pub wide_interval: Duration,
    /// How closely a steady duration is closed in on ([`STEADY_PRECISION`] by default).
    pub steady_precision: Duration,
    /// Past a steady duration's end and still running, the next check comes this much
    /// later, until [`STEADY_TOLERANCE`] past the end (by default that: one more check).
    pub steady_retry: Duration,
    /// In a wide window, check from the start too, rather than one sleep to the window:
    /// the few creations that end before the usual range are then not found late (a
    /// server's choice; a browser saves the checks).
    pub wide_from_start: bool,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl PollSchedule {
    /// [`PollSchedule::default`], as a constant: the wasm copies it whole from its data
    /// rather than storing each field.
    const DEFAULT: Self = Self {
        first_delay: Duration::from_millis(500),
        growth: 1.5,
        min_interval: Duration::from_millis(200),
        max_interval: Duration::from_secs(3),
        deadline: Duration::from_secs(300),
        learn: true,
        dense_interval: Duration::from_millis(400),
        wide_interval: Duration::from_millis(400),
        steady_precision: STEADY_PRECISION,
        steady_retry: STEADY_TOLERANCE,
        wide_from_start: false,
    };

    /// Polling at a fixed interval, the way peers do it (no learning).
    pub fn fixed(every: Duration) -> Self {
        Self {
            first_delay: every,
            growth: 1.0,
            min_interval: every,
            max_interval: every,
            learn: false,
            ..Self::default()
        }
    }

    /// The schedule a server polls the service with behind held checks (the gateway):
    /// denser than a browser's, because one poller serves every visitor waiting on a
    /// creation, its checks go server to server on a kept-alive connection, and what it
    /// learned comes from every visitor's creations. Within a usual range, a check every
    /// 200 ms (at least 150 ms apart); in a range as wide as durations all over the place,
    /// every 230 ms from the start; a steady duration closed in on to 2 ms and checked again
    /// every 5 ms just past its end (a create that arrived a few ms late); cold and past the
    /// window, from 250 ms growing gently to 500 ms, never sparser than fixed 500 ms. Why
    /// these figures: `docs/performance.md` (the same section as for [`PollSchedule`]).
    pub fn held() -> Self {
        Self {
            first_delay: Duration::from_millis(250),
            growth: 1.25,
            min_interval: Duration::from_millis(150),
            max_interval: Duration::from_millis(500),
            dense_interval: Duration::from_millis(200),
            wide_interval: Duration::from_millis(230),
            steady_precision: Duration::from_millis(2),
            steady_retry: Duration::from_millis(5),
            wide_from_start: true,
            ..Self::default()
        }
    }

    /// The sleep before check number `checks_done + 1`, given the time since the
    /// creation was accepted; `None` once the deadline has passed.
    pub fn next_delay(&self, checks_done: u32, elapsed: Duration) -> Option<Duration> {
        self.cold_delay(checks_done, nanos(elapsed)).map(Duration::from_nanos)
    }

    /// [`Self::next_delay`], using what earlier creations of this kind took when the
    /// schedule learns and there is enough of it ([`Durations::window`]). A probe of a
    /// steady duration is counted in `learned`, so that the next one goes elsewhere.
    pub fn next_delay_learned(
        &self,
        checks_done: u32,
        elapsed: Duration,
        learned: Option<&mut Durations>,
    ) -> Option<Duration> {
        self.next_delay_nanos(checks_done, nanos(elapsed), learned).map(Duration::from_nanos)
    }

    /// [`Self::next_delay_learned`] in [`Nanos`].
    pub(crate) fn next_delay_nanos(
        &self,
        checks_done: u32,
        elapsed: Nanos,
        learned: Option<&mut Durations>,
    ) -> Option<Nanos> {
        match learned.filter(|_| self.learn) {
            Some(learned) if learned.seen.len() >= Durations::ENOUGH => self.learned_delay(elapsed, learned),
            _ => self.cold_delay(checks_done, elapsed),
        }
    }

    /// `growth`, at least 1: `growth.max(1.0)` (a NaN gives 1 too) without the call to
    /// libm's `fmax` that `f64::max` is in wasm.
    fn growth(&self) -> f64 {
        if self.growth > 1.0 {
            self.growth
        } else {
            1.0
        }
    }

    /// Time left until the deadline, `None` when it has passed.
    fn left(&self, elapsed: Nanos) -> Option<Nanos> {
        nanos(self.deadline).checked_sub(elapsed).filter(|left| *left != 0)
    }

    /// [`Self::next_delay`].
    fn cold_delay(&self, checks_done: u32, elapsed: Nanos) -> Option<Nanos> {
        let left = self.left(elapsed)?;
        let min = nanos(self.min_interval);
        let max = nanos(self.max_interval).max(min);
        // In f64 seconds: a long wait grows past what a Duration can hold.
        let grown = self.first_delay.as_secs_f64() * self.growth().powi(checks_done.min(1_000) as i32);
        // `max(min).min(max)`, not `clamp`: the same (min ≤ max here) without its assertion.
        // The last check lands on the deadline rather than past it.
        Some(from_secs_nanos(grown, max).max(min).min(max).min(left))
    }

    /// [`Self::next_delay_learned`] with at least [`Durations::ENOUGH`] creations learned.
    fn learned_delay(&self, elapsed: Nanos, learned: &mut Durations) -> Option<Nanos> {
        let left = self.left(elapsed)?;
        let min = nanos(self.min_interval);
        if let Some((lo, hi)) = learned.steady_nanos() {
            // One duration so far: check where all were ready (`hi`), after a probe between
            // the bounds while they are loose — found or not, it tightens them for the
            // creations after it, so the checks close in on the duration itself. The first
            // probe since the last finished creation goes halfway; creations running at
            // the same time probe at 1/4, 3/4, 1/8... of the way, so n of them narrow the
            // bounds n + 1 times, where the same probe would narrow them twice.
            let probes = learned.probes;
            let width = hi.saturating_sub(lo);
            let probe = lo.saturating_add(from_secs_nanos(secs_f64(width) * spread(probes), width));
            let precision = nanos(self.steady_precision);
            // (Not when the probe is closer than min_interval: then `hi` comes first.)
            // (Nor when none was ever seen running: nothing says it could end sooner.)
            if width > precision && lo != 0 && elapsed.saturating_add(min) <= probe {
                learned.probes = probes.saturating_add(1);
                return Some(probe.saturating_sub(elapsed).min(left));
            }
            // Where all were ready; when the bounds crossed by a few ms, just past the
            // latest "running".
            let end = if lo < hi { hi } else { lo.saturating_add(precision) };
            if elapsed < end {
                // Straight there, even sooner than min_interval after the probe: one
                // check, once per creation, is no hammering; waiting would be the delay.
                return Some(end.saturating_sub(elapsed).min(left));
            }
            // Just past it and still running: if it is one duration after all, it ends
            // within the tolerance (its create arrived a few ms later): checked again
            // there, every `steady_retry`.
            let tolerated = end.saturating_add(nanos(STEADY_TOLERANCE));
            if elapsed < tolerated {
                let next = elapsed.saturating_add(nanos(self.steady_retry)).min(tolerated);
                return Some(next.saturating_sub(elapsed).min(left));
            }
            // Past it and still running: not one duration after all; the window decides.
        }
        let (start, end) = learned.window_nanos();
        let max = nanos(self.max_interval).max(min);
        // Half the window's width (two or three checks cover it), at most dense_interval.
        // Saturating arithmetic: the same values (end ≥ start, and each subtraction below is
        // guarded), without overflow panics in the shipped wasm.
        let width = end.saturating_sub(start);
        let wide = width > end / 2;
        let dense = nanos(if wide { self.wide_interval } else { self.dense_interval });
        let gap = (width / 2).min(dense).max(min);
        let start = if wide && self.wide_from_start { 0 } else { start };
        let delay = if elapsed < start {
            // Sparse before: one sleep to a gap past the earliest usual end (a check right
            // at it would rarely find anything).
            start.saturating_add(gap).saturating_sub(elapsed)
        } else if elapsed < end.saturating_add(gap) {
            gap
        } else {
            // Past anything seen: back off gently, in proportion to how far past (a
            // creation just past the window is as likely as any to end soon).
            let past = secs_f64(elapsed.saturating_sub(end)) * (self.growth() - 1.0) / 2.0;
            gap.saturating_add(from_secs_nanos(past, max)).min(max.max(gap))
        };
        Some(delay.max(min).min(left))
    }
}

/// Nanoseconds: the schedule's arithmetic in one `u64` rather than `Duration`'s pairs of
/// seconds and nanoseconds, whose saturating operations and conversions cost the npm
/// package's wasm far more code (docs/sizes.md). The same values, up to about 584 years
/// (where `u64` saturates), beyond any schedule.
pub(crate) type Nanos = u64;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// `d` in [`Nanos`], `Nanos::MAX` past them. By a bound on the seconds (whose product then
/// cannot overflow), not `saturating_mul`, which multiplies in 128 bits in the wasm.
pub(crate) fn nanos(d: Duration) -> Nanos {
    match d.as_secs() {
        secs @ 0..=18_446_744_072 => secs * NANOS_PER_SEC + u64::from(d.subsec_nanos()),
        _ => Nanos::MAX,
    }
}

/// As `Duration::as_secs_f64` computes it.
pub(crate) fn secs_f64(n: Nanos) -> f64 {
    (n / NANOS_PER_SEC) as f64 + (n % NANOS_PER_SEC) as f64 / NANOS_PER_SEC as f64
}

/// `secs` seconds to the microsecond, or `otherwise` when that is negative, not a number
/// or beyond any schedule (std's `Duration::try_from_secs_f64` does the same with more
/// code, which the npm package's wasm carries).
pub(crate) fn from_secs_nanos(secs: f64, otherwise: Nanos) -> Nanos {
    if (0.0..1e12).contains(&secs) {
        // Saturating, without `saturating_mul`'s 128-bit product in the wasm.
        match (secs * 1e6 + 0.5) as u64 {
            micros @ 0..=18_446_744_073_709_551 => micros * 1_000,
            _ => Nanos::MAX,
        }
    } else {
        otherwise
    }
}

/// How closely a steady duration is closed in on (each halving of the bounds costs one
/// creation a second check).
pub const STEADY_PRECISION: Duration = Duration::from_millis(10);

/// How far the bounds of a steady duration may cross (a "running" check sent after a
/// "ready" one, of another creation) and still count as one duration: creates take a few
/// ms more or less to arrive, which shifts each creation's end by as much.
pub const STEADY_TOLERANCE: Duration = Duration::from_millis(30);

/// What the last creations of one kind took, as seen by the client: for each, when
/// (since it was started) its last check that found it running was sent, and when the
/// check that found it ready was sent. Send times on both sides: a check sent at that
/// moment is what the schedule chooses. Kept in memory by the client; no I/O.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    /// `(not_ready_at, ready_at)` per creation, oldest first, at most [`Durations::KEEP`].
    seen: Vec<(Option<Nanos>, Nanos)>,
    /// Probes of a steady duration scheduled since the last record: where the next one
    /// goes ([`PollSchedule::next_delay_learned`]).
    probes: u32,
}

/// Where probe number `n` (from 0) goes between two bounds, as a fraction of the way:
/// 1/2, 1/4, 3/4, 1/8, 5/8, 3/8, 7/8... (the van der Corput sequence), each one halfway
/// into the largest gap the earlier ones left.
fn spread(n: u32) -> f64 {
    let (mut n, mut fraction, mut step) = (n.saturating_add(1), 0.0, 0.5);
    while n > 0 {
        if n & 1 == 1 {
            fraction += step;
        }
        n >>= 1;
        step /= 2.0;
    }
    fraction
}

impl Durations {
    /// How many recent creations count. Several times what runs at once: the first to
    /// finish of a batch are the short ones, and they must not push the long ones out.
    pub const KEEP: usize = 64;
    /// Fewer than this: too little to go by, the cold schedule applies.
    pub const ENOUGH: usize = 3;

    /// A finished creation: its last check that found it running was sent at
    /// `not_ready_at` (`None` if the first check found it ready), and the check that
    /// found it ready at `ready_at`, both since it was started.
    pub fn record(&mut self, not_ready_at: Option<Duration>, ready_at: Duration) {
        self.record_nanos(not_ready_at.map(nanos), nanos(ready_at));
    }

    /// [`Self::record`] in [`Nanos`].
    fn record_nanos(&mut self, not_ready_at: Option<Nanos>, ready_at: Nanos) {
        if self.seen.len() == Self::KEEP {
            self.seen.remove(0);
        }
        self.seen.push((not_ready_at, ready_at));
        self.probes = 0;
    }

    /// One creation's generation time, as far as its checks tell: the middle between
    /// them. Found at the first check, only an upper bound is known: a quarter less lets
    /// the window move earlier when creations got faster (the 2nd-smallest estimate opens
    /// the window, so one such outlier does not move it), without dragging it far below a
    /// steady duration.
    fn estimate((not_ready_at, ready_at): (Option<Nanos>, Nanos)) -> Nanos {
        match not_ready_at {
            Some(lo) if lo < ready_at => lo + (ready_at - lo) / 2,
            Some(_) => ready_at,
            None => ready_at - ready_at / 4,
        }
    }

    /// Where creations of this kind usually end: from the second smallest recent
    /// estimate (one early outlier does not open it) to the largest.
    pub fn window(&self) -> Option<(Duration, Duration)> {
        let (start, end) = self.window_nanos();
        (self.seen.len() >= Self::ENOUGH).then(|| (Duration::from_nanos(start), Duration::from_nanos(end)))
    }

    /// [`Self::window`], with at least [`Self::ENOUGH`] creations seen.
    fn window_nanos(&self) -> (Nanos, Nanos) {
        // One pass, no sort (the npm package's size budget): the two smallest and the largest.
        let (mut least, mut second, mut most) = (Nanos::MAX, Nanos::MAX, 0);
        for &seen in &self.seen {
            let e = Self::estimate(seen);
            if e < least {
                second = least;
                least = e;
            } else if e < second {
                second = e;
            }
            most = most.max(e);
        }
        (second, most)
    }

    /// When every recent creation of this kind fits one and the same duration — every
    /// check that found one running was sent before every check that found one ready, or
    /// at most [`STEADY_TOLERANCE`] after (the time a create takes to arrive varies a
    /// little) — the latest "running" and the earliest "ready" send time, `(lo, hi)`.
    pub fn steady(&self) -> Option<(Duration, Duration)> {
        let (lo, hi) = self.steady_nanos().filter(|_| self.seen.len() >= Self::ENOUGH)?;
        Some((Duration::from_nanos(lo), Duration::from_nanos(hi)))
    }

    /// [`Self::steady`], with at least [`Self::ENOUGH`] creations seen.
    fn steady_nanos(&self) -> Option<(Nanos, Nanos)> {
        let (mut lo, mut hi) = (0, Nanos::MAX);
        for &(not_ready_at, ready_at) in &self.seen {
            lo = lo.max(not_ready_at.unwrap_or_default());
            hi = hi.min(ready_at);
        }
        (lo < hi.saturating_add(nanos(STEADY_TOLERANCE))).then_some((lo, hi))
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// [`Durations`] per kind of creation (style, count...), the most recently used kinds only.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Learned {
    kinds: Vec<(String, Durations)>,
}

impl Learned {
    /// Kinds remembered at most.
    pub const KINDS: usize = 16;

    pub fn get(&self, kind: &str) -> Option<&Durations> {
        self.kinds.iter().find(|(k, _)| k == kind).map(|(_, d)| d)
    }

    /// [`Learned::get`], for the schedule to count its probes in.
    pub fn get_mut(&mut self, kind: &str) -> Option<&mut Durations> {
        self.kinds.iter_mut().find(|(k, _)| k == kind).map(|(_, d)| d)
    }

    /// Records a finished creation of this kind (see [`Durations::record`]).
    pub fn record(&mut self, kind: &str, not_ready_at: Option<Duration>, ready_by: Duration) {
        self.record_nanos(kind, not_ready_at.map(nanos), nanos(ready_by));
    }

    /// [`Self::record`] in [`Nanos`].
    pub(crate) fn record_nanos(&mut self, kind: &str, not_ready_at: Option<Nanos>, ready_by: Nanos) {
        let mut entry = match self.kinds.iter().position(|(k, _)| k == kind) {
            Some(i) => self.kinds.remove(i),
            None => (kind.to_owned(), Durations::default()),
        };
        entry.1.record_nanos(not_ready_at, ready_by);
        if self.kinds.len() == Self::KINDS {
            self.kinds.remove(0);
        }
        self.kinds.push(entry);
    }

    /// As text, for a caller to keep across page loads (the app does, so a reload does
    /// not make the schedule start cold): a line per kind, oldest first, `kind`, a tab,
    /// then each creation as `running/ready` send times in ms (`-`: found ready at once),
    /// space-separated.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let ms = |n: Nanos| crate::error::decimal(n / 1_000_000);
        for (kind, durations) in &self.kinds {
            // A kind with a tab or line break in it could not be read back: not kept.
            if kind.bytes().any(|b| b == b'\t' || b == b'\n') {
                continue;
            }
            text.push_str(kind);
            let mut separator = '\t';
            for &(not_ready_at, ready_at) in &durations.seen {
                text.push(separator);
                separator = ' ';
                text.push_str(&not_ready_at.map_or_else(|| "-".into(), ms));
                text.push('/');
                text.push_str(&ms(ready_at));
            }
            text.push('\n');
        }
        text
    }

    /// What [`Learned::to_text`] wrote. What does not read is skipped, so an old or
    /// damaged copy costs at most a cold start, never an error.
    pub fn from_text(text: &str) -> Self {
        let mut learned = Self::default();
        let ms = |n: &str| n.parse::<u64>().ok().map(Duration::from_millis);
        let mut lines = text;
        while !lines.is_empty() {
            let line;
            (line, lines) = cut(lines, b'\n');
            let (kind, mut seen) = cut(line, b'\t');
            if kind.len() == line.len() {
                continue; // no tab
            }
            while !seen.is_empty() {
                let one;
                (one, seen) = cut(seen, b' ');
                let (not_ready_at, ready_at) = cut(one, b'/');
                let not_ready_at = if not_ready_at == "-" { Some(None) } else { ms(not_ready_at).map(Some) };
                if let (Some(not_ready_at), Some(ready_at)) = (not_ready_at, ms(ready_at)) {
                    learned.record(kind, not_ready_at, ready_at);
                }
            }
        }
        learned
    }
}

/// `text` up to the first `at` (an ASCII byte) and what follows it; all of `text` and ""
/// when there is none. Bytes, not a `char` pattern: less code in the wasm builds.
fn cut(text: &str, at: u8) -> (&str, &str) {
    match text.bytes().position(|b| b == at) {
        Some(i) => (text.get(..i).unwrap_or_default(), text.get(i + 1..).unwrap_or_default()),
        None => (text, ""),
    }
}

// Native only: proptest needs an OS random source.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn learned_reads_back_from_its_text() {
        let mut learned = Learned::default();
        learned.record("standard 1", Some(ms(1_900)), ms(2_050));
        learned.record("standard 1", None, ms(480));
        learned.record("HQ-1280-720-h 2", Some(ms(7_000)), ms(8_000));
        learned.record("bad\tkind", None, ms(1));
        let text = learned.to_text();
        assert_eq!(text, "standard 1\t1900/2050 -/480\nHQ-1280-720-h 2\t7000/8000\n");
        let mut expected = learned.clone();
        expected.kinds.retain(|(k, _)| !k.contains('\t'));
        assert_eq!(Learned::from_text(&text), expected);
    }

    #[test]
    fn learned_text_that_does_not_read_is_skipped() {
        let text = "no tab here\nstandard 1\t1900/2050 x/5 10/ /7 -/480\n\tgarbage";
        let learned = Learned::from_text(text);
        assert_eq!(learned.to_text(), "standard 1\t1900/2050 -/480\n");
        assert_eq!(Learned::from_text(""), Learned::default());
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn learned(estimates_ms: &[u64]) -> Durations {
        let mut d = Durations::default();
        for &e in estimates_ms {
            d.record(Some(ms(e)), ms(e));
        }
        d
    }

    #[test]
    fn starts_quick_then_backs_off_to_the_cap() {
        let s = PollSchedule::default();
        let delays: Vec<u128> =
            (0..8).map(|n| s.next_delay(n, Duration::ZERO).unwrap().as_millis()).collect();
        assert_eq!(delays, [500, 750, 1125, 1687, 2531, 3000, 3000, 3000]);
    }

    #[test]
    fn stops_at_the_deadline() {
        let s = PollSchedule { deadline: Duration::from_secs(10), ..PollSchedule::default() };
        assert_eq!(s.next_delay(20, Duration::from_millis(9_000)), Some(Duration::from_secs(1)));
        assert_eq!(s.next_delay(20, Duration::from_secs(10)), None);
        assert_eq!(s.next_delay(0, Duration::from_secs(11)), None);
    }

    #[test]
    fn fixed_polls_at_one_interval_and_never_learns() {
        let s = PollSchedule::fixed(ms(500));
        let mut window = learned(&[8_000, 8_100, 8_200]);
        for (n, elapsed) in [(0, 0), (1, 500), (7, 4_000), (60, 30_000)] {
            assert_eq!(s.next_delay_learned(n, ms(elapsed), Some(&mut window)), Some(ms(500)));
        }
    }

    #[test]
    fn too_little_history_means_the_cold_shape() {
        let s = PollSchedule::default();
        let mut two = learned(&[8_000, 8_000]);
        assert_eq!(s.next_delay_learned(0, Duration::ZERO, Some(&mut two)), Some(ms(500)));
        assert_eq!(s.next_delay_learned(3, ms(3_000), None), s.next_delay(3, ms(3_000)));
    }

    #[test]
    fn sparse_before_the_learned_window_dense_within_back_off_after() {
        let s = PollSchedule::default();
        // Creations of this kind ended between 7.4 s and 8.6 s (the 7.0 s one is the outlier).
        let mut d = learned(&[8_000, 7_000, 7_400, 8_600, 8_200]);
        assert_eq!(d.window(), Some((ms(7_400), ms(8_600))));
        // One sleep straight to a gap past the window's start.
        assert_eq!(s.next_delay_learned(0, ms(10), Some(&mut d)), Some(ms(7_790)));
        // Within it: half its width, at most dense_interval (400 ms).
        assert_eq!(s.next_delay_learned(1, ms(7_800), Some(&mut d)), Some(ms(400)));
        // A narrow window: closer checks, but never under min_interval.
        let mut narrow = learned(&[2_000, 2_100, 2_200, 2_300]);
        assert_eq!(s.next_delay_learned(1, ms(2_100), Some(&mut narrow)), Some(ms(200)));
        // Past it: back off gently from there, up to the cap.
        assert_eq!(s.next_delay_learned(5, ms(9_100), Some(&mut d)), Some(ms(525)));
        assert_eq!(s.next_delay_learned(9, ms(12_600), Some(&mut d)), Some(ms(1_400)));
        assert_eq!(s.next_delay_learned(20, ms(60_000), Some(&mut d)), Some(ms(3_000)));
    }

    #[test]
    fn a_server_polls_densely_and_spaces_a_wide_window_on_the_bound() {
        let s = PollSchedule::held();
        // ±10 % around 8 s: every 200 ms within.
        let mut narrow = learned(&[7_200, 7_600, 8_000, 8_400, 8_800]);
        assert_eq!(s.next_delay_learned(3, ms(7_700), Some(&mut narrow)), Some(ms(200)));
        // Uniform 0.5–30 s: 230 ms, from the start (no sleep to the window: the few that
        // end before it are not found late), where a browser sleeps to the window.
        let mut wide = learned(&[500, 900, 7_000, 15_000, 29_800]);
        assert_eq!(s.next_delay_learned(3, ms(7_700), Some(&mut wide)), Some(ms(230)));
        assert_eq!(s.next_delay_learned(0, ms(10), Some(&mut wide)), Some(ms(230)));
        assert_eq!(PollSchedule::default().next_delay_learned(0, ms(10), Some(&mut wide)), Some(ms(1_290)));
        // Cold: from 250 ms, never sparser than 500 ms.
        let cold: Vec<u128> = (0..6).map(|n| s.next_delay(n, Duration::ZERO).unwrap().as_millis()).collect();
        assert_eq!(cold, [250, 312, 390, 488, 500, 500]);
        // A browser's schedule is as it was: the wide interval is the dense one.
        let browser = PollSchedule::default();
        assert_eq!(browser.next_delay_learned(3, ms(7_700), Some(&mut wide)), Some(ms(400)));
    }

    #[test]
    fn one_steady_duration_is_closed_in_on_then_checked_once() {
        let s = PollSchedule::default();
        let mut d = Durations::default();
        // Three creations of exactly 2 s, polled cold: running at 1.25 s, ready at 2.375 s.
        for _ in 0..3 {
            d.record(Some(ms(1_250)), ms(2_375));
        }
        assert_eq!(d.steady(), Some((ms(1_250), ms(2_375))));
        // A probe in the middle, then straight to where all were ready.
        assert_eq!(s.next_delay_learned(0, ms(10), Some(&mut d)), Some(Duration::from_micros(1_802_500)));
        assert_eq!(s.next_delay_learned(1, ms(1_815), Some(&mut d)), Some(ms(560)));
        // That probe found the next creation running; the one after was ready at its probe.
        d.record(Some(ms(1_812)), ms(2_375));
        assert_eq!(d.steady(), Some((ms(1_812), ms(2_375))));
        d.record(None, ms(2_093));
        assert_eq!(d.steady(), Some((ms(1_812), ms(2_093))));
        // Creations of different lengths are not steady: the window applies.
        d.record(Some(ms(2_200)), ms(2_400));
        assert_eq!(d.steady(), None);
        let mut tight = Durations::default();
        for _ in 0..3 {
            tight.record(Some(ms(2_005)), ms(2_015));
        }
        // Within STEADY_PRECISION: no probe, one check at the bound.
        assert_eq!(s.next_delay_learned(0, ms(10), Some(&mut tight)), Some(ms(2_005)));
        // Just past the bound and still running: once more where the tolerance ends...
        assert_eq!(s.next_delay_learned(1, ms(2_030), Some(&mut tight)), Some(ms(15)));
        // ...then the window's gentle back-off takes over.
        assert_eq!(s.next_delay_learned(2, ms(2_050), Some(&mut tight)), Some(ms(200)));
        // A server checks again every 5 ms within the tolerance, then as the window says.
        let held = PollSchedule::held();
        assert_eq!(held.next_delay_learned(1, ms(2_017), Some(&mut tight)), Some(ms(5)));
        assert_eq!(held.next_delay_learned(5, ms(2_042), Some(&mut tight)), Some(ms(3)));
        assert_eq!(held.next_delay_learned(6, ms(2_046), Some(&mut tight)), Some(ms(150)));
    }

    /// One creation of exactly `duration` polled on `s` with what `d` learned, 3 ms per
    /// check: (checks, how late the check that found it ready was sent); records it.
    fn simulate(s: &PollSchedule, d: &mut Durations, duration: Duration) -> (u32, Duration) {
        let (mut elapsed, mut checks, mut not_ready_at) = (ms(5), 0, None);
        loop {
            let sent = elapsed + s.next_delay_learned(checks, elapsed, Some(&mut *d)).unwrap();
            checks += 1;
            if sent >= duration {
                d.record(not_ready_at, sent);
                return (checks, sent - duration);
            }
            not_ready_at = Some(sent);
            elapsed = sent + ms(3);
        }
    }

    #[test]
    fn a_steady_duration_is_soon_found_with_one_check_just_after_it_ends() {
        let s = PollSchedule::default();
        let mut d = Durations::default();
        let runs: Vec<(u32, Duration)> = (0..20).map(|_| simulate(&s, &mut d, ms(2_000))).collect();
        // Cold: three checks, found 0.4 s late; closing in takes a few creations...
        assert_eq!(runs[0].0, 3);
        // ...then one check each, within STEADY_PRECISION of the end.
        for &(checks, late) in &runs[12..] {
            assert_eq!(checks, 1);
            assert!(late <= STEADY_PRECISION, "{late:?}");
        }
    }

    #[test]
    fn bounds_crossed_by_a_few_ms_still_count_as_one_duration() {
        let s = PollSchedule::default();
        let mut d = Durations::default();
        d.record(Some(ms(1_990)), ms(2_000));
        d.record(Some(ms(2_012)), ms(2_020)); // this create arrived 20 ms later
        d.record(Some(ms(1_995)), ms(2_005));
        assert_eq!(d.steady(), Some((ms(2_012), ms(2_000))));
        // One check, just past the latest "running".
        assert_eq!(s.next_delay_learned(0, ms(10), Some(&mut d)), Some(ms(2_012)));
        // Crossed by more than STEADY_TOLERANCE: durations differ, the window applies.
        d.record(Some(ms(2_100)), ms(2_200));
        assert_eq!(d.steady(), None);
    }

    #[test]
    fn probes_of_creations_running_together_spread_out() {
        assert_eq!([0, 1, 2, 3, 4, 5, 6].map(spread), [0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875]);
        let s = PollSchedule::default();
        let mut d = Durations::default();
        for _ in 0..3 {
            d.record(Some(ms(1_000)), ms(2_600));
        }
        // Four creations started before any of them ends: four different probes.
        let first: Vec<Duration> =
            (0..4).map(|_| s.next_delay_learned(0, ms(0), Some(&mut d)).unwrap()).collect();
        assert_eq!(first, [ms(1_800), ms(1_400), ms(2_200), ms(1_200)]);
        // A finished creation moves the bounds; the next probe goes halfway again.
        d.record(Some(ms(1_800)), ms(2_200));
        assert_eq!(s.next_delay_learned(0, ms(0), Some(&mut d)), Some(ms(2_000)));
    }

    #[test]
    fn estimates_take_the_middle_and_move_earlier_when_found_at_once() {
        let mut d = Durations::default();
        d.record(Some(ms(1_000)), ms(2_000));
        d.record(Some(ms(1_800)), ms(2_000));
        d.record(None, ms(2_000));
        assert_eq!(d.window(), Some((ms(1_500), ms(1_900))));
        d.record(None, ms(1_200));
        d.record(None, ms(1_200));
        assert_eq!(d.window(), Some((ms(900), ms(1_900))));
        for i in 0..100 {
            d.record(Some(ms(i)), ms(30_000));
        }
        assert_eq!(d.len(), Durations::KEEP);
    }

    #[test]
    fn kinds_are_kept_apart_and_the_oldest_forgotten() {
        let mut l = Learned::default();
        l.record("HD-HQ", None, ms(4_000));
        l.record("standard", Some(ms(100)), ms(300));
        assert_eq!(l.get("HD-HQ").map(Durations::len), Some(1));
        assert_eq!(l.get("standard").map(Durations::len), Some(1));
        for i in 0..Learned::KINDS {
            l.record(&format!("style {i}"), None, ms(1));
        }
        assert_eq!(l.get("HD-HQ"), None);
        assert!(l.get("style 0").is_some());
    }

    proptest! {
        #[test]
        fn window_is_second_smallest_to_largest(history in prop::collection::vec(0u64..10_000, 0..80)) {
            let d = learned(&history);
            let mut sorted: Vec<Duration> =
                d.seen.iter().map(|&s| Duration::from_nanos(Durations::estimate(s))).collect();
            sorted.sort_unstable();
            let expected = (sorted.len() >= Durations::ENOUGH).then(|| (sorted[1], sorted[sorted.len() - 1]));
            prop_assert_eq!(d.window(), expected);
        }

        #[test]
        fn never_past_deadline_never_faster_than_minimum(
            checks in 0u32..1_000,
            elapsed_ms in 0u64..400_000,
            first_ms in 0u64..5_000,
            growth in 0.5f64..4.0,
        ) {
            let s = PollSchedule { first_delay: Duration::from_millis(first_ms), growth, ..PollSchedule::default() };
            let elapsed = Duration::from_millis(elapsed_ms);
            match s.next_delay(checks, elapsed) {
                Some(d) => {
                    prop_assert!(elapsed + d <= s.deadline);
                    let left = s.deadline - elapsed;
                    prop_assert!(d >= s.min_interval || d == left);
                    prop_assert!(d <= s.max_interval);
                }
                None => prop_assert!(elapsed >= s.deadline),
            }
        }

        #[test]
        fn learned_never_past_deadline_never_faster_than_minimum(
            checks in 0u32..1_000,
            elapsed_ms in 0u64..400_000,
            history in prop::collection::vec((prop::option::of(0u64..400_000), 0u64..400_000), 0..40),
            min_ms in 0u64..2_000,
            dense_ms in 0u64..5_000,
            growth in 0.5f64..4.0,
            retry_ms in 1u64..40,
        ) {
            let mut learned = Durations::default();
            for (lo, hi) in history {
                learned.record(lo.map(Duration::from_millis), Duration::from_millis(hi));
            }
            let s = PollSchedule {
                min_interval: Duration::from_millis(min_ms),
                dense_interval: Duration::from_millis(dense_ms),
                wide_interval: Duration::from_millis(dense_ms / 2 + 100),
                growth,
                steady_retry: Duration::from_millis(retry_ms),
                ..PollSchedule::default()
            };
            let elapsed = Duration::from_millis(elapsed_ms);
            match s.next_delay_learned(checks, elapsed, Some(&mut learned)) {
                Some(d) => {
                    prop_assert!(elapsed + d <= s.deadline);
                    let left = s.deadline - elapsed;
                    // Sooner than min_interval only to check where every creation of a
                    // steady duration was ready, or again every steady_retry past it;
                    // longer than the cap only to jump there, or to the learned window's start.
                    let steady_end = learned.steady().map(|(lo, hi)| if lo < hi { hi } else { lo + STEADY_PRECISION });
                    let to_steady_end = steady_end.is_some_and(|end| {
                        let at = elapsed + d;
                        at == end || at == end + STEADY_TOLERANCE || (elapsed >= end && d == s.steady_retry)
                    });
                    prop_assert!(d >= s.min_interval || d == left || to_steady_end);
                    let steady_jump = steady_end.is_some_and(|end| elapsed + d <= (end + STEADY_TOLERANCE).max(elapsed + s.min_interval));
                    if steady_jump {
                    } else if let Some((start, _)) = learned.window() {
                        let dense = s.dense_interval.max(s.wide_interval).max(s.min_interval);
                        prop_assert!(
                            d <= s.max_interval.max(dense) || elapsed + d <= (start + dense).max(elapsed + s.min_interval)
                        );
                    } else {
                        prop_assert!(d <= s.max_interval);
                    }
                }
                None => prop_assert!(elapsed >= s.deadline),
            }
        }

        /// The schedule in nanoseconds gives what it gave in `Duration`s ([`in_durations`]),
        /// probes counted alike, for any settings and history below 584 years.
        #[test]
        fn nanoseconds_schedule_as_durations_did(
            checks in 0u32..40,
            elapsed_us in 0u64..20_000_000,
            history in prop::collection::vec((prop::option::of(0u64..10_000_000), 0u64..10_000_000), 0..12),
            steady_at in prop::option::of(1u64..10_000_000),
            settings in prop::collection::vec(0u64..6_000_000, 8),
            growth in prop_oneof![0.5f64..4.0, proptest::num::f64::ANY],
            learn in any::<bool>(),
            wide_from_start in any::<bool>(),
        ) {
            let us = Duration::from_micros;
            let s = PollSchedule {
                first_delay: us(settings[0]),
                growth,
                min_interval: us(settings[1] / 8),
                max_interval: us(settings[2]),
                deadline: us(settings[3] * 4),
                learn,
                dense_interval: us(settings[4]),
                wide_interval: us(settings[5]),
                steady_precision: us(settings[6] / 64),
                steady_retry: us(settings[7] / 64),
                wide_from_start,
            };
            let mut d = Durations::default();
            for (lo, hi) in history {
                match steady_at {
                    // One duration: "running" before it, "ready" after, both within a second.
                    Some(at) => d.record(lo.map(|lo| us(at.saturating_sub(lo % 1_000_000))), us(at + hi % 1_000_000)),
                    None => d.record(lo.map(us), us(hi)),
                }
            }
            let mut before = d.clone();
            let elapsed = us(elapsed_us) + Duration::from_nanos(u64::from(checks) * 7);
            // Probes counted alike: the next call goes where the old one's would.
            for _ in 0..3 {
                let expected = in_durations::next_delay_learned(&s, checks, elapsed, Some(&mut before));
                prop_assert_eq!(s.next_delay_learned(checks, elapsed, Some(&mut d)), expected);
                prop_assert_eq!(&d, &before);
            }
            prop_assert_eq!(s.next_delay(checks, elapsed), in_durations::next_delay(&s, checks, elapsed));
        }
    }

    /// The schedule as it was written in `Duration`s (before 2026-12-07), to hold the
    /// nanoseconds arithmetic to the same values.
    mod in_durations {
        use super::super::{spread, Durations, PollSchedule, STEADY_TOLERANCE};
        use core::time::Duration;

        fn from_secs(secs: f64, otherwise: Duration) -> Duration {
            if (0.0..1e12).contains(&secs) {
                Duration::from_micros((secs * 1e6 + 0.5) as u64)
            } else {
                otherwise
            }
        }

        pub fn next_delay(s: &PollSchedule, checks_done: u32, elapsed: Duration) -> Option<Duration> {
            let left = s.deadline.checked_sub(elapsed).filter(|left| !left.is_zero())?;
            let max = s.max_interval.max(s.min_interval);
            let grown = s.first_delay.as_secs_f64() * s.growth.max(1.0).powi(checks_done.min(1_000) as i32);
            let delay = from_secs(grown, max).max(s.min_interval).min(max);
            Some(delay.min(left))
        }

        fn seen(d: &Durations) -> Vec<(Option<Duration>, Duration)> {
            d.seen.iter().map(|&(lo, hi)| (lo.map(Duration::from_nanos), Duration::from_nanos(hi))).collect()
        }

        fn estimate((not_ready_at, ready_at): (Option<Duration>, Duration)) -> Duration {
            match not_ready_at {
                Some(lo) if lo < ready_at => lo.saturating_add(ready_at.saturating_sub(lo) / 2),
                Some(_) => ready_at,
                None => ready_at.saturating_sub(ready_at / 4),
            }
        }

        fn window(d: &Durations) -> Option<(Duration, Duration)> {
            if d.seen.len() < Durations::ENOUGH {
                return None;
            }
            let (mut least, mut second, mut most) = (Duration::MAX, Duration::MAX, Duration::ZERO);
            for &seen in &seen(d) {
                let e = estimate(seen);
                if e < least {
                    second = least;
                    least = e;
                } else if e < second {
                    second = e;
                }
                most = most.max(e);
            }
            Some((second, most))
        }

        fn steady(d: &Durations) -> Option<(Duration, Duration)> {
            if d.seen.len() < Durations::ENOUGH {
                return None;
            }
            let (mut lo, mut hi) = (Duration::ZERO, Duration::MAX);
            for &(not_ready_at, ready_at) in &seen(d) {
                lo = lo.max(not_ready_at.unwrap_or_default());
                hi = hi.min(ready_at);
            }
            (lo < hi.saturating_add(STEADY_TOLERANCE)).then_some((lo, hi))
        }

        pub fn next_delay_learned(
            s: &PollSchedule,
            checks_done: u32,
            elapsed: Duration,
            learned: Option<&mut Durations>,
        ) -> Option<Duration> {
            let learned = learned.filter(|_| s.learn);
            let learned_ref = learned.as_deref();
            let Some((start, end)) = learned_ref.and_then(window) else {
                return next_delay(s, checks_done, elapsed);
            };
            let left = s.deadline.checked_sub(elapsed).filter(|left| !left.is_zero())?;
            if let Some((lo, hi)) = learned_ref.and_then(steady) {
                let probes = learned_ref.map_or(0, |d| d.probes);
                let width = hi.saturating_sub(lo);
                let offset = from_secs(width.as_secs_f64() * spread(probes), width);
                let probe = lo.saturating_add(offset);
                if width > s.steady_precision
                    && !lo.is_zero()
                    && elapsed.saturating_add(s.min_interval) <= probe
                {
                    if let Some(d) = learned {
                        d.probes = probes.saturating_add(1);
                    }
                    return Some(probe.saturating_sub(elapsed).min(left));
                }
                let end = if lo < hi { hi } else { lo.saturating_add(s.steady_precision) };
                if elapsed < end {
                    return Some(end.saturating_sub(elapsed).min(left));
                }
                let tolerated = end.saturating_add(STEADY_TOLERANCE);
                if elapsed < tolerated {
                    let next = elapsed.saturating_add(s.steady_retry).min(tolerated);
                    return Some(next.saturating_sub(elapsed).min(left));
                }
            }
            let max = s.max_interval.max(s.min_interval);
            let width = end.saturating_sub(start);
            let wide = width > end / 2;
            let dense = if wide { s.wide_interval } else { s.dense_interval };
            let gap = (width / 2).min(dense).max(s.min_interval);
            let start = if wide && s.wide_from_start { Duration::ZERO } else { start };
            let delay = if elapsed < start {
                start.saturating_add(gap).saturating_sub(elapsed)
            } else if elapsed < end.saturating_add(gap) {
                gap
            } else {
                let past = elapsed.saturating_sub(end).as_secs_f64() * (s.growth.max(1.0) - 1.0) / 2.0;
                gap.saturating_add(from_secs(past, max)).min(max.max(gap))
            };
            Some(delay.max(s.min_interval).min(left))
        }
    }
}
