//! Sample-clock time on the audio side.

use crate::SAMPLES_PER_MS;

/// Samples since a channel (or a board) started, advanced by the board's clock.
///
/// This is the audio side's only notion of time: detectors stamp events with it and the
/// pipeline's deadlines are expressed in it, so tests drive it directly and every run is
/// identical. At 8 kHz a `u64` lasts for 73 million years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SampleTime(pub u64);

impl SampleTime {
    /// Time zero.
    pub const ZERO: Self = Self(0);

    /// The time `ms` milliseconds after zero.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms * SAMPLES_PER_MS)
    }

    /// Whole milliseconds since zero (rounded down).
    pub const fn as_millis(self) -> u64 {
        self.0 / SAMPLES_PER_MS
    }

    /// Samples elapsed from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn saturating_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl core::ops::Add<u64> for SampleTime {
    type Output = Self;
    fn add(self, samples: u64) -> Self {
        Self(self.0 + samples)
    }
}

impl core::ops::AddAssign<u64> for SampleTime {
    fn add_assign(&mut self, samples: u64) {
        self.0 += samples;
    }
}

impl core::fmt::Display for SampleTime {
    /// Seconds with millisecond precision, e.g. `3.250s`, for transcripts.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ms = self.as_millis();
        write!(f, "{}.{:03}s", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_and_display() {
        let t = SampleTime::from_millis(3250);
        assert_eq!(t.0, 26_000);
        assert_eq!(t.as_millis(), 3250);
        assert_eq!(t.to_string(), "3.250s");
        assert_eq!((t + 8).as_millis(), 3251);
        assert_eq!(SampleTime::ZERO.saturating_since(t), 0);
        assert_eq!(t.saturating_since(SampleTime::ZERO), 26_000);
    }
}
