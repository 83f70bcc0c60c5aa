//! Call-progress detection: dial tone, busy, ringback, congestion, special information tone,
//! silence and voice, for a tone zone, with cadence checks.
//!
//! Audio is analysed in 10 ms blocks. A block is *tone* when the zone's progress-tone
//! frequencies (or one SIT frequency) carry most of its energy, *off* when it is quiet, and
//! *voice* otherwise. Runs of equal blocks form segments; the last segments are matched
//! against each cadence of the zone (any rotation of its on/off pattern) with a tolerance of
//! 10 % plus 50 ms. So China's busy tone (450 Hz, 350/350 ms) is reported at the end of its
//! second burst, about 1.05 s after it starts; ringback (1 s / 4 s) once a burst and a long
//! enough pause have been seen; dial tone once a tone has lasted longer than any cadenced
//! burst of the zone. Frequencies within ±2 % and more are accepted (the analysis bin is
//! ±50 Hz wide); speech and music rarely give a pure tone with silent gaps on the beat, and
//! voice in a gap breaks the cadence.
//!
//! ```
//! use dsp::progress::{CallProgressDetector, CallProgress};
//! use dsp::tone::ToneGenerator;
//! use dsp::zones::ToneZone;
//! use tel_types::{SampleTime, Tone};
//!
//! let cn = ToneZone::by_code("cn").unwrap();
//! let mut busy = ToneGenerator::new(cn.tone(Tone::Busy).unwrap(), -20.0);
//! let mut det = CallProgressDetector::new(cn);
//! let mut now = SampleTime::ZERO;
//! let mut heard = None;
//! while now.as_millis() < 1500 && heard.is_none() {
//!     let mut frame = [0i16; 160];
//!     busy.fill(&mut frame);
//!     heard = det.process(&frame, now);
//!     now += 160;
//! }
//! assert_eq!(heard.unwrap().tone, CallProgress::Busy);
//! ```

use crate::level::{dbm0_to_power, power_to_dbm0};
use crate::tone::ToneSpec;
use crate::trig;
use crate::zones::ToneZone;
use tel_types::{ProgressTone, SampleTime};

/// Block length: 10 ms.
const B: usize = 80;
/// Segments remembered.
const SEGS: usize = 8;
/// Frequencies analysed at most (zone tones plus the three SIT tones).
const MAXF: usize = 8;
const SIT_HZ: [u16; 3] = [950, 1400, 1800];

/// Every frequency a zone's progress tones use, plus the SIT tones (a test checks the
/// zones against it). Tables for all of them are built at compile time and shared by every
/// detector, so 5 000 channels do not carry 5 000 copies.
const ALL_HZ: [u16; 12] = [350, 400, 413, 425, 438, 440, 450, 480, 620, 950, 1400, 1800];

const fn build_tables(sine: bool) -> [[f32; B]; 12] {
    let mut t = [[0f32; B]; 12];
    let mut k = 0;
    while k < 12 {
        let mut m = 0;
        while m < B {
            let w = core::f64::consts::TAU * ALL_HZ[k] as f64 * m as f64 / 8000.0;
            t[k][m] = if sine { trig::sin(w) } else { trig::cos(w) } as f32;
            m += 1;
        }
        k += 1;
    }
    t
}

static COS: [[f32; B]; 12] = build_tables(false);
static SIN: [[f32; B]; 12] = build_tables(true);

fn table_index(hz: u16) -> Option<u8> {
    ALL_HZ.iter().position(|&f| f == hz).map(|i| i as u8)
}

/// What the detector recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallProgress {
    /// Quiet line for the configured time.
    Silence,
    /// Speech or other non-tone audio.
    Voice,
    /// Continuous dial tone.
    Dial,
    /// Busy tone (on Chinese analog trunks: the far end hung up).
    Busy,
    /// Ringback.
    Ringback,
    /// Congestion (reorder).
    Congestion,
    /// Special information tone (950/1400/1800 Hz).
    SpecialInfo,
}

