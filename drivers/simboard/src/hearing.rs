//! What a simulated person heard and did during a call, for assertions.
//!
//! The board records the audio the user transmitted to the far end (what the caller or agent
//! heard) and notes of what happened (ring bursts, answer, keys, hangup). [`Hearing::timeline`]
//! analyses the audio with the DSP crate's detectors into a [`Timeline`] of spans: silence,
//! sound, call-progress tones, DTMF digits, caller ID.

use std::fmt;

use tel_types::{CallerId, Digit, ProgressTone};

use crate::profile::Zone;

/// Something that happened on the far end of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoteKind {
    /// The exchange started a ring burst.
    RingBurst,
    /// The exchange finished sending caller ID.
    CallerIdSent,
    /// The call was answered.
    Answered,
    /// The persona gave up while it rang.
    GaveUp,
    /// The persona hung up.
    HungUp,
    /// The board's user hung up (or released the station).
    ReleasedByBoard,
    /// The exchange started sending busy tone after the far end hung up.
    BusyToneStarted,
    /// The persona flashed the hook.
    Flash,
    /// The board's user flashed the hook.
    FlashFromBoard,
}

/// A note with its board time in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// Board time in ms.
    pub at_ms: u64,
    /// What happened.
    pub kind: NoteKind,
}

/// What a persona heard and what happened, for one call.
#[derive(Debug, Clone)]
pub struct Hearing {
    zone: Zone,
    capture: bool,
    audio_start_ms: Option<u64>,
    audio: Vec<i16>,
    notes: Vec<Note>,
}

impl Hearing {
    pub(crate) fn new(zone: Zone, capture: bool) -> Self {
        Self {
            zone,
            capture,
            audio_start_ms: None,
            audio: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Appends one heard frame that started at `at_ms` (gaps are filled with silence).
    pub(crate) fn hear(&mut self, at_ms: u64, pcm: &[i16]) {
        if !self.capture {
            return;
        }
        let start = *self.audio_start_ms.get_or_insert(at_ms);
        let want = ((at_ms - start) * 8) as usize;
        if self.audio.len() < want {
            self.audio.resize(want, 0);
        }
        self.audio.extend_from_slice(pcm);
    }

    pub(crate) fn note(&mut self, at_ms: u64, kind: NoteKind) {
        self.notes.push(Note { at_ms, kind });
    }

    /// The notes, in time order.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// When the first note of `kind` was made.
    pub fn first(&self, kind: NoteKind) -> Option<u64> {
        self.notes.iter().find(|n| n.kind == kind).map(|n| n.at_ms)
    }

    /// How many notes of `kind` there are.
    pub fn count(&self, kind: NoteKind) -> usize {
        self.notes.iter().filter(|n| n.kind == kind).count()
    }

    /// The audio heard (8 kHz linear) and the board time in ms of its first sample.
    pub fn audio(&self) -> (u64, &[i16]) {
        (self.audio_start_ms.unwrap_or(0), &self.audio)
    }

    /// When the persona heard `prompt` (8 kHz linear, at least 200 ms): the board time in ms
    /// where the heard audio's 20 ms level envelope best matches the prompt's, if it matches
    /// within 2 dB on average (through the codec, line gain within ±6 dB). `None` if it was
    /// not heard.
    pub fn heard_prompt(&self, prompt: &[i16]) -> Option<u64> {
        let (t0, audio) = self.audio();
        crate::analysis::find_envelope(audio, prompt).map(|frame| t0 + frame as u64 * 20)
    }

    /// Analyses the heard audio into a timeline with the DSP crate's detectors (DTMF,
    /// the zone's call-progress tones, FSK and DTMF caller ID).
    pub fn timeline(&self) -> Timeline {
        let (t0, audio) = self.audio();
        crate::analysis::analyse(self.zone, t0, audio)
    }
}

/// A class of thing heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Heard {
    /// Audio below −45 dBm0.
    Silence,
    /// Audio above it that no detector classified (speech, a prompt, music).
    Sound,
    /// A call-progress tone.
    Tone(ProgressTone),
    /// A DTMF digit.
    Dtmf(Digit),
    /// A caller-ID message (heard by a phone while it rang).
    CallerId(CallerId),
}

/// One span of the timeline, in board ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Start, board ms.
    pub start_ms: u64,
    /// End, board ms.
    pub end_ms: u64,
    /// What was heard.
    pub what: Heard,
}

impl Span {
    /// Length in ms.
    pub fn len_ms(&self) -> u64 {
        self.end_ms - self.start_ms
    }
}

/// What a persona heard, as spans in time order. Energy spans (silence, sound) tile the
/// whole audio; detector spans (tones, digits, caller ID) overlap them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The spans, ordered by start.
    pub spans: Vec<Span>,
}

impl Timeline {
    /// The first span matching `pred` that starts at or after `after_ms`.
    pub fn find(&self, after_ms: u64, pred: impl Fn(&Heard) -> bool) -> Option<&Span> {
        self.spans
            .iter()
            .find(|s| s.start_ms >= after_ms && pred(&s.what))
    }

    /// The DTMF digits heard, in order.
    pub fn digits(&self) -> String {
        self.spans
            .iter()
            .filter_map(|s| match s.what {
                Heard::Dtmf(d) => Some(d.as_char()),
                _ => None,
            })
            .collect()
    }

    /// The first call-progress tone heard at or after `after_ms`, with its start.
    pub fn tone_after(&self, after_ms: u64) -> Option<(u64, ProgressTone)> {
        self.spans.iter().find_map(|s| match s.what {
            Heard::Tone(t) if s.start_ms >= after_ms => Some((s.start_ms, t)),
            _ => None,
        })
    }

    /// The longest silence starting at or after `after_ms`, in ms.
    pub fn longest_silence_after(&self, after_ms: u64) -> u64 {
        self.spans
            .iter()
            .filter(|s| s.start_ms >= after_ms && s.what == Heard::Silence)
            .map(Span::len_ms)
            .max()
            .unwrap_or(0)
    }

    /// The caller ID heard, if any.
    pub fn caller_id(&self) -> Option<CallerId> {
        self.spans.iter().find_map(|s| match s.what {
            Heard::CallerId(c) => Some(c),
            _ => None,
        })
    }
}

impl fmt::Display for Timeline {
    /// One line per span, e.g. `12.340s +  1.200s Sound`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.spans {
            writeln!(
                f,
                "{:>4}.{:03}s +{:>3}.{:03}s {:?}",
                s.start_ms / 1000,
                s.start_ms % 1000,
                s.len_ms() / 1000,
                s.len_ms() % 1000,
                s.what
            )?;
        }
        Ok(())
    }
}
