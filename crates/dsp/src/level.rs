//! dBm0 levels, a level meter, and a silence/voice detector.
//!
//! # Level convention
//!
//! All levels in this crate use one convention, for linear 16-bit samples and for audio that
//! passed through A-law or µ-law alike: a sine wave whose peak is
//! `32767 · 10^((L − 3.14) / 20)` is at `L` dBm0. So the loudest sine a codec can carry is
//! +3.14 dBm0 (G.711 A-law's overload point; µ-law's is 3.17, within 0.03 dB) and a 0 dBm0
//! sine has a peak of 22 793 (RMS 16 117). The DTMF and tone generators, the level meter and
//! every detector use this.

use tel_types::SampleTime;

/// dBm0 of a full-scale sine (peak 32767).
#[allow(clippy::approx_constant)] // 3.14 dB is G.711's overload point, not π.
pub const FULL_SCALE_SINE_DBM0: f32 = 3.14;

/// Peak amplitude of a sine at `dbm0`.
pub fn sine_peak_for_dbm0(dbm0: f32) -> f32 {
    32767.0 * 10f32.powf((dbm0 - FULL_SCALE_SINE_DBM0) / 20.0)
}

/// Mean square (power) of a 0 dBm0 signal, in linear sample units squared.
pub fn zero_dbm0_power() -> f32 {
    let p = sine_peak_for_dbm0(0.0);
    p * p / 2.0
}

/// dBm0 of a signal whose mean square is `power` (sample units squared). Returns -100 for
/// silence.
pub fn power_to_dbm0(power: f32) -> f32 {
    if power <= 0.0 {
        return -100.0;
    }
    (10.0 * (power / zero_dbm0_power()).log10()).max(-100.0)
}

/// Mean square of a signal at `dbm0`.
pub fn dbm0_to_power(dbm0: f32) -> f32 {
    zero_dbm0_power() * 10f32.powf(dbm0 / 10.0)
}

/// A running level meter: the RMS level in dBm0 of the last block it saw, and of everything
/// since it was reset.
///
/// ```
/// use dsp::level::LevelMeter;
/// let mut m = LevelMeter::new();
/// m.process(&[1000, -1000, 1000, -1000]);
/// assert!((m.level_dbm0() - dsp::level::power_to_dbm0(1.0e6)).abs() < 0.01);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LevelMeter {
    last_power: f32,
    sum: f64,
    count: u64,
    peak: u16,
}

impl LevelMeter {
    /// A meter with nothing measured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Measures one block.
    pub fn process(&mut self, samples: &[i16]) {
        if samples.is_empty() {
            return;
        }
        let (e, peak) = block_energy(samples);
        self.last_power = (e / samples.len() as f64) as f32;
        self.sum += e;
        self.count += samples.len() as u64;
        self.peak = self.peak.max(peak);
    }

    /// Level of the last block, in dBm0.
    pub fn level_dbm0(&self) -> f32 {
        power_to_dbm0(self.last_power)
    }

    /// Level of everything since the last reset, in dBm0.
    pub fn average_dbm0(&self) -> f32 {
        if self.count == 0 {
            return -100.0;
        }
        power_to_dbm0((self.sum / self.count as f64) as f32)
    }

    /// Largest absolute sample value since the last reset.
    pub fn peak(&self) -> u16 {
        self.peak
    }

    /// Forgets everything measured.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Sum of squares and peak magnitude of a block.
pub fn block_energy(samples: &[i16]) -> (f64, u16) {
    let mut e = 0i64;
    let mut peak = 0u16;
    for c in samples.chunks(64) {
        let mut acc = 0i64;
        for &s in c {
            acc += (s as i32 * s as i32) as i64;
            peak = peak.max(s.unsigned_abs());
        }
        e += acc;
    }
    (e as f64, peak)
}

/// Settings of a [`VoiceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Audio above this level (dBm0, per 10 ms) counts as voice.
    pub voice_threshold_dbm0: f32,
    /// Audio must stay above the threshold this long (ms) before voice is reported.
    pub voice_min_ms: u32,
    /// Audio must stay below the threshold this long (ms) before silence is reported.
    pub silence_min_ms: u32,
    /// Extra margin (dB) above the tracked noise floor voice must reach, so a steady noisy
    /// line is not taken for voice.
    pub noise_margin_db: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            voice_threshold_dbm0: -36.0,
            voice_min_ms: 60,
            silence_min_ms: 800,
            noise_margin_db: 9.0,
        }
    }
}

