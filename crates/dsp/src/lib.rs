//! `dsp`: the signal layer. Everything the IVR hears and says passes through here.
//!
//! - [`g711`]: A-law and µ-law, bit-exact with ITU-T G.711, with slice APIs.
//! - [`dtmf_gen`], [`tone`], [`zones`]: DTMF and call-progress tone generation, with the tone
//!   zones of a dozen countries (`cn` by default).
//! - [`dtmf_rx`]: the DTMF receiver (ITU-T Q.24 limits, talk-off protected).
//! - [`progress`]: call-progress tones (busy, ringback, congestion, dial, SIT) with cadence.
//! - [`fsk`], [`callerid`]: 1200 baud FSK (Bell 202, V.23) and caller ID (SDMF/MDMF, DTMF
//!   forms), receive and send.
//! - [`wav`]: a borrowing WAV parser for linear, A-law and µ-law files.
//! - [`level`]: dBm0 levels (the convention every module uses), a level meter and a
//!   silence/voice detector.
//!
//! # Contract
//!
//! - **Pure and sans-IO.** No I/O, clocks or threads. Time is a [`tel_types::SampleTime`]
//!   passed in by the caller (8 kHz sample counts); tests run in virtual time.
//! - **No allocation after construction.** Constructors may allocate; every `process`/`fill`
//!   call works in place on caller-provided slices and returns results by value.
//! - **Single-threaded values.** Each detector or generator belongs to one channel; they are
//!   `Send` and can be moved to the audio thread.
//! - **Levels** are in dBm0 per [`level`]'s convention (a sine of peak 32767 is +3.14 dBm0).
//!
//! ```
//! use dsp::{dtmf_gen::{DtmfGenerator, DtmfGenConfig}, g711};
//! let mut generator = DtmfGenerator::new(DtmfGenConfig::default());
//! generator.push_str("5");
//! let mut linear = [0i16; 160];
//! generator.fill(&mut linear);
//! let mut alaw = [0u8; 160];
//! g711::alaw_encode_slice(&linear, &mut alaw);
//! assert!(alaw.iter().any(|&c| c != 0xD5));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// DSP loops index several parallel arrays (tables, accumulators) by the same sample or
// frequency number; iterator chains would hide that.
#![allow(clippy::needless_range_loop)]

pub mod callerid;
pub mod dtmf_gen;
pub mod dtmf_rx;
pub mod fsk;
pub mod g711;
pub mod level;
pub mod progress;
pub mod tone;
pub mod wav;
pub mod zones;

mod trig;

#[cfg(test)]
mod contract {
    fn send<T: Send + 'static>() {}

    #[test]
    fn detectors_and_generators_can_move_to_the_audio_thread() {
        send::<crate::dtmf_rx::DtmfReceiver>();
        send::<crate::progress::CallProgressDetector>();
        send::<crate::callerid::CallerIdReceiver>();
        send::<crate::callerid::CallerIdSender>();
        send::<crate::level::VoiceDetector>();
        send::<crate::level::LevelMeter>();
        send::<crate::dtmf_gen::DtmfGenerator>();
        send::<crate::tone::ToneGenerator>();
    }
}
