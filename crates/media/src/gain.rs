//! Fixed-point gain with saturation.

/// A linear gain factor, applied in fixed point with saturation to 16 bits.
///
/// Built from decibels on the control side (or at configuration); applying it is a multiply
/// and a shift per sample.
///
/// ```
/// use media::Gain;
/// let mut s = [1000i16, -1000, 30000];
/// Gain::from_db(6.0).apply(&mut s);
/// assert_eq!(&s[..2], &[1995, -1995]);
/// assert_eq!(s[2], i16::MAX); // saturates instead of wrapping
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gain {
    q14: i32,
}

impl Gain {
    /// Unity gain (0 dB): samples pass unchanged.
    pub const UNITY: Self = Self { q14: 1 << 14 };
    /// Mute: every sample becomes 0.
    pub const MUTE: Self = Self { q14: 0 };

    /// The gain for `db` decibels, clamped to -60…+24 dB (below -60 dB is mute).
    pub fn from_db(db: f32) -> Self {
        if db.is_nan() || db < -60.0 {
            return Self::MUTE;
        }
        let factor = 10f32.powf(db.min(24.0) / 20.0);
        Self {
            q14: (factor * 16384.0).round() as i32,
        }
    }

    /// Whether this is exactly unity gain.
    pub const fn is_unity(self) -> bool {
        self.q14 == 1 << 14
    }

    /// Multiplies every sample by the gain, saturating at the 16-bit limits.
    ///
    /// # Real-time
    /// Does not allocate.
    pub fn apply(self, samples: &mut [i16]) {
        if self.is_unity() {
            return;
        }
        for s in samples {
            let v = (i32::from(*s) * self.q14 + (1 << 13)) >> 14;
            *s = v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
    }
}

impl Default for Gain {
    fn default() -> Self {
        Self::UNITY
    }
}

/// Adds `src` into `dst` sample by sample, saturating.
pub(crate) fn mix_into(dst: &mut [i16], src: &[i16]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = d.saturating_add(*s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unity_mute_and_attenuation() {
        let mut s = [12345i16, -32768, 7];
        Gain::UNITY.apply(&mut s);
        assert_eq!(s, [12345, -32768, 7]);
        let mut a = [16000i16, -16000];
        Gain::from_db(-6.0206).apply(&mut a);
        assert_eq!(a, [8000, -8000]);
        let mut m = [5i16, -5];
        Gain::from_db(-80.0).apply(&mut m);
        assert_eq!(m, [0, 0]);
    }

    #[test]
    fn mixing_saturates() {
        let mut d = [30000i16, -30000, 10];
        mix_into(&mut d, &[10000, -10000, 5]);
        assert_eq!(d, [i16::MAX, i16::MIN, 15]);
    }
}
