//! Tone descriptions (frequencies plus cadence) and a generator that plays them.
//!
//! A [`ToneSpec`] is a list of [`ToneSegment`]s, each up to two frequencies (or one carrier
//! amplitude-modulated by a low frequency) for a duration, played once or repeated. The
//! [`ToneGenerator`] renders a spec into 8 kHz linear samples without allocating.
//!
//! ```
//! use dsp::tone::ToneGenerator;
//! use dsp::zones::ToneZone;
//! use tel_types::Tone;
//! let zone = ToneZone::default_zone();
//! assert_eq!(zone.code, "cn");
//! let mut generator = ToneGenerator::new(zone.tone(Tone::Busy).unwrap(), -10.0);
//! let mut frame = [0i16; 160];
//! assert_eq!(generator.fill(&mut frame), 160); // busy tone repeats forever
//! assert!(frame.iter().any(|&s| s != 0));
//! ```

use crate::level::sine_peak_for_dbm0;

/// One step of a tone cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToneSegment {
    /// Frequencies in Hz; 0 means none. `[0, 0]` is silence.
    pub freqs: [u16; 2],
    /// If non-zero, `freqs[0]` is amplitude-modulated by this frequency (90 % depth) and
    /// `freqs[1]` is ignored, as in `400*25`.
    pub modulation_hz: u16,
    /// Duration in ms; 0 means "for ever" (a continuous tone).
    pub ms: u16,
}

impl ToneSegment {
    /// A single frequency for `ms`.
    pub const fn single(hz: u16, ms: u16) -> Self {
        Self {
            freqs: [hz, 0],
            modulation_hz: 0,
            ms,
        }
    }

    /// Two frequencies added, for `ms`.
    pub const fn dual(f1: u16, f2: u16, ms: u16) -> Self {
        Self {
            freqs: [f1, f2],
            modulation_hz: 0,
            ms,
        }
    }

    /// A carrier modulated by a low frequency, for `ms`.
    pub const fn modulated(carrier: u16, by: u16, ms: u16) -> Self {
        Self {
            freqs: [carrier, 0],
            modulation_hz: by,
            ms,
        }
    }

    /// Silence for `ms`.
    pub const fn silence(ms: u16) -> Self {
        Self {
            freqs: [0, 0],
            modulation_hz: 0,
            ms,
        }
    }

    /// Whether the segment is silent.
    pub const fn is_silence(&self) -> bool {
        self.freqs[0] == 0 && self.freqs[1] == 0
    }
}

/// A tone: segments played in order, once or repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToneSpec {
    /// The cadence.
    pub segments: &'static [ToneSegment],
    /// Whether the cadence repeats.
    pub repeat: bool,
}

impl ToneSpec {
    /// A repeating cadence.
    pub const fn repeating(segments: &'static [ToneSegment]) -> Self {
        Self {
            segments,
            repeat: true,
        }
    }

    /// A cadence played once.
    pub const fn once(segments: &'static [ToneSegment]) -> Self {
        Self {
            segments,
            repeat: false,
        }
    }

    /// Total length of one cycle in ms (0 if some segment is continuous).
    pub fn cycle_ms(&self) -> u32 {
        if self.segments.iter().any(|s| s.ms == 0) {
            return 0;
        }
        self.segments.iter().map(|s| s.ms as u32).sum()
    }

    /// The distinct non-zero frequencies of the tone (carriers only), up to 4.
    pub fn frequencies(&self) -> ([u16; 4], usize) {
        let mut out = [0u16; 4];
        let mut n = 0;
        for seg in self.segments {
            for &f in &seg.freqs {
                if f != 0 && !out[..n].contains(&f) && n < 4 {
                    out[n] = f;
                    n += 1;
                }
            }
        }
        (out, n)
    }
}

/// A sine oscillator by complex rotation (accurate and cheap; renormalised each block).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Osc {
    re: f64,
    im: f64,
    wr: f64,
    wi: f64,
}

impl Osc {
    pub(crate) fn new(hz: f64) -> Self {
        let w = 2.0 * core::f64::consts::PI * hz / 8000.0;
        Self {
            re: 1.0,
            im: 0.0,
            wr: w.cos(),
            wi: w.sin(),
        }
    }

