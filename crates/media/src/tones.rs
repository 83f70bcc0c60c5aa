//! Tone generation on the transmit path: zone tones, DTMF, beep.

use tel_types::{SampleTime, Tone};

use crate::Frame;

/// The tone (if any) being mixed into transmitted audio.
#[derive(Debug)]
pub(crate) struct ToneSource {
    active: Option<(Tone, u64)>,
}

impl ToneSource {
    pub(crate) fn new(_config: &crate::Config) -> Self {
        Self { active: None }
    }

    /// Starts `tone` for `samples` samples (0: until stopped).
    pub(crate) fn start(&mut self, tone: Tone, samples: u64) {
        self.active = Some((tone, samples));
    }

    pub(crate) fn stop(&mut self) {
        self.active = None;
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active.is_some()
    }

    pub(crate) fn mix_into(&mut self, _now: SampleTime, _tx: &mut Frame) {}
}
