//! DTMF receiver built to ITU-T Q.24 limits, with talk-off protection.
//!
//! # How it works
//!
//! Audio is cut into 5 ms slots of 40 samples. A slot whose energy is below the sensitivity
//! floor is skipped at once (most of a call), and so is one whose spectral centroid (from
//! the first-difference energy) is outside the DTMF band. Otherwise the receiver correlates the slot with
//! the eight Q.23 frequencies (a single-bin DFT per frequency, as a few vectorisable dot
//! products) and keeps the complex results with an absolute phase reference. From these:
//!
//! - **Identification** uses a coherent 15 ms window (three slots): the strongest row and
//!   column frequency, each 6 dB above the others of its group.
//! - **Frequency** is measured, not just binned: the phase advance of each tone from slot
//!   to slot gives its actual frequency to within a few Hz, so offsets up to ±1.5 % are
//!   accepted and beyond ±3.5 % rejected (the decision is at ±2.5 %). Two frequencies in
//!   the ratio 2:1, 3:2, 4:3, 5:3 or 5:4 are harmonics of a voice: such a pair more than
//!   1.8 % off is not a key, and a nearer one must be clean (90 % of the power); a key
//!   pressed over such a sound (6 dB louder at once) is judged afresh.
//! - **Level, twist and purity** come from the per-slot powers: each tone at or above the
//!   sensitivity floor, twist within the configured limits, and the two tones carrying at
//!   least 75 % of the signal power (speech and music spread theirs).
//! - **Duration** is measured to a fraction of a slot: partial slots at the edges count by
//!   the fraction of the tone they hold, so tones of 40 ms or more are accepted and 20 ms or
//!   less rejected (decision at 30 ms), a pause of 25 ms or more ends a key (Q.24: 40 ms
//!   pauses separate keys), and drop-outs of 10 ms or less are bridged.
//!
//! Each key gives a [`DtmfEvent::Down`] when it is accepted (about 30–40 ms after it began)
//! and a [`DtmfEvent::Up`] when it ends, both carrying a [`DigitEvent`] with the start time,
//! per-tone levels and an SNR estimate.
//!
//! ```
//! use dsp::dtmf_gen::{DtmfGenerator, DtmfGenConfig};
//! use dsp::dtmf_rx::{DtmfReceiver, DtmfConfig, DtmfEvent};
//! use tel_types::{Digit, SampleTime};
//!
//! let mut generator = DtmfGenerator::new(DtmfGenConfig::default());
//! generator.push_str("7#");
//! let mut rx = DtmfReceiver::new(DtmfConfig::default());
//! let mut keys = String::new();
//! let mut now = SampleTime::ZERO;
//! for _ in 0..50 {
//!     let mut frame = [0i16; 160];
//!     generator.fill(&mut frame);
//!     rx.process(&frame, now);
//!     now += 160;
//!     while let Some(ev) = rx.poll_event() {
//!         if let DtmfEvent::Down(d) = ev {
//!             keys.push(d.digit.as_char());
//!         }
//!     }
//! }
//! assert_eq!(keys, "7#");
//! ```

use crate::level::{dbm0_to_power, power_to_dbm0};
use crate::trig;
use tel_types::{Digit, DigitEvent, SampleTime};

/// Samples per analysis slot (5 ms).
const M: usize = 40;
/// Slots of history kept.
const H: usize = 16;

const FREQS_HZ: [u32; 8] = [697, 770, 852, 941, 1209, 1336, 1477, 1633];

const DIGITS: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Hash, Digit::D],
];

const fn build_tables() -> [[f32; M]; 16] {
    let mut t = [[0f32; M]; 16];
    let mut b = 0;
    while b < 8 {
        let mut m = 0;
        while m < M {
            let w = core::f64::consts::TAU * FREQS_HZ[b] as f64 * m as f64 / 8000.0;
            t[2 * b][m] = trig::cos(w) as f32;
            t[2 * b + 1][m] = trig::sin(w) as f32;
            m += 1;
        }
        b += 1;
    }
    t
}

/// Transposed: for sample m, the 16 values cos(ω_b m), sin(ω_b m) side by side, so one
/// sample updates all 16 correlations with four 4-wide multiply-adds.
const fn build_tables_t() -> [[f32; 16]; M] {
    let t = build_tables();
    let mut o = [[0f32; 16]; M];
    let mut m = 0;
    while m < M {
        let mut r = 0;
        while r < 16 {
            o[m][r] = t[r][m];
            r += 1;
        }
        m += 1;
    }
    o
}

static TABLES_T: [[f32; 16]; M] = build_tables_t();