impl CallProgress {
    /// The shared vocabulary's tone, for the tones it has.
    pub fn progress_tone(self) -> Option<ProgressTone> {
        Some(match self {
            Self::Dial => ProgressTone::Dial,
            Self::Busy => ProgressTone::Busy,
            Self::Ringback => ProgressTone::Ringback,
            Self::Congestion => ProgressTone::Congestion,
            Self::SpecialInfo => ProgressTone::SpecialInfo,
            Self::Silence | Self::Voice => return None,
        })
    }
}

/// A classification and when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressEvent {
    /// What was recognised.
    pub tone: CallProgress,
    /// When the classification became certain.
    pub at: SampleTime,
    /// When the recognised pattern began (e.g. the first busy burst).
    pub since: SampleTime,
}

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressConfig {
    /// Weakest tone recognised, dBm0.
    pub min_level_dbm0: f32,
    /// Share of a block's energy the tone frequencies must carry (0–1).
    pub min_purity: f32,
    /// Cadence tolerance: relative part.
    pub cadence_tolerance: f32,
    /// Cadence tolerance: absolute part, ms.
    pub cadence_slack_ms: u32,
    /// Report silence after this long without tone or voice, ms.
    pub silence_ms: u32,
    /// Report voice after this much continuous voice, ms.
    pub voice_ms: u32,
}

