//! The simulator's signal sources and coding: the one seam between the simulated lines and
//! the DSP crate.
//!
//! Everything here runs on the board side. Per-frame work (oscillators, noise, table coding)
//! does not allocate; pre-rendered sounds (zone tones, caller ID) are rendered once per board
//! or once per call.

use std::f32::consts::TAU;
use std::sync::Arc;

use tel_types::{CallerId, Digit, Law, SAMPLE_RATE_HZ};

use crate::profile::{CallerIdStandard, Zone};

/// Peak amplitude of a 0 dBm0 sine in 16-bit linear (G.711's maximum sine is +3.14 dBm0).
pub(crate) const DBM0_PEAK: f32 = 32_767.0 * 0.696_97; // 10^(-3.14/20)

/// Peak amplitude of a sine at `dbm0`.
pub(crate) fn sine_peak(dbm0: f32) -> f32 {
    DBM0_PEAK * 10f32.powf(dbm0 / 20.0)
}

/// Linear gain for `db`.
pub(crate) fn db_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Encodes and decodes one law through tables built from the DSP crate's G.711.
pub(crate) struct Codec {
    law: Law,
    enc: Box<[u8]>,
    dec: [i16; 256],
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec").field("law", &self.law).finish()
    }
}

impl Codec {
    pub(crate) fn new(law: Law) -> Self {
        let mut dec = [0i16; 256];
        let mut enc = vec![0u8; 65_536].into_boxed_slice();
        match law {
            Law::ALaw => {
                for (b, d) in dec.iter_mut().enumerate() {
                    *d = dsp::g711::alaw_to_linear(b as u8);
                }
                for (i, e) in enc.iter_mut().enumerate() {
                    *e = dsp::g711::linear_to_alaw(i as u16 as i16);
                }
            }
            Law::MuLaw => {
                for (b, d) in dec.iter_mut().enumerate() {
                    *d = dsp::g711::ulaw_to_linear(b as u8);
                }
                for (i, e) in enc.iter_mut().enumerate() {
                    *e = dsp::g711::linear_to_ulaw(i as u16 as i16);
                }
            }
            Law::Linear => {}
        }
        Self { law, enc, dec }
    }

    /// Codes 160 linear samples into `out` (a frame in this law).
    pub(crate) fn encode(&self, pcm: &[i16], out: &mut [u8]) {
        match self.law {
            Law::Linear => {
                for (s, o) in pcm.iter().zip(out.chunks_exact_mut(2)) {
                    o.copy_from_slice(&s.to_le_bytes());
                }
            }
            _ => {
                for (s, o) in pcm.iter().zip(out.iter_mut()) {
                    *o = self.enc[*s as u16 as usize];
                }
            }
        }
    }

    /// Decodes a frame in this law into linear samples.
    pub(crate) fn decode(&self, frame: &[u8], pcm: &mut [i16]) {
        match self.law {
            Law::Linear => {
                for (c, p) in frame.chunks_exact(2).zip(pcm.iter_mut()) {
                    *p = i16::from_le_bytes([c[0], c[1]]);
                }
            }
            _ => {
                for (b, p) in frame.iter().zip(pcm.iter_mut()) {
                    *p = self.dec[*b as usize];
                }
            }
        }
    }
}

/// A two-tone oscillator (a rotating phasor per tone): DTMF keys, and test tones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TwoTone {
    re: [f32; 2],
    im: [f32; 2],
    rot_re: [f32; 2],
    rot_im: [f32; 2],
    amp: [f32; 2],
}

impl TwoTone {
    /// Tones at `f` Hz with peak amplitudes `amp` (an amplitude of 0 switches a tone off).
    pub(crate) fn new(f: [f32; 2], amp: [f32; 2]) -> Self {
        let mut t = Self {
            amp,
            ..Self::default()
        };
        for i in 0..2 {
            let w = TAU * f[i] / SAMPLE_RATE_HZ as f32;
            t.rot_re[i] = w.cos();
            t.rot_im[i] = w.sin();
            t.re[i] = 1.0;
        }
        t
    }

    /// Adds the next `out.len()` samples to `out`.
    pub(crate) fn add_to(&mut self, out: &mut [f32]) {
        for o in out.iter_mut() {
            let mut s = 0.0;
            for i in 0..2 {
                let (re, im) = (self.re[i], self.im[i]);
                self.re[i] = re * self.rot_re[i] - im * self.rot_im[i];
                self.im[i] = re * self.rot_im[i] + im * self.rot_re[i];
                s += self.amp[i] * self.im[i];
            }
            *o += s;
        }
        // Keep the phasors on the unit circle.
        for i in 0..2 {
            let n = (self.re[i] * self.re[i] + self.im[i] * self.im[i]).sqrt();
            if n > 0.0 {
                self.re[i] /= n;
                self.im[i] /= n;
            }
        }
    }
}

/// Gaussian-like white noise from a table, cheap per sample.
#[derive(Clone)]
pub(crate) struct NoiseTable {
    samples: Arc<[f32]>,
}

impl std::fmt::Debug for NoiseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseTable").finish_non_exhaustive()
    }
}

impl NoiseTable {
    /// 8192 samples of unit-RMS noise (sum of four uniforms) from a fixed seed.
    pub(crate) fn new() -> Self {
        let mut rng = crate::rng::Rng::new(0x5eed_0f_0015e);
        let v: Vec<f32> = (0..8192)
            .map(|_| {
                let s: f64 = (0..4).map(|_| rng.next_f64() - 0.5).sum();
                // Four uniforms on [-0.5, 0.5] have variance 4/12.
                (s / (4.0f64 / 12.0).sqrt()) as f32
            })
            .collect();
        Self { samples: v.into() }
    }

