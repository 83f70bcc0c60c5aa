//! A WAV (RIFF) parser for telephony audio: 16-bit linear PCM, A-law (format 6) and µ-law
//! (format 7). It borrows the input bytes and never allocates, so it suits prompt loading
//! and the `ivrd decode` tool alike; reading the file is the caller's business.
//!
//! ```
//! use dsp::wav::{parse, Encoding};
//! // A 2-sample A-law file built by hand.
//! let mut f = b"RIFF\0\0\0\0WAVEfmt \x12\0\0\0\x06\0\x01\0\x40\x1f\0\0\x40\x1f\0\0\x01\0\x08\0\0\0".to_vec();
//! f.extend_from_slice(b"data\x02\0\0\0\xd5\x55");
//! let w = parse(&f).unwrap();
//! assert_eq!((w.encoding, w.sample_rate, w.channels), (Encoding::ALaw, 8000, 1));
//! let mut out = [0i16; 2];
//! assert_eq!(w.decode_into(&mut out), 2);
//! assert_eq!(out, [8, -8]);
//! ```

use core::fmt;

/// How the samples in the `data` chunk are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed little-endian PCM (format 1, or extensible with a PCM subformat).
    Linear16,
    /// G.711 A-law (format 6).
    ALaw,
    /// G.711 µ-law (format 7).
    MuLaw,
}

impl Encoding {
    /// The matching channel coding.
    pub fn law(self) -> tel_types::Law {
        match self {
            Self::Linear16 => tel_types::Law::Linear,
            Self::ALaw => tel_types::Law::ALaw,
            Self::MuLaw => tel_types::Law::MuLaw,
        }
    }
}

/// A parsed WAV file, borrowing its sample bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wav<'a> {
    /// Sample coding.
    pub encoding: Encoding,
    /// Samples per second.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// The `data` chunk (whole frames only).
    pub data: &'a [u8],
}

impl Wav<'_> {
    /// Number of sample frames.
    pub fn frames(&self) -> usize {
        let bps = match self.encoding {
            Encoding::Linear16 => 2,
            _ => 1,
        };
        self.data.len() / (bps * self.channels.max(1) as usize)
    }

    /// Whether this is telephony audio as the IVR uses it: 8 kHz, one channel.
    pub fn check_telephony(&self) -> Result<(), WavError> {
        if self.sample_rate != 8000 {
            return Err(WavError::SampleRate(self.sample_rate));
        }
        if self.channels != 1 {
            return Err(WavError::Channels(self.channels));
        }
        Ok(())
    }

    /// Decodes the first channel to linear samples into `out`; returns how many were written.
    pub fn decode_into(&self, out: &mut [i16]) -> usize {
        let ch = self.channels.max(1) as usize;
        let n = self.frames().min(out.len());
        match self.encoding {
            Encoding::Linear16 => {
                for (i, o) in out[..n].iter_mut().enumerate() {
                    let b = &self.data[i * 2 * ch..];
                    *o = i16::from_le_bytes([b[0], b[1]]);
                }
            }
            Encoding::ALaw => {
                for (i, o) in out[..n].iter_mut().enumerate() {
                    *o = crate::g711::ALAW_TO_LINEAR[self.data[i * ch] as usize];
                }
            }
            Encoding::MuLaw => {
                for (i, o) in out[..n].iter_mut().enumerate() {
                    *o = crate::g711::ULAW_TO_LINEAR[self.data[i * ch] as usize];
                }
            }
        }
        n
    }
}

/// Why a WAV file cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WavError {
    /// Not a RIFF/WAVE file.
    NotWav,
    /// The file ends inside a chunk header or the format chunk.
    Truncated,
    /// No `fmt ` chunk before the `data` chunk.
    NoFormat,
    /// No `data` chunk.
    NoData,
    /// A coding other than 16-bit PCM, A-law or µ-law (format tag, bits per sample).
    Unsupported {
        /// The WAVE format tag.
        format: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// Not 8000 samples per second.
    SampleRate(u32),
    /// Not mono.
    Channels(u16),
}

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotWav => write!(f, "not a RIFF/WAVE file"),
            Self::Truncated => write!(f, "file is truncated"),
            Self::NoFormat => write!(f, "no fmt chunk before the data"),
            Self::NoData => write!(f, "no data chunk"),
            Self::Unsupported { format, bits } => write!(
                f,
                "unsupported coding (format tag {format}, {bits} bits); need 16-bit PCM, A-law or µ-law"
            ),
            Self::SampleRate(r) => write!(f, "sample rate is {r} Hz, need 8000 Hz"),
            Self::Channels(c) => write!(f, "{c} channels, need mono"),
        }
    }
}