/// e^{-j 2π n / 200}: the phase of slot k for a frequency f is (f · k) mod 200 (40 samples
/// at 8 kHz is 1/200 s), so an integer index gives an exact, drift-free reference.
const fn build_rot() -> [[f32; 2]; 200] {
    let mut t = [[0f32; 2]; 200];
    let mut n = 0;
    while n < 200 {
        let w = core::f64::consts::TAU * n as f64 / 200.0;
        t[n][0] = trig::cos(w) as f32;
        t[n][1] = -trig::sin(w) as f32;
        n += 1;
    }
    t
}

static ROT: [[f32; 2]; 200] = build_rot();

/// Inverse Gram matrices of the basis `[cos ω_i, sin ω_i, cos ω_j, sin ω_j]` over one slot,
/// for every (row i, column j) pair: the exact least-squares fit of the two tones, free of
/// the leakage between them and of each tone's image.
const fn build_gram_inv() -> [[[f32; 4]; 4]; 16] {
    let mut out = [[[0f32; 4]; 4]; 16];
    let mut p = 0;
    while p < 16 {
        let fi = FREQS_HZ[p / 4] as f64;
        let fj = FREQS_HZ[4 + p % 4] as f64;
        let mut g = [[0f64; 4]; 4];
        let mut m = 0;
        while m < M {
            let wi = core::f64::consts::TAU * fi * m as f64 / 8000.0;
            let wj = core::f64::consts::TAU * fj * m as f64 / 8000.0;
            let v = [trig::cos(wi), trig::sin(wi), trig::cos(wj), trig::sin(wj)];
            let mut r = 0;
            while r < 4 {
                let mut c = 0;
                while c < 4 {
                    g[r][c] += v[r] * v[c];
                    c += 1;
                }
                r += 1;
            }
            m += 1;
        }
        let inv = invert4(g);
        let mut r = 0;
        while r < 4 {
            let mut c = 0;
            while c < 4 {
                out[p][r][c] = inv[r][c] as f32;
                c += 1;
            }
            r += 1;
        }
        p += 1;
    }
    out
}

/// Gauss-Jordan inverse of a symmetric positive-definite 4×4 matrix.
const fn invert4(mut a: [[f64; 4]; 4]) -> [[f64; 4]; 4] {
    let mut inv = [[0f64; 4]; 4];
    let mut i = 0;
    while i < 4 {
        inv[i][i] = 1.0;
        i += 1;
    }
    let mut col = 0;
    while col < 4 {
        let d = a[col][col];
        let mut c = 0;
        while c < 4 {
            a[col][c] /= d;
            inv[col][c] /= d;
            c += 1;
        }
        let mut r = 0;
        while r < 4 {
            if r != col {
                let f = a[r][col];
                let mut c = 0;
                while c < 4 {
                    a[r][c] -= f * a[col][c];
                    inv[r][c] -= f * inv[col][c];
                    c += 1;
                }
            }
            r += 1;
        }
        col += 1;
    }
    inv
}

static GRAM_INV: [[[f32; 4]; 4]; 16] = build_gram_inv();

/// Purity above which a key may use the full frequency tolerance.
const CLEAN_PURITY: f32 = 0.9;
/// Relative frequency error below which a less pure key is still accepted.
const ON_FREQUENCY: f32 = 0.018;

/// Frequency error beyond which a pair in a harmonic ratio is rejected: Q.23's sending
/// tolerance (Q.24 requires keys within 1.5 % to be accepted).
const HARMONIC_CHECK_FROM: f32 = 0.018;
/// How close (relative) the ratio of an off-frequency pair must be to a harmonic ratio for it
/// to be rejected. Voices glide and the measurement follows them only to about 1 %.
const HARMONIC_RATIO_OFF: f32 = 0.01;
/// How close the ratio of a pair within 1.5 % must be to a harmonic ratio for it to need
/// the purity of a clean key.
const HARMONIC_RATIO_ON: f32 = 0.004;

/// Whether `lo` and `hi` (Hz) are within `tol` (relative) of the ratio 2:1, 3:2, 4:3, 5:3
/// or 5:4: two harmonics of one voice near a DTMF pair. (The DTMF pairs themselves are at
/// least 2.7 % from these ratios.)
fn harmonic_pair(lo: f32, hi: f32, tol: f32) -> bool {
    [(2.0, 1.0), (3.0, 2.0), (4.0, 3.0), (5.0, 3.0), (5.0, 4.0)]
        .iter()
        .any(|&(p, q): &(f32, f32)| (hi * q - lo * p).abs() <= tol * hi * q)
}