    /// Adds noise of RMS `rms` to `out`, reading from `*pos` (which advances).
    pub(crate) fn add_to(&self, out: &mut [f32], rms: f32, pos: &mut usize) {
        let n = self.samples.len();
        for o in out.iter_mut() {
            *o += self.samples[*pos % n] * rms;
            *pos = (*pos + 7919) % n;
        }
    }
}

/// RMS of noise at `dbm0` (0 dBm0 of noise has the power of a 0 dBm0 sine).
pub(crate) fn noise_rms(dbm0: f32) -> f32 {
    sine_peak(dbm0) / std::f32::consts::SQRT_2
}

/// A zone tone the simulated exchange plays, rendered as one loop of its cadence.
pub(crate) fn render_zone_tone(zone: Zone, tone: tel_types::Tone) -> Arc<[i16]> {
    let zone = dsp::tones::ToneZone::by_name(zone.name()).unwrap_or(dsp::tones::ToneZone::CN);
    let mut g = dsp::tones::ToneGenerator::new(zone.tone(tone));
    let len = g.loop_samples().clamp(160, 8 * SAMPLE_RATE_HZ as usize);
    let mut v = vec![0i16; len];
    g.fill(&mut v);
    v.into()
}

/// The caller-ID signal the exchange sends for `cid`, in linear samples.
pub(crate) fn render_caller_id(standard: CallerIdStandard, cid: &CallerId) -> Vec<i16> {
    match standard {
        CallerIdStandard::None => Vec::new(),
        CallerIdStandard::FskBell202 | CallerIdStandard::FskV23 => {
            let modem = if standard == CallerIdStandard::FskBell202 {
                dsp::callerid::FskStandard::Bell202
            } else {
                dsp::callerid::FskStandard::V23
            };
            dsp::callerid::render_fsk(modem, cid)
        }
        CallerIdStandard::Dtmf => dsp::callerid::render_dtmf(cid),
    }
}

/// DTMF frequencies of `d` as floats.
pub(crate) fn dtmf_freqs(d: Digit) -> [f32; 2] {
    let (l, h) = d.frequencies_hz();
    [l as f32, h as f32]
}

/// Stand-in for the parts of the DSP crate this module needs, until `dsp` has them.
mod dsp {
    pub(super) mod g711 {
        pub(crate) fn linear_to_alaw(pcm: i16) -> u8 {
            let (mut ix, sign) = if pcm < 0 {
                ((!pcm as i32) >> 4, 0)
            } else {
                ((pcm as i32) >> 4, 0x80)
            };
            if ix > 15 {
                let mut exp = 1;
                while ix > 16 + 15 {
                    ix >>= 1;
                    exp += 1;
                }
                ix -= 16;
                ix += exp << 4;
            }
            ((ix | sign) ^ 0x55) as u8
        }
        pub(crate) fn alaw_to_linear(a: u8) -> i16 {
            let a = a ^ 0x55;
            let mut t = i32::from(a & 0x0f) << 4;
            let seg = (a & 0x70) >> 4;
            match seg {
                0 => t += 8,
                1 => t += 0x108,
                _ => {
                    t += 0x108;
                    t <<= seg - 1;
                }
            }
            (if a & 0x80 != 0 { t } else { -t }) as i16
        }
        pub(crate) fn linear_to_ulaw(pcm: i16) -> u8 {
            let mut x = i32::from(pcm);
            let sign = if x < 0 {
                x = -x;
                0x80
            } else {
                0
            };
            x = x.min(32_635) + 0x84;
            let exp = (31 - (x as u32).leading_zeros()) as i32 - 7;
            let mant = (x >> (exp + 3)) & 0x0f;
            !((sign | (exp << 4) | mant) as u8)
        }
        pub(crate) fn ulaw_to_linear(u: u8) -> i16 {
            let u = !u;
            let mut t = (i32::from(u & 0x0f) << 3) + 0x84;
            t <<= (u & 0x70) >> 4;
            (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
        }
    }
    pub(super) mod tones {
        use tel_types::Tone;
        #[derive(Clone, Copy)]
        pub(crate) struct ToneZone;
        impl ToneZone {
            pub(crate) const CN: Self = Self;
            pub(crate) fn by_name(_n: &str) -> Option<Self> {
                Some(Self)
            }
            pub(crate) fn tone(self, t: Tone) -> (f32, u32, u32) {
                match t {
                    Tone::Busy => (450.0, 350, 350),
                    Tone::Congestion => (450.0, 700, 700),
                    Tone::Ringback => (450.0, 1000, 4000),
                    _ => (450.0, 1000, 0),
                }
            }
        }
        pub(crate) struct ToneGenerator((f32, u32, u32));
        impl ToneGenerator {
            pub(crate) fn new(t: (f32, u32, u32)) -> Self {
                Self(t)
            }
            pub(crate) fn loop_samples(&self) -> usize {
                ((self.0.1 + self.0.2) * 8) as usize
            }
            pub(crate) fn fill(&mut self, out: &mut [i16]) {
                let on = (self.0.1 * 8) as usize;
                let mut osc = super::super::TwoTone::new(
                    [self.0.0, 0.0],
                    [super::super::sine_peak(-10.0), 0.0],
                );
                let mut buf = vec![0f32; on.min(out.len())];
                osc.add_to(&mut buf);
                for (o, b) in out.iter_mut().zip(buf) {
                    *o = b as i16;
                }
            }
        }
    }
    pub(super) mod callerid {
        pub(crate) enum FskStandard {
            Bell202,
            V23,
        }
        pub(crate) fn render_fsk(_s: FskStandard, _c: &tel_types::CallerId) -> Vec<i16> {
            Vec::new()
        }
        pub(crate) fn render_dtmf(_c: &tel_types::CallerId) -> Vec<i16> {
            Vec::new()
        }
    }
}