/// A change reported by the [`VoiceDetector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Voice started at this time.
    Voice(SampleTime),
    /// Silence started at this time.
    Silence(SampleTime),
}

/// Silence/voice detector for end-of-recording and voice barge-in.
///
/// Works on 10 ms blocks: a block is loud if it is above both the configured threshold and
/// the noise floor (the quietest block of the last 0.5–1 s) plus a margin. Voice is reported after `voice_min_ms` of loud
/// blocks, silence after `silence_min_ms` of quiet ones, each stamped with when it began.
/// It starts in the silent state.
///
/// ```
/// use dsp::level::{VoiceDetector, VadConfig, VadEvent};
/// use tel_types::SampleTime;
/// let mut vad = VoiceDetector::new(VadConfig::default());
/// // 200 ms of a quiet line, then someone speaks (here: a loud 1 kHz tone).
/// let mut audio = vec![3i16; 1600];
/// audio.extend((0..1600).map(|i| [0, 8000, 0, -8000][i % 4]));
/// assert_eq!(vad.process(&audio, SampleTime::ZERO), Some(VadEvent::Voice(SampleTime(1600))));
/// ```
#[derive(Debug, Clone)]
pub struct VoiceDetector {
    cfg: VadConfig,
    voice: bool,
    run_start: Option<SampleTime>,
    block_e: f64,
    block_n: u32,
    block_start: SampleTime,
    noise_floor: f32,
    win_min: f32,
    prev_min: f32,
    win_blocks: u32,
    started: bool,
    pending: Option<VadEvent>,
    /// A block's power at or above this cannot be a new minimum of the window (see
    /// [`SURE_DB`]); infinite while the window is empty.
    min_hi: f64,
    /// The level a block must exceed to be loud (`max(threshold, noise floor + margin)`) the
    /// two powers below are for: at or below `loud_lo` a block is quiet, at or above
    /// `loud_hi` it is loud, whatever the rounding of its level.
    loud_at: f32,
    loud_lo: f64,
    loud_hi: f64,
}

const VAD_BLOCK: u32 = 80;

/// Levels are computed (`power_to_dbm0`, a `log10` per 10 ms block) only where they can
/// change a decision. A block's computed level is within 1e-4 dB of the exact level of its
/// power (f32 rounding and `log10f`'s error of an ulp or two), so a power at least this
/// many dB above (below) the power of a level has a computed level above (below) that
/// level: the decision is the same as with the level computed, and so is every result.
const SURE_DB: f64 = 0.01;

/// The power whose exact level is `dbm0 + by_db` (dBm0), in f64: a bound for [`SURE_DB`].
fn power_bound(dbm0: f32, by_db: f64) -> f64 {
    f64::from(zero_dbm0_power()) * 10f64.powf((f64::from(dbm0) + by_db) / 10.0)
}

impl VoiceDetector {
    /// A detector with `cfg`, in the silent state.
    pub fn new(cfg: VadConfig) -> Self {
        Self {
            cfg,
            voice: false,
            run_start: None,
            block_e: 0.0,
            block_n: 0,
            block_start: SampleTime::ZERO,
            noise_floor: -100.0,
            win_min: f32::MAX,
            prev_min: f32::MAX,
            win_blocks: 0,
            started: false,
            pending: None,
            min_hi: f64::INFINITY,
            loud_at: f32::NAN,
            loud_lo: f64::NEG_INFINITY,
            loud_hi: f64::INFINITY,
        }
    }