/// Receiver settings. [`DtmfConfig::default`] is the ITU-T Q.24 preset used in China.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfConfig {
    /// Largest accepted twist with the low (row) tone louder, dB.
    pub max_low_louder_db: f32,
    /// Largest accepted twist with the high (column) tone louder, dB.
    pub max_high_louder_db: f32,
    /// Weakest accepted tone, dBm0 (each of the two).
    pub min_level_dbm0: f32,
    /// Frequency deviation at which a tone is rejected, percent (accepted inside).
    pub freq_tolerance_pct: f32,
    /// Tones at least this long (ms) are accepted.
    pub min_on_ms: f32,
    /// A gap at least this long (ms) ends a key; shorter drop-outs are bridged.
    pub min_gap_ms: f32,
    /// Share of the signal power the two tones must carry (0–1).
    pub min_purity: f32,
}

impl Default for DtmfConfig {
    fn default() -> Self {
        Self::q24()
    }
}

impl DtmfConfig {
    /// ITU-T Q.24 (and China's YD/T practice): twist 8 dB low louder, 4 dB high louder,
    /// −45 dBm0 floor, ±2.5 % frequency decision, 30 ms duration decision, 25 ms gap.
    pub const fn q24() -> Self {
        Self {
            max_low_louder_db: 8.0,
            max_high_louder_db: 4.0,
            min_level_dbm0: -45.0,
            freq_tolerance_pct: 2.5,
            min_on_ms: 30.0,
            min_gap_ms: 25.0,
            min_purity: 0.75,
        }
    }

    /// North American practice (TIA/EIA-464, Bellcore): 8 dB and 4 dB twist, −45 dBm0.
    pub const fn bellcore() -> Self {
        Self::q24()
    }

    /// Japan (NTT): tighter twist, 5 dB either way.
    pub const fn ntt() -> Self {
        let mut c = Self::q24();
        c.max_low_louder_db = 5.0;
        c.max_high_louder_db = 5.0;
        c
    }

    /// A lenient preset for poor lines: 10 dB twist either way.
    pub const fn lenient() -> Self {
        let mut c = Self::q24();
        c.max_low_louder_db = 10.0;
        c.max_high_louder_db = 10.0;
        c
    }

    /// The preset for a tone-zone country code (`cn`, `us`, `jp`, ...); Q.24 if unknown.
    pub fn for_country(code: &str) -> Self {
        match code.to_ascii_lowercase().as_str() {
            "us" | "tw" | "hk" => Self::bellcore(),
            "jp" => Self::ntt(),
            _ => Self::q24(),
        }
    }
}

/// What the receiver reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DtmfEvent {
    /// A key was accepted; `end` is the time of acceptance.
    Down(DigitEvent),
    /// The key ended; `end` is when the tone stopped.
    Up(DigitEvent),
}

impl DtmfEvent {
    /// The digit event either way.
    pub fn digit_event(&self) -> &DigitEvent {
        match self {
            Self::Down(d) | Self::Up(d) => d,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    t0: u64,
    silent: bool,
    /// Passed the pre-check (`x` and `p` are valid).
    tonal: bool,
    /// Energy (sum of squares).
    e: f32,
    /// Per frequency: index into `ROT` giving this slot's absolute phase reference.
    ph: [u8; 8],
    /// Raw correlations: Σx·cos, Σx·sin per frequency.
    y: [f32; 16],
}

impl Slot {
    /// The correlation at frequency `b` with the absolute phase reference.
    #[inline]
    fn x(&self, b: usize) -> [f32; 2] {
        let (re, im) = (self.y[2 * b], -self.y[2 * b + 1]);
        let rot = ROT[self.ph[b] as usize];
        [re * rot[0] - im * rot[1], re * rot[1] + im * rot[0]]
    }

    /// |correlation|² at frequency `b`.
    #[inline]
    fn p(&self, b: usize) -> f32 {
        self.y[2 * b] * self.y[2 * b] + self.y[2 * b + 1] * self.y[2 * b + 1]
    }
}

/// Running statistics of the key being tracked.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: u32,
    p_lo: f32,
    p_hi: f32,
    e: f32,
    fitted: f32,
    q_lo: [f32; 2],
    q_hi: [f32; 2],
    prev_full: bool,
}

/// Outcome of checking a tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A key.
    Key,
    /// Not yet: level, twist or purity out of range (noise or speech); look again soon.
    Soon,
    /// Off frequency: look again only on a longer stretch.
    Later,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    /// Tone seen, not yet long enough or not yet verified.
    Pending,
    /// Key accepted.
    Active,
}