impl Default for ProgressConfig {
    fn default() -> Self {
        Self {
            min_level_dbm0: -45.0,
            min_purity: 0.6,
            cadence_tolerance: 0.10,
            cadence_slack_ms: 50,
            silence_ms: 3000,
            voice_ms: 300,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Off,
    Tone,
    Sit(u8),
    Voice,
    /// A block at a tone's edge (part tone, part gap): joins the segment in progress.
    Edge,
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    kind: Kind,
    start: u64,
    len: u64,
    /// Tone segments: smallest and largest block power, not counting the first and the
    /// newest block (edges); a tone is steady, speech is not.
    pmin: f32,
    pmax: f32,
    plast: f32,
    blocks: u32,
}

impl Seg {
    const fn new(kind: Kind, start: u64, len: u64) -> Self {
        Self {
            kind,
            start,
            len,
            pmin: f32::MAX,
            pmax: 0.0,
            plast: 0.0,
            blocks: 0,
        }
    }

    fn add_tone_block(&mut self, p: f32) {
        if self.blocks >= 2 {
            self.pmin = self.pmin.min(self.plast);
            self.pmax = self.pmax.max(self.plast);
        }
        self.plast = p;
        self.blocks += 1;
    }

    fn steady(&self, ratio: f32) -> bool {
        self.blocks < 4 || self.pmax <= ratio * self.pmin
    }
}

/// The call-progress detector for one channel and tone zone.
#[derive(Debug, Clone)]
pub struct CallProgressDetector {
    zone: &'static ToneZone,
    cfg: ProgressConfig,
    /// Analysed frequencies: zone tones first, then the SIT tones.
    nf: usize,
    nzone: usize,
    /// Indices into the shared tables.
    idx: [u8; MAXF],
    gate: f32,
    min_p: f32,
    last_sample: f32,
    dial_after: u64,
    buf: [i16; B],
    buf_n: usize,
    t_block: u64,
    started: bool,
    cur: Seg,
    segs: [Seg; SEGS],
    nseg: usize,
    last: Option<CallProgress>,
    tone_level: f32,
    block_p: f32,
    last_edge: bool,
    /// Largest block-power ratio inside a tone burst (speech is not steady). Tones that
    /// beat (two close frequencies) or are modulated are not checked.
    steady_ratio: f32,
    /// Cadence matches (busy, congestion, ringback) over the completed segments alone, as
    /// of `matched_nseg` completed segments: they change only when a segment completes,
    /// so the per-block check does not redo them.
    matched: [Option<u64>; 3],
    matched_nseg: usize,
    /// The same with the gap in progress, as of (completed segments, how many of the
    /// cadence's silences the gap is long enough for): it changes only with those.
    gap_matched: [Option<u64>; 3],
    gap_key: [(usize, u8); 3],
}

impl CallProgressDetector {
    /// A detector for `zone` with default settings.
    pub fn new(zone: &'static ToneZone) -> Self {
        Self::with_config(zone, ProgressConfig::default())
    }

    /// A detector for `zone` with `cfg`.
    pub fn with_config(zone: &'static ToneZone, cfg: ProgressConfig) -> Self {
        let mut freqs = [0u16; MAXF];
        let mut nf = 0;
        let mut max_on = 0u64;
        for spec in [zone.dial, zone.busy, zone.ringback, zone.congestion] {
            let (fs, n) = spec.frequencies();
            for &f in &fs[..n] {
                if !freqs[..nf].contains(&f) && nf < MAXF - 3 {
                    freqs[nf] = f;
                    nf += 1;
                }
            }
            for s in spec.segments {
                if !s.is_silence() && s.ms > 0 {
                    max_on = max_on.max(s.ms as u64);
                }
            }
        }
        let nzone = nf;
        for f in SIT_HZ {
            freqs[nf] = f;
            nf += 1;
        }
        // Frequencies without a table (none in the shipped zones) are left out.
        let mut idx = [0u8; MAXF];
        let mut kept = 0;
        let mut kept_zone = 0;
        for (k, &f) in freqs[..nf].iter().enumerate() {
            if let Some(i) = table_index(f) {
                idx[kept] = i;
                kept += 1;
                if k < nzone {
                    kept_zone += 1;
                }
            }
        }
        let (nf, nzone) = (kept, kept_zone);
        let dial_ms = (max_on * 12 / 10 + 500).max(1500);
        let mut steady_ratio = 2.5f32;
        for spec in [zone.dial, zone.busy, zone.ringback, zone.congestion] {
            for seg in spec.segments {
                let close = seg.freqs[1] != 0 && seg.freqs[0].abs_diff(seg.freqs[1]) < 200;
                if close || seg.modulation_hz != 0 {
                    steady_ratio = f32::INFINITY;
                }
            }
        }
        Self {
            zone,
            cfg,
            nf,
            nzone,
            idx,
            gate: dbm0_to_power(cfg.min_level_dbm0 - 3.0),
            min_p: dbm0_to_power(cfg.min_level_dbm0),
            last_sample: 0.0,
            dial_after: dial_ms * 8,
            buf: [0; B],
            buf_n: 0,
            t_block: 0,
            started: false,
            cur: Seg::new(Kind::Off, 0, 0),
            segs: [Seg::new(Kind::Off, 0, 0); SEGS],
            nseg: 0,
            last: None,
            tone_level: 0.0,
            block_p: 0.0,
            last_edge: false,
            steady_ratio,
            matched: [None; 3],
            matched_nseg: usize::MAX,
            gap_matched: [None; 3],
            gap_key: [(usize::MAX, 0); 3],
        }
    }

    /// The zone.
    pub fn zone(&self) -> &'static ToneZone {
        self.zone
    }

    /// The last classification reported.
    pub fn current(&self) -> Option<CallProgress> {
        self.last
    }

    /// Forgets everything; the next sample is expected at `now`.
    pub fn reset_at(&mut self, now: SampleTime) {
        self.buf_n = 0;
        self.t_block = now.0;
        self.started = true;
        self.cur = Seg::new(Kind::Off, now.0, 0);
        self.nseg = 0;
        self.matched_nseg = usize::MAX;
        self.gap_key = [(usize::MAX, 0); 3];
        self.last = None;
    }

    /// Feeds samples (`now` is the time of `samples[0]`); returns a classification when it
    /// changes. Pass frames of 20 ms or so: at most one change is reported per call.
    pub fn process(&mut self, samples: &[i16], now: SampleTime) -> Option<ProgressEvent> {
        if !self.started || now.0 != self.t_block + self.buf_n as u64 {
            self.reset_at(now);
        }
        let mut out = None;
        let mut s = samples;
        while !s.is_empty() {
            if self.buf_n == 0 && s.len() >= B {
                // Whole block straight from the input.
                let (blk, rest) = s.split_at(B);
                let blk: &[i16; B] = blk.try_into().expect("B samples");
                if let Some(e) = self.block(blk) {
                    out = out.or(Some(e));
                }
                self.t_block += B as u64;
                s = rest;
                continue;
            }
            let take = (B - self.buf_n).min(s.len());
            self.buf[self.buf_n..self.buf_n + take].copy_from_slice(&s[..take]);
            self.buf_n += take;
            s = &s[take..];
            if self.buf_n == B {
                let blk = self.buf;
                if let Some(e) = self.block(&blk) {
                    out = out.or(Some(e));
                }
                self.buf_n = 0;
                self.t_block += B as u64;
            }
        }
        out
    }

    fn classify(&mut self, x: &[i16; B]) -> Kind {
        // Energy and first-difference energy: their ratio r = 2(1 - cos ω) for a tone at
        // ω says roughly where the energy is, so blocks that cannot hold a zone tone
        // (< 700 Hz) or a SIT tone (950-1800 Hz) skip those correlations.
        let mut xf = [0f32; B];
        let mut sq = [0f32; 8];
        let mut dq = [0f32; 8];
        let mut prev = self.last_sample;
        for (c, o) in x.chunks_exact(8).zip(xf.chunks_exact_mut(8)) {
            for i in 0..8 {
                o[i] = c[i] as f32;
                sq[i] += o[i] * o[i];
            }
            let d0 = o[0] - prev;
            dq[0] += d0 * d0;
            for i in 1..8 {
                let d = o[i] - o[i - 1];
                dq[i] += d * d;
            }
            prev = o[7];
        }
        self.last_sample = prev;
        let e = sq.iter().sum::<f32>();
        let p = e / B as f32;
        if p < self.gate {
            return Kind::Off;
        }
        let r = dq.iter().sum::<f32>() / e;
        let mut pw = [0f32; MAXF];
        // Also where a tone may be ending or starting (a block no louder than the tone).
        let zone = r <= 0.6 || (self.tone_level > 0.0 && p <= 1.5 * self.tone_level);
        let sit = (0.35..=2.2).contains(&r);
        for k in 0..self.nf {
            if (k < self.nzone && !zone) || (k >= self.nzone && !sit) {
                continue;
            }
            let i = self.idx[k] as usize;
            let (mut c, mut s) = ([0f32; 8], [0f32; 8]);
            for ((xc, cc), sc) in xf
                .chunks_exact(8)
                .zip(COS[i].chunks_exact(8))
                .zip(SIN[i].chunks_exact(8))
            {
                for j in 0..8 {
                    c[j] += xc[j] * cc[j];
                    s[j] += xc[j] * sc[j];
                }
            }
            let (c, s): (f32, f32) = (c.iter().sum(), s.iter().sum());
            pw[k] = 2.0 * (c * c + s * s) / (B * B) as f32;
        }
        // Zone tone: the strongest pair of zone frequencies (two-frequency tones) or one.
        let mut best = 0f32;
        for a in 0..self.nzone {
            best = best.max(pw[a]);
            for b in a + 1..self.nzone {
                // Close frequencies (e.g. 440/480) overlap in a 10 ms bin; don't count twice.
                best = best.max((pw[a] + pw[b]).min(p));
            }
        }
        let min_p = self.min_p;
        if best >= self.cfg.min_purity * p && best >= min_p {
            self.tone_level = p;
            self.block_p = p;
            return Kind::Tone;
        }
        for (i, k) in (self.nzone..self.nf).enumerate() {
            if pw[k] >= self.cfg.min_purity * p && pw[k] >= min_p {
                return Kind::Sit(i as u8);
            }
        }
        // Quiet relative to the tone we have been hearing counts as a gap, not voice.
        if self.tone_level > 0.0 && p < self.tone_level * 0.02 {
            return Kind::Off;
        }
        if self.tone_level > 0.0 && best >= 0.01 * p && p <= 1.5 * self.tone_level {
            return Kind::Edge;
        }
        Kind::Voice
    }

    fn block(&mut self, x: &[i16; B]) -> Option<ProgressEvent> {
        let mut kind = self.classify(x);
        let t = self.t_block;
        // One edge block joins the segment in progress; a run of them is voice.
        if kind == Kind::Edge {
            kind = if self.cur.len == 0 || self.last_edge {
                Kind::Voice
            } else {
                self.cur.kind
            };
            self.last_edge = true;
        } else {
            self.last_edge = false;
        }
        if self.cur.len == 0 {
            self.cur = Seg::new(kind, t, 0);
        } else if kind != self.cur.kind {
            let mut done = self.cur;
            if done.kind == Kind::Tone && !done.steady(self.steady_ratio) {
                done.kind = Kind::Voice;
            }
            self.segs[self.nseg % SEGS] = done;
            self.nseg += 1;
            self.cur = Seg::new(kind, t, 0);
        }
        self.cur.len += B as u64;
        if kind == Kind::Tone {
            self.cur.add_tone_block(self.block_p);
        }
        let now = t + B as u64;
        let found = self.recognise();

        match found {
            Some((tone, since)) if self.last != Some(tone) => {
                self.last = Some(tone);
                Some(ProgressEvent {
                    tone,
                    at: SampleTime(now),
                    since: SampleTime(since),
                })
            }
            _ => None,
        }
    }

    fn seg_back(&self, i: usize) -> Option<Seg> {
        // i = 0: the segment in progress; 1.. completed ones, newest first.
        if i == 0 {
            return Some(self.cur);
        }
        if i > self.nseg || i > SEGS {
            return None;
        }
        Some(self.segs[(self.nseg - i) % SEGS])
    }

    fn fits(&self, len: u64, ms: u16) -> bool {
        let want = ms as f32 * 8.0;
        let tol = want * self.cfg.cadence_tolerance + self.cfg.cadence_slack_ms as f32 * 8.0;
        (len as f32 - want).abs() <= tol
    }

    /// Whether the recent segments follow `spec`'s cadence; returns when it began.
    ///
    /// The matched run of segments must start with a tone burst and hold at least two
    /// bursts for cadences of 2 s or less (busy, congestion), one for longer ones
    /// (ringback). It ends with the last completed segment (`with_current` false) or with
    /// the gap in progress once that gap is long enough (`with_current` true; only a gap
    /// in progress can match).
    fn cadence(&self, spec: &ToneSpec, with_current: bool) -> Option<u64> {
        let segs = spec.segments;
        let l = segs.len();
        if l < 2 || segs.iter().any(|s| s.ms == 0) {
            return None;
        }
        let min_ons = if spec.cycle_ms() <= 2000 { 2 } else { 1 };
        // With a single burst, the long pause must have been seen (the short gaps of a
        // double-ring cadence alone prove nothing).
        let longest_off = segs
            .iter()
            .filter(|s| s.is_silence())
            .map(|s| s.ms)
            .max()
            .unwrap_or(0);
        if with_current && (self.cur.kind != Kind::Off || self.gap_fits(spec) == 0) {
            // The gap in progress is matched against a silence of the pattern and must be
            // long enough for one of them: no rotation can match before that.
            return None;
        }
        {
            let first = if with_current { 0 } else { 1 };
            for n in 2..=l + 2 {
                'rot: for r in 0..l {
                    let mut ons = 0;
                    let mut long_gap = false;
                    let mut since = 0;
                    for i in 0..n {
                        let Some(obs) = self.seg_back(first + i) else {
                            continue 'rot;
                        };
                        // Pattern element for the i-th newest observed segment.
                        let want = segs[(r + l * n - i) % l];
                        let kind_ok = if want.is_silence() {
                            obs.kind == Kind::Off
                        } else {
                            obs.kind == Kind::Tone
                        };
                        if !kind_ok {
                            continue 'rot;
                        }
                        let len_ok = if with_current && i == 0 {
                            want.is_silence()
                                && obs.len as f32
                                    >= want.ms as f32 * 8.0 * (1.0 - self.cfg.cadence_tolerance)
                        } else {
                            self.fits(obs.len, want.ms)
                        };
                        if !len_ok {
                            continue 'rot;
                        }
                        if obs.kind == Kind::Tone {
                            ons += 1;
                        } else if want.ms == longest_off {
                            long_gap = true;
                        }
                        since = obs.start;
                        if i == n - 1 && obs.kind != Kind::Tone {
                            continue 'rot;
                        }
                    }
                    if ons >= min_ons && (ons >= 2 || long_gap) {
                        return Some(since);
                    }
                }
            }
        }
        None
    }

