//! Signal helpers shared by the receiver tests (all in virtual time).
#![allow(dead_code, unreachable_pub)]

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use dsp::level::dbm0_to_power;
use tel_types::{Digit, DigitEvent, Law, SampleTime};

/// A small deterministic PRNG (xorshift64*), so every run sees the same "random" signals.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Silence of `n` samples.
pub fn silence(n: usize) -> Vec<f64> {
    vec![0.0; n]
}

/// A DTMF burst as floating-point samples (no rounding yet).
pub fn burst(lo: f64, hi: f64, lo_db: f32, hi_db: f32, on: usize) -> Vec<f64> {
    let mut g = DtmfGenerator::new(DtmfGenConfig::default());
    g.push_burst(DtmfBurst {
        low_hz: lo as f32,
        high_hz: hi as f32,
        low_dbm0: lo_db,
        high_dbm0: hi_db,
        on_samples: on as u32,
        off_samples: 0,
    });
    let mut b = vec![0i16; on];
    g.fill(&mut b);
    b.into_iter().map(|x| x as f64).collect()
}

/// The nominal burst for `d` at `lo_db`/`hi_db`, `ms` long.
pub fn key(d: Digit, lo_db: f32, hi_db: f32, ms: usize) -> Vec<f64> {
    let (lo, hi) = d.frequencies_hz();
    burst(lo as f64, hi as f64, lo_db, hi_db, ms * 8)
}

/// White Gaussian noise at `dbm0` total power.
pub fn noise(rng: &mut Rng, n: usize, dbm0: f32) -> Vec<f64> {
    let sigma = (dbm0_to_power(dbm0) as f64).sqrt();
    (0..n).map(|_| rng.gauss() * sigma).collect()
}

/// Adds `b` into `a` starting at `at` (extending `a` if needed).
pub fn mix_at(a: &mut Vec<f64>, b: &[f64], at: usize) {
    if a.len() < at + b.len() {
        a.resize(at + b.len(), 0.0);
    }
    for (x, y) in a[at..].iter_mut().zip(b) {
        *x += y;
    }
}

/// Rounds to 16 bits and passes the audio through `law`.
pub fn to_pcm(x: &[f64], law: Law) -> Vec<i16> {
    let mut v: Vec<i16> = x
        .iter()
        .map(|s| s.round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    dsp::g711::companded(law, &mut v);
    v
}

/// Runs a receiver over `pcm` in 20 ms frames (plus 100 ms of silence to flush) and returns
/// the accepted keys (Down events) and the releases (Up events).
pub fn run_rx(cfg: DtmfConfig, pcm: &[i16]) -> (Vec<DigitEvent>, Vec<DigitEvent>) {
    let mut rx = DtmfReceiver::new(cfg);
    let mut downs = Vec::new();
    let mut ups = Vec::new();
    let mut all = pcm.to_vec();
    all.extend(std::iter::repeat_n(0, 800));
    let mut t = SampleTime(1_000_000);
    for f in all.chunks(160) {
        rx.process(f, t);
        t += f.len() as u64;
        while let Some(e) = rx.poll_event() {
            match e {
                DtmfEvent::Down(d) => downs.push(d),
                DtmfEvent::Up(d) => ups.push(d),
            }
        }
    }
    assert_eq!(rx.events_lost(), 0);
    (downs, ups)
}

/// The keys accepted in `pcm`, as a string.
pub fn keys(cfg: DtmfConfig, pcm: &[i16]) -> String {
    run_rx(cfg, pcm)
        .0
        .iter()
        .map(|d| d.digit.as_char())
        .collect()
}

/// The speech recordings in `tests/data` (see its README): real recorded English and
/// Mandarin, a Mandarin syllable voicebank rendered by a singing synthesiser, and espeak-ng
/// synthesis of both languages. Every speech test runs over all of them.
pub const SPEECH: [&str; 5] = [
    "speech_en_recorded.wav",
    "speech_zh_recorded.wav",
    "speech_zh_voicebank.wav",
    "speech_zh_espeak.wav",
    "speech_en_espeak.wav",
];

/// Reads a mono 8 kHz WAV (linear, A-law or µ-law) from the test data directory.
pub fn read_wav(name: &str) -> Vec<i16> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let w = dsp::wav::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    w.check_telephony()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = vec![0i16; w.frames()];
    w.decode_into(&mut out);
    out
}

/// Mean power of `x` in dBm0.
pub fn level_dbm0(x: &[f64]) -> f32 {
    let p = x.iter().map(|s| s * s).sum::<f64>() / x.len() as f64;
    dsp::level::power_to_dbm0(p as f32)
}

/// Active speech level in dBm0: the mean power of the samples above 300 (about -38 dBm0),
/// so pauses don't count.
pub fn active_level_dbm0(x: &[f64]) -> f32 {
    let active: Vec<f64> = x.iter().copied().filter(|v| v.abs() > 300.0).collect();
    level_dbm0(&active)
}

/// Scales samples by `db` (with clipping, as a loud line would).
pub fn gain(x: &[i16], db: f64) -> Vec<f64> {
    let g = 10f64.powf(db / 20.0);
    x.iter()
        .map(|&s| (s as f64 * g).clamp(-32768.0, 32767.0))
        .collect()
}