/// The DTMF receiver for one channel. It holds everything inline (no heap); every call works
/// in place.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    cfg: DtmfConfig,
    // Derived thresholds (linear power units: mean square).
    gate_e: f32,
    screen_min_p: f32,
    min_p: f32,
    twist_lo_max: f32,
    twist_hi_max: f32,
    screen_twist_lo: f32,
    screen_twist_hi: f32,
    min_on: f32,
    min_gap: f32,
    // Input framing.
    pend: [i16; M],
    pend_n: usize,
    t_slot: u64,
    /// Per frequency: (f · slot index) mod 200, the index into `ROT`.
    ph: [u16; 8],
    /// The sample before the next slot (for the first difference).
    last_sample: f32,
    started: bool,
    // History ring.
    hist: [Slot; H],
    hn: usize,
    // Key tracking.
    phase: Phase,
    digit: Digit,
    bins: (usize, usize),
    pref: f32,
    start: f32,
    dur: f32,
    gap: f32,
    last_end: f32,
    acc: Acc,
    /// Verifications failed so far for this tone.
    retries: u8,
    /// Full slots the next verification needs.
    need: u32,
    /// Verification failed for good: wait for the tone to end.
    gave_up: bool,
    /// Digits given up on since the line was last quiet (bit per digit index).
    rejected: u16,
    // Output queue.
    events: [Option<DtmfEvent>; 8],
    ev_head: usize,
    ev_len: usize,
    lost: u32,
}

const SCALE: f32 = 2.0 / (M as f32 * M as f32);

impl DtmfReceiver {
    /// A receiver with `cfg`.
    pub fn new(cfg: DtmfConfig) -> Self {
        let db = |x: f32| 10f32.powf(x / 10.0);
        let mut r = Self {
            cfg,
            gate_e: dbm0_to_power(cfg.min_level_dbm0 - 3.0) * M as f32,
            screen_min_p: dbm0_to_power(cfg.min_level_dbm0 - 4.0),
            min_p: dbm0_to_power(cfg.min_level_dbm0),
            twist_lo_max: db(cfg.max_low_louder_db + 1.0),
            twist_hi_max: db(cfg.max_high_louder_db + 1.0),
            screen_twist_lo: db(cfg.max_low_louder_db + 4.0),
            screen_twist_hi: db(cfg.max_high_louder_db + 4.0),
            min_on: cfg.min_on_ms * 8.0,
            min_gap: cfg.min_gap_ms * 8.0,
            pend: [0; M],
            pend_n: 0,
            t_slot: 0,
            ph: [0; 8],
            last_sample: 0.0,
            started: false,
            hist: [Slot::default(); H],
            hn: 0,
            phase: Phase::Idle,
            digit: Digit::D0,
            bins: (0, 4),
            pref: 1.0,
            start: 0.0,
            dur: 0.0,
            gap: 0.0,
            last_end: 0.0,
            acc: Acc::default(),
            retries: 0,
            need: 3,
            gave_up: false,
            rejected: 0,
            events: [None; 8],
            ev_head: 0,
            ev_len: 0,
            lost: 0,
        };
        r.reset_at(SampleTime::ZERO);
        r.started = false;
        r
    }

    /// The configuration.
    pub fn config(&self) -> &DtmfConfig {
        &self.cfg
    }

    /// The key being held (accepted and not yet released), if any.
    pub fn current_digit(&self) -> Option<Digit> {
        (self.phase == Phase::Active).then_some(self.digit)
    }

    /// Events dropped because [`DtmfReceiver::poll_event`] was not called often enough.
    pub fn events_lost(&self) -> u32 {
        self.lost
    }

    /// Forgets all state; the next sample is expected at `now`.
    pub fn reset_at(&mut self, now: SampleTime) {
        self.pend_n = 0;
        self.t_slot = now.0;
        self.ph = [0; 8];
        self.hn = 0;
        self.hist = [Slot::default(); H];
        for s in &mut self.hist {
            s.silent = true;
        }
        self.phase = Phase::Idle;
        self.started = true;
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        if self.ev_len == 0 {
            return None;
        }
        let e = self.events[self.ev_head].take();
        self.ev_head = (self.ev_head + 1) % self.events.len();
        self.ev_len -= 1;
        e
    }

    fn emit(&mut self, e: DtmfEvent) {
        if self.ev_len == self.events.len() {
            self.lost += 1;
            return;
        }
        let i = (self.ev_head + self.ev_len) % self.events.len();
        self.events[i] = Some(e);
        self.ev_len += 1;
    }