impl std::error::Error for WavError {}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
        *b.get(i + 2)?,
        *b.get(i + 3)?,
    ]))
}

/// Parses a WAV file held in memory. A `data` chunk whose declared size runs past the end of
/// the file (as streaming writers leave it) is taken up to the end of the file.
pub fn parse(bytes: &[u8]) -> Result<Wav<'_>, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav);
    }
    let mut pos = 12;
    let mut fmt: Option<(Encoding, u16, u32)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(bytes, pos + 4).ok_or(WavError::Truncated)? as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let f = bytes
                .get(body..body + size.min(40))
                .ok_or(WavError::Truncated)?;
            if f.len() < 16 {
                return Err(WavError::Truncated);
            }
            let mut tag = u16_at(f, 0).ok_or(WavError::Truncated)?;
            let channels = u16_at(f, 2).ok_or(WavError::Truncated)?;
            let rate = u32_at(f, 4).ok_or(WavError::Truncated)?;
            let bits = u16_at(f, 14).ok_or(WavError::Truncated)?;
            if tag == 0xFFFE {
                // WAVE_FORMAT_EXTENSIBLE: the real tag starts the subformat GUID.
                tag = u16_at(f, 24).ok_or(WavError::Truncated)?;
            }
            let enc = match (tag, bits) {
                (1, 16) => Encoding::Linear16,
                (6, 8) => Encoding::ALaw,
                (7, 8) => Encoding::MuLaw,
                (format, bits) => return Err(WavError::Unsupported { format, bits }),
            };
            fmt = Some((enc, channels, rate));
        } else if id == b"data" {
            let (encoding, channels, sample_rate) = fmt.ok_or(WavError::NoFormat)?;
            let end = body.saturating_add(size).min(bytes.len());
            let mut w = Wav {
                encoding,
                sample_rate,
                channels,
                data: &bytes[body..end],
            };
            let frame = match encoding {
                Encoding::Linear16 => 2,
                _ => 1,
            } * channels.max(1) as usize;
            w.data = &w.data[..w.data.len() / frame * frame];
            return Ok(w);
        }
        pos = body.saturating_add(size + (size & 1));
    }
    Err(if fmt.is_none() {
        WavError::NoFormat
    } else {
        WavError::NoData
    })
}

/// Writes a mono 8 kHz WAV header for `data_bytes` of `encoding` into `out` (44 bytes for
/// linear, 46 for G.711 with its `cbSize`). Returns the header length.
pub fn write_header(encoding: Encoding, data_bytes: u32, out: &mut [u8; 46]) -> usize {
    let (tag, bits, fmt_len): (u16, u16, u32) = match encoding {
        Encoding::Linear16 => (1, 16, 16),
        Encoding::ALaw => (6, 8, 18),
        Encoding::MuLaw => (7, 8, 18),
    };
    let bytes_per_sec = 8000 * (bits as u32 / 8);
    let hdr = 20 + fmt_len as usize + 8;
    out[0..4].copy_from_slice(b"RIFF");
    out[4..8].copy_from_slice(&(hdr as u32 - 8 + data_bytes).to_le_bytes());
    out[8..12].copy_from_slice(b"WAVE");
    out[12..16].copy_from_slice(b"fmt ");
    out[16..20].copy_from_slice(&fmt_len.to_le_bytes());
    out[20..22].copy_from_slice(&tag.to_le_bytes());
    out[22..24].copy_from_slice(&1u16.to_le_bytes());
    out[24..28].copy_from_slice(&8000u32.to_le_bytes());
    out[28..32].copy_from_slice(&bytes_per_sec.to_le_bytes());
    out[32..34].copy_from_slice(&(bits / 8).to_le_bytes());
    out[34..36].copy_from_slice(&bits.to_le_bytes());
    let mut p = 36;
    if fmt_len == 18 {
        out[36..38].copy_from_slice(&0u16.to_le_bytes());
        p = 38;
    }
    out[p..p + 4].copy_from_slice(b"data");
    out[p + 4..p + 8].copy_from_slice(&data_bytes.to_le_bytes());
    p + 8
}
