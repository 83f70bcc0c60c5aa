//! Shared helpers for the benchmarks in `benches/benches/`.
#![forbid(unsafe_code)]

/// Deterministic test signals for the DSP benchmarks.
pub mod signals {
    use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
    use dsp::level::dbm0_to_power;
    use tel_types::Digit;

    /// xorshift64* PRNG, so every run sees the same signal.
    #[derive(Debug, Clone)]
    pub struct Rng(pub u64);

    impl Rng {
        /// Next 64 random bits.
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform in [0, 1).
        pub fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Standard normal.
        pub fn gauss(&mut self) -> f64 {
            let u1 = self.uniform().max(1e-12);
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
        }
    }

    /// An IVR-like line: bursts of key presses (70 ms on, 80 ms off) every few seconds,
    /// over noise at -60 dBm0. Returns the audio and the keys in it.
    pub fn dtmf_line(rng: &mut Rng, samples: usize) -> (Vec<i16>, String) {
        let mut out = vec![0i16; samples];
        let mut keys = String::new();
        let mut g = DtmfGenerator::new(DtmfGenConfig {
            on_ms: 70,
            off_ms: 80,
            low_dbm0: -12.0,
            high_dbm0: -10.0,
        });
        let mut pos = 8000;
        while pos + 16000 < samples {
            for _ in 0..8 {
                let d = Digit::ALL[(rng.next_u64() % 12) as usize];
                g.push(d);
                keys.push(d.as_char());
            }
            g.fill(&mut out[pos..pos + 12000]);
            pos += 24000;
        }
        let sigma = (dbm0_to_power(-60.0) as f64).sqrt();
        for s in &mut out {
            *s = (*s as f64 + rng.gauss() * sigma).round() as i16;
        }
        (out, keys)
    }

    /// The dsp crate's talk-off speech files (A-law WAV) decoded and looped to `samples`.
    pub fn speech_loop(samples: usize) -> Vec<i16> {
        let mut all = Vec::new();
        for name in [
            "speech_en_recorded.wav",
            "speech_zh_espeak.wav",
            "speech_en_espeak.wav",
        ] {
            let path = format!(
                "{}/../crates/dsp/tests/data/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let w = dsp::wav::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
            let mut pcm = vec![0i16; w.frames()];
            w.decode_into(&mut pcm);
            all.extend(pcm);
        }
        let mut out = Vec::with_capacity(samples);
        while out.len() < samples {
            let k = (samples - out.len()).min(all.len());
            out.extend_from_slice(&all[..k]);
        }
        out
    }

    /// White noise at `dbm0`.
    pub fn noise_line(rng: &mut Rng, samples: usize, dbm0: f32) -> Vec<i16> {
        let sigma = (dbm0_to_power(dbm0) as f64).sqrt();
        (0..samples)
            .map(|_| (rng.gauss() * sigma).round().clamp(-32768.0, 32767.0) as i16)
            .collect()
    }
}