    /// Feeds linear samples; `now` is the time of `samples[0]`. Audio should be contiguous;
    /// if `now` is not where the previous call ended the receiver starts afresh (a key in
    /// progress is ended). Events are queued for [`DtmfReceiver::poll_event`] (up to 8;
    /// poll after each call of a frame or so).
    pub fn process(&mut self, samples: &[i16], now: SampleTime) {
        let expected = self.t_slot + self.pend_n as u64;
        if !self.started || now.0 != expected {
            self.finish_key();
            self.reset_at(now);
        }
        let mut s = samples;
        if self.pend_n > 0 {
            let take = (M - self.pend_n).min(s.len());
            self.pend[self.pend_n..self.pend_n + take].copy_from_slice(&s[..take]);
            self.pend_n += take;
            s = &s[take..];
            if self.pend_n == M {
                let buf = self.pend;
                self.slot(&buf);
                self.pend_n = 0;
            }
        }
        let mut chunks = s.chunks_exact(M);
        for c in &mut chunks {
            self.slot(c);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.pend[..rest.len()].copy_from_slice(rest);
            self.pend_n = rest.len();
        }
    }

    /// Ends any key in progress (e.g. at the end of a recording), emitting its `Up`.
    pub fn finish_key(&mut self) {
        if self.phase == Phase::Active {
            self.emit_up();
        }
        self.phase = Phase::Idle;
    }

    #[inline]
    fn slot(&mut self, x: &[i16]) {
        // Energy, and energy of the first difference: their ratio is 2(1 - cos ω) for a
        // tone at ω, 0.29-1.43 across the DTMF band (about 0.33-1.3 for any valid pair
        // with noise), about 2 for white noise and mostly below 0.2 for voiced speech.
        let mut sq = [0f32; 8];
        for c in x.chunks_exact(8) {
            for i in 0..8 {
                let v = c[i] as f32;
                sq[i] += v * v;
            }
        }
        let e = sq.iter().sum::<f32>();
        let prev = self.last_sample;
        self.last_sample = x[M - 1] as f32;
        let t0 = self.t_slot;
        self.t_slot += M as u64;
        let ph = self.ph;
        for (p, f) in self.ph.iter_mut().zip(FREQS_HZ) {
            *p += (f % 200) as u16;
            if *p >= 200 {
                *p -= 200;
            }
        }
        let idx = self.hn % H;
        self.hn += 1;
        let slot = &mut self.hist[idx];
        slot.t0 = t0;
        slot.e = e;
        if e < self.gate_e {
            self.rejected = 0;
            slot.silent = true;
            slot.tonal = false;
            slot.y = [0.0; 16];
            if self.phase != Phase::Idle {
                self.track(0.0, 0.0, t0);
            }
            return;
        }
        slot.silent = false;
        for b in 0..8 {
            slot.ph[b] = ph[b] as u8;
        }
        let mut dq = [0f32; 8];
        for c in x.chunks_exact(8) {
            for i in 1..8 {
                let d = c[i] as f32 - c[i - 1] as f32;
                dq[i] += d * d;
            }
        }
        let mut dr = dq.iter().sum::<f32>();
        let mut p = prev;
        for c in x.chunks_exact(8) {
            let d = c[0] as f32 - p;
            dr += d * d;
            p = c[7] as f32;
        }
        if self.phase == Phase::Idle && (dr < 0.22 * e || dr > 1.7 * e) {
            // Spectrally impossible for a key: skip the correlations.
            slot.tonal = false;
            slot.y = [0.0; 16];
            return;
        }
        let y = correlate(x);
        slot.y = y;
        // Cheap pre-check while idle: unless the strongest row and column frequencies hold
        // a fair share of the energy, this slot cannot be part of a key (noise, speech).
        let mut p = [0f32; 8];
        for b in 0..8 {
            p[b] = y[2 * b] * y[2 * b] + y[2 * b + 1] * y[2 * b + 1];
        }
        let lo = p[0].max(p[1]).max(p[2].max(p[3]));
        let hi = p[4].max(p[5]).max(p[6].max(p[7]));
        slot.tonal = (lo + hi) * SCALE >= 0.3 * e / M as f32;
        if !slot.tonal && self.phase == Phase::Idle {
            return;
        }
        self.analyse(t0);
    }

    fn h(&self, back: usize) -> &Slot {
        &self.hist[(self.hn + H * 4 - 1 - back) % H]
    }

