//! DTMF generation: a queue of key presses rendered to 8 kHz linear audio.
//!
//! ```
//! use dsp::dtmf_gen::{DtmfGenerator, DtmfGenConfig};
//! let mut generator = DtmfGenerator::new(DtmfGenConfig::default());
//! assert_eq!(generator.push_str("123#"), 4);
//! let mut audio = vec![0i16; 8000];
//! let n = generator.fill(&mut audio);
//! assert_eq!(n, 6400); // the rest of `audio` is silence
//! assert!(generator.is_idle()); // 4 × (100 + 100) ms fits in one second
//! ```

use crate::level::sine_peak_for_dbm0;
use crate::tone::{Osc, put};
use tel_types::{Digit, SAMPLES_PER_MS};

/// Timing and levels of generated DTMF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfGenConfig {
    /// Tone duration per key, ms.
    pub on_ms: u32,
    /// Silence after each key, ms.
    pub off_ms: u32,
    /// Low-group (row) tone level, dBm0.
    pub low_dbm0: f32,
    /// High-group (column) tone level, dBm0.
    pub high_dbm0: f32,
}

impl Default for DtmfGenConfig {
    /// 100 ms on, 100 ms off, low tone −8 dBm0 and high tone −6 dBm0 (2 dB pre-emphasis, as
    /// telephones send).
    fn default() -> Self {
        Self {
            on_ms: 100,
            off_ms: 100,
            low_dbm0: -8.0,
            high_dbm0: -6.0,
        }
    }
}

/// One queued tone burst, fully specified (used for key presses and for test signals with
/// frequency offsets, twist and exact durations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfBurst {
    /// Low tone frequency, Hz.
    pub low_hz: f32,
    /// High tone frequency, Hz.
    pub high_hz: f32,
    /// Low tone level, dBm0.
    pub low_dbm0: f32,
    /// High tone level, dBm0.
    pub high_dbm0: f32,
    /// Tone duration in samples.
    pub on_samples: u32,
    /// Silence after the tone, in samples.
    pub off_samples: u32,
}

impl DtmfBurst {
    /// The burst for `digit` with the nominal Q.23 frequencies and `cfg`'s levels and timing.
    pub fn for_digit(digit: Digit, cfg: &DtmfGenConfig) -> Self {
        let (lo, hi) = digit.frequencies_hz();
        Self {
            low_hz: lo as f32,
            high_hz: hi as f32,
            low_dbm0: cfg.low_dbm0,
            high_dbm0: cfg.high_dbm0,
            on_samples: cfg.on_ms * SAMPLES_PER_MS as u32,
            off_samples: cfg.off_ms * SAMPLES_PER_MS as u32,
        }
    }
}

/// Capacity of the generator's key queue.
pub const DTMF_QUEUE: usize = 64;

/// Renders queued DTMF bursts; never allocates after construction.
#[derive(Debug, Clone)]
pub struct DtmfGenerator {
    cfg: DtmfGenConfig,
    queue: [Option<DtmfBurst>; DTMF_QUEUE],
    head: usize,
    len: usize,
    cur: Option<DtmfBurst>,
    pos: u32,
    lo: Osc,
    hi: Osc,
    lo_amp: f64,
    hi_amp: f64,
}

impl DtmfGenerator {
    /// An idle generator using `cfg` for keys pushed with [`DtmfGenerator::push`].
    pub fn new(cfg: DtmfGenConfig) -> Self {
        Self {
            cfg,
            queue: [None; DTMF_QUEUE],
            head: 0,
            len: 0,
            cur: None,
            pos: 0,
            lo: Osc::new(0.0),
            hi: Osc::new(0.0),
            lo_amp: 0.0,
            hi_amp: 0.0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> DtmfGenConfig {
        self.cfg
    }

    /// Changes timing and levels for keys pushed from now on.
    pub fn set_config(&mut self, cfg: DtmfGenConfig) {
        self.cfg = cfg;
    }

    /// Queues one key; `false` if the queue is full.
    pub fn push(&mut self, digit: Digit) -> bool {
        self.push_burst(DtmfBurst::for_digit(digit, &self.cfg))
    }

    /// Queues a fully specified burst; `false` if the queue is full.
    pub fn push_burst(&mut self, burst: DtmfBurst) -> bool {
        if self.len == DTMF_QUEUE {
            return false;
        }
        self.queue[(self.head + self.len) % DTMF_QUEUE] = Some(burst);
        self.len += 1;
        true
    }

    /// Queues the keys in `keys` (other characters are skipped); returns how many were queued.
    pub fn push_str(&mut self, keys: &str) -> usize {
        keys.chars()
            .filter_map(Digit::from_char)
            .take_while(|&d| self.push(d))
            .count()
    }

    /// Whether nothing is playing or queued.
    pub fn is_idle(&self) -> bool {
        self.cur.is_none() && self.len == 0
    }

    /// Drops everything queued and stops the current key.
    pub fn clear(&mut self) {
        self.len = 0;
        self.cur = None;
    }

    fn next_burst(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        let b = self.queue[self.head].take();
        self.head = (self.head + 1) % DTMF_QUEUE;
        self.len -= 1;
        if let Some(b) = b {
            self.lo = Osc::new(b.low_hz as f64);
            self.hi = Osc::new(b.high_hz as f64);
            self.lo_amp = sine_peak_for_dbm0(b.low_dbm0) as f64;
            self.hi_amp = sine_peak_for_dbm0(b.high_dbm0) as f64;
            self.cur = Some(b);
            self.pos = 0;
        }
        true
    }

    /// Writes DTMF (and the silences between keys) into `out`, zero once idle. Returns the
    /// number of samples that belong to queued keys (the rest of `out` is silence).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        self.render(out, false)
    }

    /// Adds DTMF to what is in `out` (saturating); returns as [`DtmfGenerator::fill`].
    pub fn mix(&mut self, out: &mut [i16]) -> usize {
        self.render(out, true)
    }

    fn render(&mut self, out: &mut [i16], add: bool) -> usize {
        let mut i = 0;
        let mut active = 0;
        while i < out.len() {
            if self.cur.is_none() && !self.next_burst() {
                break;
            }
            let Some(b) = self.cur else { break };
            let total = b.on_samples + b.off_samples;
            if self.pos < b.on_samples {
                let n = ((b.on_samples - self.pos) as usize).min(out.len() - i);
                for s in &mut out[i..i + n] {
                    let v = self.lo_amp * self.lo.next() + self.hi_amp * self.hi.next();
                    *s = put(*s, v, add);
                }
                self.lo.renormalise();
                self.hi.renormalise();
                self.pos += n as u32;
                i += n;
                active += n;
            } else {
                let n = ((total - self.pos) as usize).min(out.len() - i);
                if !add {
                    out[i..i + n].fill(0);
                }
                self.pos += n as u32;
                i += n;
                active += n;
            }
            if self.pos >= total {
                self.cur = None;
            }
        }
        if !add {
            out[i..].fill(0);
        }
        active
    }
}