    /// How many of `spec`'s silences the gap in progress is long enough for (the test
    /// [`CallProgressDetector::cadence`] makes of the segment in progress).
    fn gap_fits(&self, spec: &ToneSpec) -> u8 {
        let tol = self.cfg.cadence_tolerance;
        spec.segments
            .iter()
            .filter(|s| s.is_silence() && self.cur.len as f32 >= s.ms as f32 * 8.0 * (1.0 - tol))
            .count() as u8
    }

    /// [`CallProgressDetector::cadence`] with the gap in progress, for cadence `k` of
    /// [`CallProgressDetector::recognise`]: recomputed only when a segment completed or the
    /// gap became long enough for one more of the cadence's silences (the gap only grows,
    /// so that count says which ones).
    fn gap_cadence(&mut self, k: usize, spec: &ToneSpec) -> Option<u64> {
        if self.cur.kind != Kind::Off {
            return None;
        }
        let key = (self.nseg, self.gap_fits(spec));
        if key.1 == 0 {
            return None;
        }
        if self.gap_key[k] != key {
            self.gap_matched[k] = self.cadence(spec, true);
            self.gap_key[k] = key;
        }
        self.gap_matched[k]
    }

    fn recognise(&mut self) -> Option<(CallProgress, u64)> {
        let z = self.zone;
        // Busy before congestion before ringback: the shorter cadence decides first.
        let cadenced = [
            (CallProgress::Busy, z.busy),
            (CallProgress::Congestion, z.congestion),
            (CallProgress::Ringback, z.ringback),
        ];
        if self.matched_nseg != self.nseg {
            for (k, (tone, spec)) in cadenced.iter().enumerate() {
                let skip = *spec == z.busy && *tone != CallProgress::Busy;
                self.matched[k] = if skip {
                    None
                } else {
                    self.cadence(spec, false)
                };
            }
            self.matched_nseg = self.nseg;
        }
        for (k, (tone, spec)) in cadenced.iter().enumerate() {
            if *spec == z.busy && *tone != CallProgress::Busy {
                continue;
            }
            let found = match self.matched[k] {
                Some(since) => Some(since),
                None => self.gap_cadence(k, spec),
            };
            if let Some(since) = found {
                return Some((*tone, since));
            }
        }
        // Special information tone: the three frequencies in order, each about 330 ms.
        let mut sit_ok = true;
        let mut since = 0;
        for (i, want) in [2u8, 1, 0].iter().enumerate() {
            match self.seg_back(i + 1) {
                Some(s) if s.kind == Kind::Sit(*want) && s.len >= 200 * 8 && s.len <= 450 * 8 => {
                    since = s.start
                }
                _ => sit_ok = false,
            }
        }
        if sit_ok {
            return Some((CallProgress::SpecialInfo, since));
        }
        let cur = self.cur;
        match cur.kind {
            Kind::Tone if cur.len >= self.dial_after && z.dial.cycle_ms() == 0 => {
                Some((CallProgress::Dial, cur.start))
            }
            Kind::Voice if cur.len >= self.cfg.voice_ms as u64 * 8 => {
                Some((CallProgress::Voice, cur.start))
            }
            Kind::Off if cur.len >= self.cfg.silence_ms as u64 * 8 => {
                Some((CallProgress::Silence, cur.start))
            }
            _ => None,
        }
    }

    /// Level of the last tone block heard, dBm0 (for diagnostics).
    pub fn tone_level_dbm0(&self) -> f32 {
        power_to_dbm0(self.tone_level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_frequency_has_a_table() {
        for z in ToneZone::all() {
            for spec in [z.dial, z.busy, z.ringback, z.congestion] {
                let (fs, n) = spec.frequencies();
                for &f in &fs[..n] {
                    assert!(table_index(f).is_some(), "{} {f} Hz", z.code);
                }
            }
        }
    }
}