    /// The coherent three-slot screen: a candidate (row, col) or none.
    fn screen(&self) -> Option<(usize, usize)> {
        if self.hn < 3 || !self.h(0).tonal || !self.h(1).tonal || !self.h(2).tonal {
            return None;
        }
        let (a, b, c) = (self.h(0), self.h(1), self.h(2));
        let mut w = [0f32; 8];
        for f in 0..8 {
            let (xa, xb, xc) = (a.x(f), b.x(f), c.x(f));
            let re = xa[0] + xb[0] + xc[0];
            let im = xa[1] + xb[1] + xc[1];
            w[f] = re * re + im * im;
        }
        let (i, si) = best2(&w[..4]);
        let (j, sj) = best2(&w[4..]);
        let j = j + 4;
        if si > 0.25 * w[i] || sj > 0.25 * w[j] {
            return None;
        }
        let pi = (a.p(i) + b.p(i) + c.p(i)) * SCALE / 3.0;
        let pj = (a.p(j) + b.p(j) + c.p(j)) * SCALE / 3.0;
        let e = (a.e + b.e + c.e) / (3 * M) as f32;
        if pi < self.screen_min_p || pj < self.screen_min_p {
            return None;
        }
        if pi > pj * self.screen_twist_lo || pj > pi * self.screen_twist_hi {
            return None;
        }
        if pi + pj < 0.6 * e {
            return None;
        }
        Some((i, j))
    }

    fn analyse(&mut self, t0: u64) {
        let cand = self.screen();
        match self.phase {
            Phase::Idle => {
                if let Some(c) = cand {
                    self.begin(c);
                }
            }
            Phase::Pending | Phase::Active => {
                if let Some(c) = cand {
                    if c != self.bins {
                        // A different key without a pause: end this one, start that one.
                        if self.phase == Phase::Active {
                            self.emit_up();
                        }
                        self.begin(c);
                        return;
                    }
                }
                let s = self.h(0);
                let (a, b) = fit(s, self.bins.0, self.bins.1);
                if self.gave_up && self.phase == Phase::Pending && a + b >= 4.0 * self.pref {
                    // The pair given up on (a voice's harmonics near it) is suddenly 6 dB
                    // louder: a key pressed over it. Judge that afresh.
                    self.rejected &= !(1 << self.digit.index());
                    self.begin(self.bins);
                    return;
                }
                self.track(a + b, s.e / M as f32, t0);
            }
        }
    }

    /// Starts tracking the key on bins `c`, looking back for where its tone began.
    fn begin(&mut self, c: (usize, usize)) {
        // After a key or tone has ended, its slots are not part of the next one (a key
        // pressed over a vowel must not lend the vowel its frequencies afterwards).
        let after = if self.phase == Phase::Idle {
            self.last_end
        } else {
            0.0
        };
        self.bins = c;
        self.retries = 0;
        self.need = 3;
        // A pair coming back while the sound never stopped (a chord whose analysis flips
        // between neighbouring pairs) is a tone already rejected.
        self.digit = DIGITS[c.0][c.1 - 4];
        self.gave_up = self.rejected & (1 << self.digit.index()) != 0;
        self.phase = Phase::Pending;
        let pair = |s: &Slot| {
            let (a, b) = fit(s, c.0, c.1);
            a + b
        };
        self.pref = pair(self.h(0)).max(pair(self.h(1))).max(pair(self.h(2)));
        self.acc = Acc::default();
        // Walk back from the newest slot over the tone: full slots count whole, the first
        // partial one (the leading edge) by the fraction of the tone it holds.
        let mut dur = 0.0;
        let mut b = 0;
        while b < H.min(self.hn) && b < 10 {
            let s = self.h(b);
            if s.silent || (s.t0 as f32) < after {
                break;
            }
            let f = (pair(s) / self.pref).sqrt();
            if f < 0.1 {
                break;
            }
            dur += f.min(1.0) * M as f32;
            if f < 0.85 && b >= 1 {
                break;
            }
            b += 1;
        }
        let end = self.h(0).t0 as f32 + M as f32;
        self.start = end - dur;
        self.dur = dur;
        self.gap = 0.0;
        self.last_end = end;
        // Statistics from the full slots seen so far (oldest first).
        for back in (0..b.min(H - 1)).rev() {
            let (s, prev) = (*self.h(back), *self.h(back + 1));
            let p = pair(&s);
            let full = p >= 0.72 * self.pref && p >= 0.6 * s.e / M as f32;
            self.accumulate(&s, &prev, full);
        }
    }

    fn accumulate(&mut self, s: &Slot, prev: &Slot, full: bool) {
        let (i, j) = self.bins;
        if !full {
            self.acc.prev_full = false;
            return;
        }
        let (pl, ph, fitted) = fit_energy(s, i, j);
        let a = &mut self.acc;
        a.n += 1;
        a.p_lo += pl;
        a.p_hi += ph;
        a.e += s.e;
        a.fitted += fitted.min(s.e);
        if a.prev_full {
            for (q, b) in [(&mut a.q_lo, i), (&mut a.q_hi, j)] {
                // x_k · conj(x_{k-1})
                let (x, xp) = (s.x(b), prev.x(b));
                q[0] += x[0] * xp[0] + x[1] * xp[1];
                q[1] += x[1] * xp[0] - x[0] * xp[1];
            }
        }
        a.prev_full = true;
    }

