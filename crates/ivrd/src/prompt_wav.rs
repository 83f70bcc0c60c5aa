//! Prompt files as the line plays them: 8 kHz mono WAV, coded as G.711 A-law (what the packs
//! ship: half the size of 16-bit and exactly what a Chinese trunk carries), µ-law or 16-bit
//! linear PCM.
//!
//! One reader for everything that loads prompts (the daemon's prompt table, `ivrd prompts
//! check`, the simulator's prompt lengths), so a file either plays everywhere or is refused
//! everywhere with the same message. Runs on the control side at load time; allocates.

use std::path::{Path, PathBuf};

use dsp::wav::{Encoding, WavError};

/// Why a prompt file cannot be played as it is.
#[derive(Debug)]
#[non_exhaustive]
pub enum PromptWavError {
    /// The file could not be read.
    Read(PathBuf, std::io::Error),
    /// The file is not a WAV file this reader takes, or not 8 kHz mono.
    Wav(PathBuf, WavError),
    /// The file holds no audio.
    Empty(PathBuf),
    /// The file could not be written.
    Write(PathBuf, std::io::Error),
}

impl std::fmt::Display for PromptWavError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(p, e) => write!(f, "{}: cannot read: {e}", p.display()),
            Self::Wav(p, e) => write!(f, "{}: {e}; fix with `ivrd prompts convert`", p.display()),
            Self::Empty(p) => write!(f, "{}: no audio", p.display()),
            Self::Write(p, e) => write!(f, "{}: cannot write: {e}", p.display()),
        }
    }
}

impl std::error::Error for PromptWavError {}

/// Reads a prompt file into linear samples, refusing anything that is not 8 kHz mono.
///
/// # Errors
/// The file is unreadable, not a WAV in 16-bit PCM, A-law or µ-law, not 8 kHz mono, or empty.
pub fn read(path: &Path) -> Result<Vec<i16>, PromptWavError> {
    let bytes = std::fs::read(path).map_err(|e| PromptWavError::Read(path.into(), e))?;
    let wav = dsp::wav::parse(&bytes).map_err(|e| PromptWavError::Wav(path.into(), e))?;
    wav.check_telephony()
        .map_err(|e| PromptWavError::Wav(path.into(), e))?;
    let mut samples = vec![0; wav.frames()];
    let n = wav.decode_into(&mut samples);
    samples.truncate(n);
    if samples.is_empty() {
        return Err(PromptWavError::Empty(path.into()));
    }
    Ok(samples)
}

/// Length of a playable prompt file in milliseconds, without decoding it.
///
/// # Errors
/// As [`read`].
pub fn duration_ms(path: &Path) -> Result<u64, PromptWavError> {
    let bytes = std::fs::read(path).map_err(|e| PromptWavError::Read(path.into(), e))?;
    let wav = dsp::wav::parse(&bytes).map_err(|e| PromptWavError::Wav(path.into(), e))?;
    wav.check_telephony()
        .map_err(|e| PromptWavError::Wav(path.into(), e))?;
    Ok(wav.frames() as u64 / 8)
}

/// Writes 8 kHz mono samples as an A-law WAV file (the packs' format).
///
/// # Errors
/// The file could not be created or written.
pub fn write_alaw(path: &Path, samples: &[i16]) -> Result<(), PromptWavError> {
    let mut header = [0u8; 46];
    let data_len = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    let h = dsp::wav::write_header(Encoding::ALaw, data_len, &mut header);
    let mut out = Vec::with_capacity(h + samples.len());
    out.extend_from_slice(&header[..h]);
    out.resize(h + samples.len(), 0);
    dsp::g711::alaw_encode_slice(samples, &mut out[h..]);
    std::fs::write(path, out).map_err(|e| PromptWavError::Write(path.into(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (8000.0 * (i as f32 * 0.3).sin()) as i16)
            .collect()
    }

    #[test]
    fn alaw_round_trip_keeps_length_and_level() {
        let dir = std::env::temp_dir().join(format!("prompt-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.wav");
        let x = tone(4000);
        write_alaw(&f, &x).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().len(), 46 + 4000);
        assert_eq!(duration_ms(&f).unwrap(), 500);
        let y = read(&f).unwrap();
        assert_eq!(y.len(), x.len());
        // A-law keeps every sample within its segment's quantisation step (< 1/16 of |x|).
        for (a, b) in x.iter().zip(&y) {
            let err = (i32::from(*a) - i32::from(*b)).abs();
            assert!(err <= (i32::from(*a).abs() / 16).max(16), "{a} -> {b}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_rate_or_channels_are_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("prompt-wav-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("stereo16k.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&f, spec).unwrap();
        for s in tone(200) {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let e = read(&f).unwrap_err().to_string();
        assert!(e.contains("stereo16k.wav") && e.contains("16000 Hz"), "{e}");
        let e = read(&dir.join("missing.wav")).unwrap_err().to_string();
        assert!(
            e.contains("missing.wav") && e.contains("cannot read"),
            "{e}"
        );
        std::fs::write(dir.join("text.wav"), "hello").unwrap();
        let e = read(&dir.join("text.wav")).unwrap_err().to_string();
        assert!(e.contains("not a RIFF/WAVE file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
