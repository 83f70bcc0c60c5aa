//! The receivers on received audio: DTMF, call progress, caller ID, level/voice.

use dsp::dtmf_rx::{DtmfEvent, DtmfReceiver};
use dsp::level::{VadEvent, VoiceDetector};
use dsp::progress::CallProgressDetector;
use tel_types::{CallerId, DigitEvent, ProgressTone, SampleTime};

use crate::Frame;
use crate::fifo::Fifo;

/// Most detections one frame can hold before they are taken.
const MAX_PER_FRAME: usize = 8;

/// One thing the receivers found in a frame.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // CallerId comes with the dsp receiver still to merge.
pub(crate) enum Detected {
    /// A key was accepted (`end` is the time of acceptance).
    Digit(DigitEvent),
    /// The key ended (`end` is when its tone stopped).
    DigitUp(DigitEvent),
    Progress(SampleTime, ProgressTone),
    CallerId(SampleTime, CallerId),
    Silence(SampleTime),
    Voice(SampleTime),
}

/// The receive-side detector bank of one channel.
#[derive(Debug)]
pub(crate) struct Receivers {
    dtmf: DtmfReceiver,
    progress: Option<CallProgressDetector>,
    vad: VoiceDetector,
    silence_since: Option<SampleTime>,
    started: bool,
    found: Fifo<Detected, MAX_PER_FRAME>,
}

impl Receivers {
    pub(crate) fn new(config: &crate::Config) -> Self {
        Self {
            dtmf: DtmfReceiver::new(config.dtmf_rx),
            progress: config
                .progress_detection
                .then(|| CallProgressDetector::new(config.zone)),
            vad: VoiceDetector::new(config.vad),
            silence_since: None,
            started: false,
            found: Fifo::new(),
        }
    }

    /// Runs every receiver over one frame; what they found waits for [`Receivers::poll`].
    pub(crate) fn process(&mut self, now: SampleTime, rx: &Frame) {
        if !self.started {
            self.started = true;
            self.silence_since = Some(now);
        }
        self.dtmf.process(rx, now);
        while let Some(ev) = self.dtmf.poll_event() {
            self.put(match ev {
                DtmfEvent::Down(d) => Detected::Digit(d),
                DtmfEvent::Up(d) => Detected::DigitUp(d),
            });
        }
        // Call progress; its silence/voice classes are left to the voice detector.
        if let Some(ev) = self.progress.as_mut().and_then(|p| p.process(rx, now)) {
            if let Some(tone) = ev.tone.progress_tone() {
                self.put(Detected::Progress(ev.at, tone));
            }
        }
        match self.vad.process(rx, now) {
            Some(VadEvent::Voice(at)) => {
                self.silence_since = None;
                self.put(Detected::Voice(at));
            }
            Some(VadEvent::Silence(at)) => {
                self.silence_since = Some(at);
                self.put(Detected::Silence(at));
            }
            None => {}
        }
    }

    /// Something a receiver found, oldest first.
    pub(crate) fn poll(&mut self) -> Option<Detected> {
        self.found.pop()
    }

    /// Keeps a detection; more than a frame's worth (which the receivers cannot produce)
    /// would be dropped.
    fn put(&mut self, d: Detected) {
        let _ = self.found.push(d);
    }

    pub(crate) fn flush(&mut self, _now: SampleTime) {}

    /// When the current stretch of silence began; `None` while there is voice.
    pub(crate) fn silence_since(&self) -> Option<SampleTime> {
        self.silence_since
    }
}