    fn track(&mut self, pair: f32, e: f32, t0: u64) {
        let f = if self.pref > 0.0 {
            (pair / self.pref).sqrt()
        } else {
            0.0
        };
        let present = f >= 0.5 && pair >= 0.3 * e;
        let full = f >= 0.8 && pair >= 0.6 * e;
        let (s, prev) = (*self.h(0), *self.h(1));
        if present {
            if f >= 0.7 {
                // Follow the tone's level (the first estimate may include a speech peak).
                self.pref = 0.8 * self.pref + 0.2 * pair;
            }
            if self.gap > 0.0 && self.phase == Phase::Active {
                // Bridged drop-out.
                self.acc.prev_full = false;
            }
            self.gap = 0.0;
            self.dur += f.min(1.0) * M as f32;
            self.last_end = t0 as f32 + f.min(1.0) * M as f32;
            if f < 0.9 {
                self.last_end = t0 as f32 + f * M as f32;
            }
            self.accumulate(&s, &prev, full && !s.silent);
        } else {
            if self.gap == 0.0 && f >= 0.1 {
                self.last_end = t0 as f32 + f.min(1.0) * M as f32;
                self.dur += f.min(1.0) * M as f32;
            }
            self.gap += (1.0 - f.min(1.0)) * M as f32;
            self.acc.prev_full = false;
        }
        match self.phase {
            Phase::Pending => {
                if self.gap >= 2.0 * M as f32 {
                    self.phase = Phase::Idle;
                } else if present
                    && self.dur >= self.min_on
                    && self.acc.n >= self.need
                    && !self.gave_up
                {
                    let verdict = self.verify();
                    if verdict == Verdict::Key {
                        self.phase = Phase::Active;
                        let ev = self.event(t0 as f32 + M as f32);
                        self.emit(DtmfEvent::Down(ev));
                    } else if self.retries < 3 && !(verdict == Verdict::Later && self.retries > 0) {
                        // Not (yet) a clean key, e.g. speech over its start or noise on a
                        // weak tone: judge again on fresh slots while the tone lasts. A
                        // tone that was off frequency must then prove itself over 30 ms
                        // (instruments wander into range for a moment).
                        let (q_lo, q_hi) = (self.acc.q_lo, self.acc.q_hi);
                        self.acc = Acc::default();
                        self.retries += 1;
                        if verdict == Verdict::Later {
                            // Keep measuring the frequency over the whole tone, so a
                            // note's vibrato averages out instead of passing once.
                            self.acc.q_lo = q_lo;
                            self.acc.q_hi = q_hi;
                            self.need = 6;
                        }
                    } else {
                        self.gave_up = true;
                        self.rejected |= 1 << self.digit.index();
                    }
                }
            }
            Phase::Active => {
                if self.gap >= self.min_gap {
                    self.emit_up();
                    self.phase = Phase::Idle;
                }
            }
            Phase::Idle => {}
        }
    }

