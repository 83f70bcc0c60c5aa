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

    /// Bytes per sample in this law (1, or 2 for linear).
    pub(crate) fn bytes_per_sample(&self) -> usize {
        if self.law == Law::Linear { 2 } else { 1 }
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

/// Linear samples to 16-bit PCM, rounding to the nearest (what a converter does; written so
/// the compiler vectorises it: a saturating `as` conversion per sample does not).
pub(crate) fn to_pcm(f: &[f32], pcm: &mut [i16]) {
    // Adding 1.5 * 2^23 leaves the value, rounded to the nearest integer (ties to even),
    // in the low mantissa bits for any |x| < 2^22; the clamp keeps it in 16 bits (and turns
    // a NaN into the lower bound rather than letting it through).
    const MAGIC: f32 = 12_582_912.0;
    for (o, x) in pcm.iter_mut().zip(f.iter()) {
        // Not `clamp`: it passes a NaN through.
        #[allow(clippy::manual_clamp)]
        let x = x.max(-32_768.0).min(32_767.0);
        *o = ((x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32) as i16;
    }
}

/// Gaussian-like white noise from a table, cheap per sample.
#[derive(Clone)]
pub(crate) struct NoiseTable {
    /// `NOISE_LEN` samples, then the first frame's worth again (so a frame is one slice).
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
        let mut v: Vec<f32> = (0..NOISE_LEN)
            .map(|_| {
                let s: f64 = (0..4).map(|_| rng.next_f64() - 0.5).sum();
                // Four uniforms on [-0.5, 0.5] have variance 4/12.
                (s / (4.0f64 / 12.0).sqrt()) as f32
            })
            .collect();
        v.extend_from_within(..tel_types::FRAME_SAMPLES);
        Self { samples: v.into() }
    }

    /// Adds noise of RMS `rms` to `out`, reading from `*pos` (which advances, wrapping
    /// after 8192 samples: the noise repeats every 1.024 s).
    pub(crate) fn add_to(&self, out: &mut [f32], rms: f32, pos: &mut usize) {
        let mut p = *pos % NOISE_LEN;
        for chunk in out.chunks_mut(tel_types::FRAME_SAMPLES) {
            let n = chunk.len();
            for (o, s) in chunk.iter_mut().zip(&self.samples[p..p + n]) {
                *o += s * rms;
            }
            p = (p + n) % NOISE_LEN;
        }
        *pos = p;
    }

    /// The noise of RMS `rms` alone (what [`NoiseTable::add_to`] makes of a silent frame),
    /// coded by `codec`: the 8192 positions and a frame more, `codec`'s bytes per sample
    /// each. A quiet line's frame at position `p` is `bytes[p * bps..(p + 160) * bps]`.
    pub(crate) fn coded(&self, rms: f32, codec: &Codec) -> Arc<[u8]> {
        let f: Vec<f32> = self.samples.iter().map(|s| 0.0 + s * rms).collect();
        let mut pcm = vec![0i16; f.len()];
        to_pcm(&f, &mut pcm);
        let bps = codec.bytes_per_sample();
        let mut out = vec![0u8; pcm.len() * bps];
        codec.encode(&pcm, &mut out);
        out.into()
    }
}

/// Where noise position `pos` starts in [`NoiseTable::coded`] bytes, and where the next
/// frame's position is.
pub(crate) fn coded_noise_at(pos: usize) -> (usize, usize) {
    let p = pos % NOISE_LEN;
    (p, (p + tel_types::FRAME_SAMPLES) % NOISE_LEN)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_pcm_rounds_to_the_nearest_and_saturates() {
        let f = [
            0.4,
            0.6,
            -0.6,
            2.5,
            -1e9,
            1e9,
            32_767.4,
            f32::NAN,
            -0.0,
            1234.5,
        ];
        let mut pcm = [7i16; 10];
        to_pcm(&f, &mut pcm);
        assert_eq!(
            pcm,
            [0, 1, -1, 2, -32_768, 32_767, 32_767, -32_768, 0, 1234]
        );
    }

    #[test]
    fn the_coded_quiet_line_is_the_computed_one() {
        // An idle analog line's frame copied from the coded table is, byte for byte, what
        // adding the noise to a silent frame, converting and coding it gives.
        let noise = NoiseTable::new();
        for law in [Law::ALaw, Law::MuLaw, Law::Linear] {
            let codec = Codec::new(law);
            let rms = noise_rms(-60.0);
            let coded = noise.coded(rms, &codec);
            let bps = codec.bytes_per_sample();
            let fb = tel_types::FRAME_SAMPLES * bps;
            let mut pos = 8_100; // wraps within the frame
            for _ in 0..300 {
                let (at, next) = coded_noise_at(pos);
                let mut f = [0f32; tel_types::FRAME_SAMPLES];
                noise.add_to(&mut f, rms, &mut pos);
                assert_eq!(pos, next);
                let mut pcm = [0i16; tel_types::FRAME_SAMPLES];
                to_pcm(&f, &mut pcm);
                let mut want = vec![0u8; fb];
                codec.encode(&pcm, &mut want);
                assert_eq!(
                    &coded[at * bps..at * bps + fb],
                    &want[..],
                    "{law:?} at {at}"
                );
                assert!(pcm.iter().any(|&s| s != 0), "the noise is there");
            }
        }
    }
}