    /// Whether the detector is in the voice state.
    pub fn is_voice(&self) -> bool {
        self.voice
    }

    /// The tracked noise floor in dBm0.
    pub fn noise_floor_dbm0(&self) -> f32 {
        self.noise_floor
    }

    /// Feeds samples starting at `now`; returns the state change the block caused, if any
    /// (at most one per 10 ms; pass frames of 20 ms or less to see every change).
    pub fn process(&mut self, samples: &[i16], now: SampleTime) -> Option<VadEvent> {
        if !self.started {
            self.started = true;
            self.block_start = now;
        }
        let mut out = self.pending.take();
        let mut t = now;
        for chunk in samples.chunks(VAD_BLOCK as usize) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let take = ((VAD_BLOCK - self.block_n) as usize).min(rest.len());
                if self.block_n == 0 {
                    self.block_start = t;
                }
                self.block_e += block_energy(&rest[..take]).0;
                self.block_n += take as u32;
                t += take as u64;
                rest = &rest[take..];
                if self.block_n == VAD_BLOCK {
                    let power = (self.block_e / VAD_BLOCK as f64) as f32;
                    self.block_e = 0.0;
                    self.block_n = 0;
                    if let Some(ev) = self.block(power) {
                        if out.is_none() {
                            out = Some(ev);
                        } else {
                            self.pending = Some(ev);
                        }
                    }
                }
            }
        }
        out
    }

    /// One 10 ms block of mean square `power`.
    fn block(&mut self, power: f32) -> Option<VadEvent> {
        let start = self.block_start;
        // The block's level (`power_to_dbm0`), computed only where a decision needs it.
        let p = f64::from(power);
        let mut lvl = (power <= 0.0).then_some(-100.0);
        // Noise floor by minimum statistics: the quietest 10 ms block of the last 0.5-1 s.
        // Speech always has such gaps; steady line noise is its own minimum.
        if lvl.is_none() && p < self.min_hi {
            lvl = Some(power_to_dbm0(power));
        }
        if let Some(l) = lvl {
            if l < self.win_min {
                self.win_min = l;
                self.min_hi = power_bound(l, SURE_DB);
            }
        }
        // Otherwise the level is above the window's minimum, which stays.
        self.win_blocks += 1;
        if self.win_blocks == 50 {
            self.prev_min = self.win_min;
            self.win_min = f32::MAX;
            self.min_hi = f64::INFINITY;
            self.win_blocks = 0;
        }
        self.noise_floor = self.prev_min.min(self.win_min);
        let floor_margin = self.noise_floor + self.cfg.noise_margin_db;
        let loud_at = self.cfg.voice_threshold_dbm0.max(floor_margin);
        if lvl.is_none() && loud_at != self.loud_at {
            self.loud_at = loud_at;
            // Bounds only for a finite level clear of the -100 dBm0 floor of the levels.
            let (lo, hi) = if loud_at.is_finite() && f64::from(loud_at) > -100.0 + 2.0 * SURE_DB {
                (
                    power_bound(loud_at, -SURE_DB),
                    power_bound(loud_at, SURE_DB),
                )
            } else {
                (f64::NEG_INFINITY, f64::INFINITY)
            };
            (self.loud_lo, self.loud_hi) = (lo, hi);
        }
        let thr = self.cfg.voice_threshold_dbm0;
        let loud = match lvl {
            Some(l) => l > thr && l > floor_margin,
            None if p >= self.loud_hi => true,
            None if p <= self.loud_lo => false,
            None => {
                let l = power_to_dbm0(power);
                l > thr && l > floor_margin
            }
        };
        if loud == self.voice {
            self.run_start = None;
            return None;
        }
        let run_start = *self.run_start.get_or_insert(start);
        let need = if loud {
            self.cfg.voice_min_ms
        } else {
            self.cfg.silence_min_ms
        } as u64
            * tel_types::SAMPLES_PER_MS;
        let run = (start + VAD_BLOCK as u64).saturating_since(run_start);
        if run >= need.max(1) {
            self.voice = loud;
            self.run_start = None;
            Some(if loud {
                VadEvent::Voice(run_start)
            } else {
                VadEvent::Silence(run_start)
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detector's block decision as it was, with the level computed for every block.
    struct Reference {
        cfg: VadConfig,
        voice: bool,
        run: Option<u64>,
        win_min: f32,
        prev_min: f32,
        win_blocks: u32,
        floor: f32,
    }

    impl Reference {
        fn block(&mut self, power: f32, start: u64) -> (Option<(bool, u64)>, f32) {
            let lvl = power_to_dbm0(power);
            self.win_min = self.win_min.min(lvl);
            self.win_blocks += 1;
            if self.win_blocks == 50 {
                self.prev_min = self.win_min;
                self.win_min = f32::MAX;
                self.win_blocks = 0;
            }
            self.floor = self.prev_min.min(self.win_min);
            let loud =
                lvl > self.cfg.voice_threshold_dbm0 && lvl > self.floor + self.cfg.noise_margin_db;
            if loud == self.voice {
                self.run = None;
                return (None, self.floor);
            }
            let run_start = *self.run.get_or_insert(start);
            let need = u64::from(if loud {
                self.cfg.voice_min_ms
            } else {
                self.cfg.silence_min_ms
            }) * 8;
            if start + 80 - run_start >= need.max(1) {
                self.voice = loud;
                self.run = None;
                return (Some((loud, run_start)), self.floor);
            }
            (None, self.floor)
        }
    }

    #[test]
    fn levels_computed_only_where_needed_decide_as_levels_computed_always() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for cfg in [
            VadConfig::default(),
            VadConfig {
                noise_margin_db: -200.0,
                ..VadConfig::default()
            },
            VadConfig {
                voice_threshold_dbm0: -99.999,
                noise_margin_db: 0.0,
                voice_min_ms: 10,
                silence_min_ms: 10,
            },
        ] {
            let mut vad = VoiceDetector::new(cfg);
            let mut r = Reference {
                cfg,
                voice: false,
                run: None,
                win_min: f32::MAX,
                prev_min: f32::MAX,
                win_blocks: 0,
                floor: -100.0,
            };
            let mut level = -50.0f32;
            for k in 0..200_000u64 {
                // A random walk of levels, with jumps, exact zeros, and powers at and next
                // to the decision levels (threshold, floor + margin, the window minimum).
                let x = rand();
                level = match x % 16 {
                    0 => -120.0 + (x >> 8) as f32 % 130.0,
                    _ => (level + ((x >> 8) % 2001) as f32 / 1000.0 - 1.0).clamp(-115.0, 5.0),
                };
                let mut power = dbm0_to_power(level);
                match (x >> 40) % 32 {
                    0 => power = 0.0,
                    1 => power = dbm0_to_power(cfg.voice_threshold_dbm0),
                    2 => power = dbm0_to_power(r.floor + cfg.noise_margin_db),
                    3 if r.win_min < f32::MAX => power = dbm0_to_power(r.win_min),
                    _ => {}
                }
                if (x >> 50) % 4 == 0 {
                    // A few ulps either side.
                    let ulps = ((x >> 52) % 9) as i32 - 4;
                    power = f32::from_bits((power.to_bits() as i32 + ulps).max(0) as u32);
                }
                vad.block_start = SampleTime(k * 80);
                let got = vad.block(power).map(|e| match e {
                    VadEvent::Voice(t) => (true, t.0),
                    VadEvent::Silence(t) => (false, t.0),
                });
                let (want, floor) = r.block(power, k * 80);
                assert_eq!(got, want, "block {k}, power {power}");
                assert_eq!(
                    vad.noise_floor_dbm0().to_bits(),
                    floor.to_bits(),
                    "block {k}"
                );
                assert_eq!(vad.is_voice(), r.voice);
            }
        }
    }
}