    /// The strict checks on everything accumulated for the key so far.
    fn verify(&self) -> Verdict {
        let a = &self.acc;
        if a.n < 3 {
            return Verdict::Soon;
        }
        let n = a.n as f32;
        let (pl, ph) = (a.p_lo / n, a.p_hi / n);
        // Level and twist estimates of a weak tone wander with noise: worth a new look.
        if pl < self.min_p || ph < self.min_p {
            return Verdict::Soon;
        }
        if pl > ph * self.twist_lo_max || ph > pl * self.twist_hi_max {
            return Verdict::Soon;
        }
        if a.fitted < self.cfg.min_purity * a.e {
            // Speech over the start of a key does this.
            return Verdict::Soon;
        }
        let tol = self.cfg.freq_tolerance_pct / 100.0;
        let mut worst = 0f32;
        let mut hz = [0f32; 2];
        for ((q, b), hz) in [(a.q_lo, self.bins.0), (a.q_hi, self.bins.1)]
            .into_iter()
            .zip(&mut hz)
        {
            if q[0] == 0.0 && q[1] == 0.0 {
                return Verdict::Soon;
            }
            // Phase advance per slot -> frequency offset (Hz) = angle · 200 / 2π.
            let off = q[1].atan2(q[0]) * 200.0 / core::f32::consts::TAU;
            let rel = (off / FREQS_HZ[b] as f32).abs();
            if rel > tol {
                return Verdict::Later;
            }
            worst = worst.max(rel);
            *hz = FREQS_HZ[b] as f32 + off;
        }
        // Two harmonics of a high voice (fundamental about 190-470 Hz: women, children,
        // singing) can be the strongest partials of a vowel and land near a DTMF pair: the
        // 2nd and 3rd of a sung 395 Hz "ou" at 790 and 1185 Hz read as a '4', the 3rd and
        // 6th of a 227 Hz voice at 682 and 1364 Hz as a '2', the 4th and 5th of a 240 Hz
        // one at 955 and 1195 Hz as a '*'. Their frequencies stand in a ratio of small whole
        // numbers (the DTMF pairs are 2.7 % or more from those ratios; a generator's clock
        // error moves both tones alike and keeps the ratio). Such a pair off by more than
        // Q.23's 1.8 % is not a key; nearer it has to be clean.
        if worst > HARMONIC_CHECK_FROM && harmonic_pair(hz[0], hz[1], HARMONIC_RATIO_OFF) {
            return Verdict::Later;
        }
        let harmonic = harmonic_pair(hz[0], hz[1], HARMONIC_RATIO_ON);
        // Instruments playing two notes near a DTMF pair (equal-tempered notes sit within
        // 1.7-2.5 % of several DTMF frequencies) give moderately pure tones that are
        // slightly off. A key must be either clean (noise or speech at least ~9.5 dB
        // down) or on frequency (within 1.8 %, Q.24 allows 1.5 %) and not harmonic.
        let clean = a.fitted >= CLEAN_PURITY * a.e;
        if !clean && (worst > ON_FREQUENCY || harmonic) {
            return Verdict::Later;
        }
        Verdict::Key
    }

    fn event(&self, end: f32) -> DigitEvent {
        let a = &self.acc;
        let n = a.n.max(1) as f32;
        let (pl, ph) = (a.p_lo / n, a.p_hi / n);
        let noise = (a.e - a.fitted).max(a.fitted * 1e-6);
        DigitEvent {
            digit: self.digit,
            start: SampleTime(self.start.max(0.0).round() as u64),
            end: SampleTime(end.max(0.0).round() as u64),
            low_dbm0: power_to_dbm0(pl),
            high_dbm0: power_to_dbm0(ph),
            snr_db: (10.0 * (a.fitted / noise).log10()).min(60.0),
        }
    }

    fn emit_up(&mut self) {
        let ev = self.event(self.last_end);
        self.emit(DtmfEvent::Up(ev));
    }
}

/// Least-squares fit of tones `i` (row) and `j` (column) in one slot: mean square of each.
#[inline]
fn fit(s: &Slot, i: usize, j: usize) -> (f32, f32) {
    let (a, b, _) = fit_energy(s, i, j);
    (a, b)
}

/// As [`fit`], plus the energy of the fitted two-tone waveform over the slot (so the slot's
/// energy minus it is exactly what the two tones do not explain).
#[inline]
fn fit_energy(s: &Slot, i: usize, j: usize) -> (f32, f32, f32) {
    let g = &GRAM_INV[i * 4 + (j - 4)];
    let v = [s.y[2 * i], s.y[2 * i + 1], s.y[2 * j], s.y[2 * j + 1]];
    let mut th = [0f32; 4];
    for (t, row) in th.iter_mut().zip(g) {
        *t = row[0] * v[0] + row[1] * v[1] + row[2] * v[2] + row[3] * v[3];
    }
    (
        (th[0] * th[0] + th[1] * th[1]) / 2.0,
        (th[2] * th[2] + th[3] * th[3]) / 2.0,
        th[0] * v[0] + th[1] * v[1] + th[2] * v[2] + th[3] * v[3],
    )
}

/// Index of the largest value and the second-largest value.
#[inline]
fn best2(v: &[f32]) -> (usize, f32) {
    let mut bi = 0;
    for i in 1..v.len() {
        if v[i] > v[bi] {
            bi = i;
        }
    }
    let mut second = 0f32;
    for (i, &x) in v.iter().enumerate() {
        if i != bi && x > second {
            second = x;
        }
    }
    (bi, second)
}

/// The 16 correlations Σ x·cos(ω_b m), Σ x·sin(ω_b m) of one slot.
#[inline]
fn correlate(x: &[i16]) -> [f32; 16] {
    let mut a = [0f32; 16];
    let mut b = [0f32; 16];
    for (pair, t) in x.chunks_exact(2).zip(TABLES_T.chunks_exact(2)) {
        let (v0, v1) = (pair[0] as f32, pair[1] as f32);
        for r in 0..16 {
            a[r] += v0 * t[0][r];
            b[r] += v1 * t[1][r];
        }
    }
    for r in 0..16 {
        a[r] += b[r];
    }
    a
}
