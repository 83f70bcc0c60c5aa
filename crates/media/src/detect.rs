//! The receivers on received audio: DTMF, call progress, caller ID, level/voice.

use dsp::callerid::{CallerIdReceiver, DtmfCallerIdParser};
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
    fsk_caller_id: Option<CallerIdReceiver>,
    fsk_modem: Option<dsp::fsk::FskModem>,
    zone: &'static dsp::zones::ToneZone,
    dtmf_caller_id: DtmfCallerIdParser,
    /// Caller ID is listened for only while the line is on-hook (between rings).
    on_hook: bool,
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
            fsk_caller_id: config.caller_id_fsk.map(CallerIdReceiver::new),
            fsk_modem: config.caller_id_fsk,
            zone: config.zone,
            dtmf_caller_id: DtmfCallerIdParser::default(),
            on_hook: true,
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
            match ev {
                DtmfEvent::Down(d) => {
                    self.put(Detected::Digit(d));
                    // Keys before the first ring may be DTMF caller ID (`D…C`, `A…#`).
                    if self.on_hook {
                        if let Some(cid) = self.dtmf_caller_id.push(d.digit) {
                            self.put(Detected::CallerId(d.end, cid));
                        }
                    }
                }
                DtmfEvent::Up(d) => self.put(Detected::DigitUp(d)),
            }
        }
        if self.on_hook {
            if let Some(ev) = self.fsk_caller_id.as_mut().and_then(|c| c.process(rx, now)) {
                self.put(Detected::CallerId(ev.at, ev.caller_id));
            }
        }
        // Call progress (off-hook only: an idle line carries no tones; the detector starts
        // afresh at the next off-hook); its silence/voice classes are left to the voice
        // detector.
        let progress = if self.on_hook {
            None
        } else {
            self.progress.as_mut()
        };
        if let Some(ev) = progress.and_then(|p| p.process(rx, now)) {
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

    /// The hook state we asked the board for: caller ID is received only on-hook.
    pub(crate) fn set_on_hook(&mut self, on_hook: bool) {
        if on_hook != self.on_hook {
            self.dtmf_caller_id.reset();
        }
        self.on_hook = on_hook;
    }

    /// New line settings (a reload, applied while the channel is idle): busy-tone
    /// detection on or off, FSK caller ID with another modem or none.
    ///
    /// # Real-time
    /// Does not allocate: the detectors are plain fixed-size state.
    pub(crate) fn set_line(&mut self, progress: bool, fsk: Option<dsp::fsk::FskModem>) {
        if progress != self.progress.is_some() {
            self.progress = progress.then(|| CallProgressDetector::new(self.zone));
        }
        if fsk != self.fsk_modem {
            self.fsk_modem = fsk;
            self.fsk_caller_id = fsk.map(CallerIdReceiver::new);
        }
    }

    /// When the current stretch of silence began; `None` while there is voice.
    pub(crate) fn silence_since(&self) -> Option<SampleTime> {
        self.silence_since
    }
}
