//! The simulator's signal sources and coding: the one seam between the simulated lines and
//! the DSP crate.
//!
//! Everything here runs on the board side. Per-frame work (oscillators, noise, table coding)
//! does not allocate; pre-rendered sounds (zone tones, caller ID) are rendered once per board
//! or once per call.

use std::sync::Arc;

use tel_types::{CallerId, Law};

use crate::profile::{CallerIdStandard, Zone};

/// Peak amplitude of a sine at `dbm0` (the DSP crate's level convention).
pub(crate) fn sine_peak(dbm0: f32) -> f32 {
    dsp::level::sine_peak_for_dbm0(dbm0)
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
                    *d = dsp::g711::alaw_decode(b as u8);
                }
                for (i, e) in enc.iter_mut().enumerate() {
                    *e = dsp::g711::alaw_encode(i as u16 as i16);
                }
            }
            Law::MuLaw => {
                for (b, d) in dec.iter_mut().enumerate() {
                    *d = dsp::g711::ulaw_decode(b as u8);
                }
                for (i, e) in enc.iter_mut().enumerate() {
                    *e = dsp::g711::ulaw_encode(i as u16 as i16);
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

const NOISE_LEN: usize = 8192;

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
        let mut rng = crate::rng::Rng::new(0x05ee_d0f0_015e);
        let v: Vec<f32> = (0..NOISE_LEN)
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
        const MASK: usize = NOISE_LEN - 1;
        let mut p = *pos & MASK;
        for o in out.iter_mut() {
            *o += self.samples[p] * rms;
            // An odd stride visits every entry before repeating.
            p = (p + 7919) & MASK;
        }
        *pos = p;
    }
}

/// RMS of noise at `dbm0` (0 dBm0 of noise has the power of a 0 dBm0 sine).
pub(crate) fn noise_rms(dbm0: f32) -> f32 {
    sine_peak(dbm0) / std::f32::consts::SQRT_2
}

/// Level of the exchange's call-progress tones, dBm0.
const EXCHANGE_TONE_DBM0: f32 = -10.0;

/// A zone tone the simulated exchange plays, rendered as one loop of its cadence (1 s for a
/// continuous tone, which holds a whole number of cycles of every zone's frequencies).
pub(crate) fn render_zone_tone(zone: Zone, tone: tel_types::Tone) -> Arc<[i16]> {
    let zone = dsp::zones::ToneZone::by_code(zone.name())
        .unwrap_or_else(dsp::zones::ToneZone::default_zone);
    let Some(spec) = zone.tone(tone) else {
        return vec![0i16; 160].into();
    };
    let cycle = match spec.cycle_ms() {
        0 => 1000,
        ms => ms,
    };
    let mut g = dsp::tone::ToneGenerator::new(spec, EXCHANGE_TONE_DBM0);
    let mut v = vec![0i16; cycle as usize * 8];
    g.fill(&mut v);
    v.into()
}

/// Level of FSK caller ID from the exchange, dBm0 (Bellcore: −13.5 dBm at the set).
const CID_FSK_DBM0: f32 = -13.5;

/// The caller-ID signal the exchange sends for `cid`, in linear samples: FSK (channel
/// seizure, marks, SDMF or, with a name, MDMF) or DTMF keys (`D…C` in China, `A…C`
/// elsewhere), rendered by the DSP crate.
pub(crate) fn render_caller_id(standard: CallerIdStandard, zone: Zone, cid: &CallerId) -> Vec<i16> {
    use dsp::callerid::{dtmf_caller_id_keys, fsk_caller_id};
    use dsp::fsk::FskModem;
    match standard {
        CallerIdStandard::None => Vec::new(),
        CallerIdStandard::FskBell202 | CallerIdStandard::FskV23 => {
            let modem = if standard == CallerIdStandard::FskBell202 {
                FskModem::Bell202
            } else {
                FskModem::V23
            };
            let mut out = vec![0i16; 2 * 8000];
            let n = fsk_caller_id(cid, modem, !cid.name.is_empty(), CID_FSK_DBM0, &mut out);
            out.truncate(n);
            out
        }
        CallerIdStandard::Dtmf => {
            let start = if zone == Zone::Cn { 'D' } else { 'A' };
            let keys = dtmf_caller_id_keys(cid, start);
            let mut g = dsp::dtmf_gen::DtmfGenerator::new(dsp::dtmf_gen::DtmfGenConfig {
                on_ms: 70,
                off_ms: 70,
                low_dbm0: -9.0,
                high_dbm0: -7.0,
            });
            g.push_str(keys.as_str());
            let mut out = vec![0i16; keys.as_str().len() * 140 * 8];
            g.fill(&mut out);
            out
        }
    }
}
