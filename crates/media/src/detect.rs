//! The receivers on received audio: DTMF, call progress, caller ID, level/voice.

use tel_types::{CallerId, DigitEvent, ProgressTone, SampleTime};

use crate::Frame;

/// Most detections one frame can produce.
pub(crate) const MAX_PER_FRAME: usize = 8;

/// One thing the receivers found in a frame.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Detected {
    None,
    Digit(DigitEvent),
    Progress(SampleTime, ProgressTone),
    CallerId(SampleTime, CallerId),
    Silence(SampleTime),
    Voice(SampleTime),
}

/// The receive-side detector bank of one channel.
#[derive(Debug)]
pub(crate) struct Receivers {
    voice: bool,
}

impl Receivers {
    pub(crate) fn new(_config: &crate::Config) -> Self {
        Self { voice: false }
    }

    /// Runs every receiver over one frame; writes what they found to `out`, returns how many.
    pub(crate) fn process(
        &mut self,
        _now: SampleTime,
        _rx: &Frame,
        _tx: &Frame,
        _playing: bool,
        _out: &mut [Detected; MAX_PER_FRAME],
    ) -> usize {
        0
    }

    pub(crate) fn flush(&mut self, _now: SampleTime) {}

    pub(crate) fn is_voice(&self) -> bool {
        self.voice
    }

    pub(crate) fn dtmf_present(&self) -> bool {
        false
    }
}