    pub(crate) fn set_freq(&mut self, hz: f64) {
        let w = 2.0 * core::f64::consts::PI * hz / 8000.0;
        self.wr = w.cos();
        self.wi = w.sin();
    }

    /// The current sine value, then advances one sample.
    #[inline]
    pub(crate) fn next(&mut self) -> f64 {
        let v = self.im;
        let re = self.re * self.wr - self.im * self.wi;
        let im = self.re * self.wi + self.im * self.wr;
        self.re = re;
        self.im = im;
        v
    }

    pub(crate) fn renormalise(&mut self) {
        let m = (self.re * self.re + self.im * self.im).sqrt();
        if m > 0.0 {
            self.re /= m;
            self.im /= m;
        }
    }

    pub(crate) fn reset_phase(&mut self) {
        self.re = 1.0;
        self.im = 0.0;
    }
}

/// Plays a [`ToneSpec`] as 8 kHz linear samples.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    spec: ToneSpec,
    peak: f64,
    seg: usize,
    left: u64,
    osc: [Osc; 2],
    modosc: Osc,
    done: bool,
}

impl ToneGenerator {
    /// A generator for `spec` with each frequency at `level_dbm0`.
    pub fn new(spec: ToneSpec, level_dbm0: f32) -> Self {
        let mut g = Self {
            spec,
            peak: sine_peak_for_dbm0(level_dbm0) as f64,
            seg: 0,
            left: 0,
            osc: [Osc::new(0.0); 2],
            modosc: Osc::new(0.0),
            done: spec.segments.is_empty(),
        };
        g.enter(0);
        g
    }

    fn enter(&mut self, i: usize) {
        self.seg = i;
        if let Some(s) = self.spec.segments.get(i) {
            self.left = if s.ms == 0 {
                u64::MAX
            } else {
                s.ms as u64 * tel_types::SAMPLES_PER_MS
            };
            for (o, &f) in self.osc.iter_mut().zip(&s.freqs) {
                o.set_freq(f as f64);
                o.reset_phase();
            }
            self.modosc.set_freq(s.modulation_hz as f64);
            self.modosc.reset_phase();
        }
    }

    /// Whether a non-repeating tone has finished.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Starts the tone again from its first segment.
    pub fn restart(&mut self) {
        self.done = self.spec.segments.is_empty();
        self.enter(0);
    }

    /// Writes tone samples into `out` and returns how many were written: `out.len()` unless
    /// a non-repeating tone ended (the rest of `out` is then left untouched).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        self.render(out, false)
    }

    /// Like [`ToneGenerator::fill`] but adds the tone to what is in `out` (saturating).
    pub fn mix(&mut self, out: &mut [i16]) -> usize {
        self.render(out, true)
    }

    fn render(&mut self, out: &mut [i16], add: bool) -> usize {
        let mut i = 0;
        while i < out.len() && !self.done {
            let seg = self.spec.segments[self.seg];
            let n = ((out.len() - i) as u64).min(self.left) as usize;
            let chunk = &mut out[i..i + n];
            if seg.is_silence() {
                if !add {
                    chunk.fill(0);
                }
            } else if seg.modulation_hz != 0 {
                // 90 % AM depth, scaled so the peak stays at the configured level.
                let a = self.peak / 1.9;
                for s in chunk.iter_mut() {
                    let v = a * (1.0 + 0.9 * self.modosc.next()) * self.osc[0].next();
                    *s = put(*s, v, add);
                }
            } else {
                let two = seg.freqs[1] != 0;
                for s in chunk.iter_mut() {
                    let mut v = self.osc[0].next();
                    if two {
                        v += self.osc[1].next();
                    }
                    *s = put(*s, self.peak * v, add);
                }
            }
            for o in &mut self.osc {
                o.renormalise();
            }
            self.modosc.renormalise();
            i += n;
            if self.left != u64::MAX {
                self.left -= n as u64;
            }
            if self.left == 0 {
                let next = self.seg + 1;
                if next < self.spec.segments.len() {
                    self.enter(next);
                } else if self.spec.repeat {
                    self.enter(0);
                } else {
                    self.done = true;
                }
            }
        }
        i
    }
}

#[inline]
pub(crate) fn put(old: i16, v: f64, add: bool) -> i16 {
    let v = if add { v + old as f64 } else { v };
    v.round().clamp(-32768.0, 32767.0) as i16
}
