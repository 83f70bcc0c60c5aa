//! Plain shared telephony vocabulary for the workspace.
//!
//! Every other crate speaks these types: the drivers (`dahdi`, `simboard`) produce
//! [`LineEvent`]s and move 8 kHz frames through the [`board::VoiceChannel`] contract; the media
//! pipeline turns audio into [`MediaEvent`]s and obeys [`MediaCommand`]s; the IVR engine
//! consumes events and emits commands.
//!
//! # Contract
//!
//! - **Pure.** No I/O, no clocks, no threads. Time is a value ([`SampleTime`]).
//! - **No allocation.** Every type here is `Copy` and fixed-size, so values can cross the
//!   real-time audio thread's lock-free rings without the audio thread ever allocating or
//!   dropping a heap object.
//! - Public enums that may grow are `#[non_exhaustive]`.
//!
//! ```
//! use tel_types::{Digit, SampleTime, FRAME_SAMPLES};
//! let t = SampleTime::ZERO + FRAME_SAMPLES as u64;
//! assert_eq!(t.as_millis(), 20);
//! assert_eq!(Digit::from_char('#'), Some(Digit::Hash));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod board;
mod digit;
mod fixed;
mod line;
mod media;
mod time;

pub use digit::{Digit, DigitSet};
pub use fixed::FixedStr;
pub use line::{Hook, LineEvent};
pub use media::{
    CallerId, CallerIdPresentation, DigitEvent, MediaCommand, MediaEvent, ProgressTone, PromptId,
    RecordingId, Tone,
};
pub use time::SampleTime;

/// Samples per second on every channel: telephony audio is 8 kHz.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Samples per frame: the audio path moves 20 ms frames.
pub const FRAME_SAMPLES: usize = 160;
/// Frame period in milliseconds.
pub const FRAME_MS: u32 = 20;
/// Samples per millisecond.
pub const SAMPLES_PER_MS: u64 = (SAMPLE_RATE_HZ / 1000) as u64;

/// A channel number as the operator sees it (DAHDI channel numbers start at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub u16);

impl core::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ch{}", self.0)
    }
}

/// How 8 kHz samples are coded on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Law {
    /// 16-bit signed linear PCM, little-endian, two bytes per sample.
    Linear,
    /// ITU-T G.711 A-law, one byte per sample (China, Europe).
    #[default]
    ALaw,
    /// ITU-T G.711 µ-law, one byte per sample (North America, Japan).
    MuLaw,
}

impl Law {
    /// Bytes one sample takes on the wire in this coding.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            Self::Linear => 2,
            Self::ALaw | Self::MuLaw => 1,
        }
    }

    /// Bytes one 20 ms frame takes in this coding.
    pub const fn frame_bytes(self) -> usize {
        FRAME_SAMPLES * self.bytes_per_sample()
    }

    /// The byte a zero sample codes to (every byte of a silent block): A-law `0xD5`,
    /// µ-law `0xFF`, linear `0x00`.
    pub const fn silence_byte(self) -> u8 {
        match self {
            Self::Linear => 0x00,
            Self::ALaw => 0xD5,
            Self::MuLaw => 0xFF,
        }
    }
}
