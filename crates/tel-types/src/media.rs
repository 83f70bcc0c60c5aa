//! What the control side tells a channel's media pipeline, and what the pipeline reports.
//!
//! Both enums are `Copy` and fixed-size: they cross per-channel SPSC rings to and from the
//! real-time audio thread, which must never allocate or drop a heap object.

use crate::{ChannelId, Digit, DigitSet, FixedStr, Hook, LineEvent, SampleTime};

/// An index into the daemon's table of pre-decoded prompt audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromptId(pub u16);

/// An index into the daemon's table of recording slots (where a recording tap writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordingId(pub u32);

/// A tone the pipeline can generate on a channel. Zone tones use the channel's tone zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tone {
    /// The zone's dial tone.
    Dial,
    /// The zone's busy tone.
    Busy,
    /// The zone's ringback tone.
    Ringback,
    /// The zone's congestion (reorder) tone.
    Congestion,
    /// The zone's call-waiting tone.
    CallWaiting,
    /// The special information tone (SIT) before an announcement.
    SpecialInfo,
    /// A short beep, e.g. before recording.
    Beep,
    /// One DTMF digit.
    Dtmf(Digit),
}

/// A call-progress tone class recognised on received audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProgressTone {
    /// Dial tone.
    Dial,
    /// Busy tone; on Chinese analog trunks usually the only sign the far end hung up.
    Busy,
    /// Ringback.
    Ringback,
    /// Congestion (reorder).
    Congestion,
    /// Special information tone.
    SpecialInfo,
}

/// How the caller's number is presented in a caller-ID message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CallerIdPresentation {
    /// The number is given.
    #[default]
    Available,
    /// The caller withheld it ('P').
    Private,
    /// The network does not know it ('O').
    Unavailable,
}

/// A decoded caller-ID message (FSK SDMF/MDMF or DTMF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CallerId {
    /// The calling number, digits only (may be empty, see `presentation`).
    pub number: FixedStr<24>,
    /// The calling name, if sent (MDMF only).
    pub name: FixedStr<48>,
    /// Date and time as sent, `MMDDhhmm`, if present.
    pub datetime: FixedStr<8>,
    /// Whether the number was available, private or unavailable.
    pub presentation: CallerIdPresentation,
}

/// A DTMF digit heard in-band, with what the metrics need to judge line quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DigitEvent {
    /// The key.
    pub digit: Digit,
    /// When the tone started.
    pub start: SampleTime,
    /// When the tone ended (or when it was accepted, for events sent at key-down).
    pub end: SampleTime,
    /// Level of the low-group tone in dBm0.
    pub low_dbm0: f32,
    /// Level of the high-group tone in dBm0.
    pub high_dbm0: f32,
    /// Signal-to-noise ratio in dB, as estimated by the receiver.
    pub snr_db: f32,
}

impl DigitEvent {
    /// Twist in dB: high-group level minus low-group level (positive = high group louder).
    pub fn twist_db(&self) -> f32 {
        self.high_dbm0 - self.low_dbm0
    }
}

/// A command from the control side to one channel's media pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaCommand {
    /// Queue a prompt after whatever is already queued. A key in `barge_in` stops the
    /// prompt and everything queued after it.
    Play {
        /// The prompt to play.
        prompt: PromptId,
        /// Keys that stop playback; [`DigitSet::EMPTY`] means the prompt cannot be interrupted.
        barge_in: DigitSet,
    },
    /// Stop the current prompt and clear the queue.
    StopPlayback,
    /// Play a tone until stopped (zone tones follow their cadence), or for `duration_ms`.
    PlayTone {
        /// The tone.
        tone: Tone,
        /// How long, in ms; 0 means until [`MediaCommand::StopTone`].
        duration_ms: u32,
    },
    /// Stop a tone.
    StopTone,
    /// Start writing received audio to a recording slot.
    StartRecording {
        /// Where the audio goes.
        slot: RecordingId,
        /// Stop after this many ms.
        max_ms: u32,
        /// Stop after this much silence, in ms; 0 disables it.
        end_on_silence_ms: u32,
        /// Keys that stop the recording.
        stop_keys: DigitSet,
    },
    /// Stop the current recording.
    StopRecording,
    /// Connect this channel's audio both ways with another channel.
    Bridge(ChannelId),
    /// Undo [`MediaCommand::Bridge`].
    Unbridge,
    /// Change the hook state (answer, hang up, flash, ring a station).
    SetHook(Hook),
    /// Send caller ID on a station port with the next ring (FSK or DTMF per the board profile).
    SendCallerId(CallerId),
    /// Forget digits heard so far (type-ahead) that the control side has not consumed.
    FlushDigits,
}

/// An event from one channel's media pipeline (or its board) to the control side.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// A line-signalling event from the board, stamped with the channel's sample time.
    Line {
        /// When the audio thread saw it.
        at: SampleTime,
        /// What the board reported.
        event: LineEvent,
    },
    /// A DTMF digit was heard.
    Digit(DigitEvent),
    /// A call-progress tone was recognised (a busy tone means the far end hung up).
    Progress {
        /// When the classification became certain.
        at: SampleTime,
        /// The tone.
        tone: ProgressTone,
    },
    /// A caller-ID message was decoded.
    CallerId {
        /// When it was decoded.
        at: SampleTime,
        /// The message.
        caller_id: CallerId,
    },
    /// A prompt finished or was stopped.
    PlaybackDone {
        /// The prompt.
        prompt: PromptId,
        /// Samples of it that were played.
        played_samples: u32,
        /// The key that stopped it, if barge-in did.
        barged_in_by: Option<Digit>,
    },
    /// A recording ended.
    RecordingDone {
        /// The slot it was written to.
        slot: RecordingId,
        /// Samples recorded.
        samples: u32,
        /// The key that stopped it, if one did.
        stopped_by: Option<Digit>,
    },
    /// Received audio went from voice to silence.
    Silence {
        /// When the silence started.
        at: SampleTime,
    },
    /// Received audio went from silence to voice.
    Voice {
        /// When the voice started.
        at: SampleTime,
    },
    /// Events were dropped because the ring to the control side was full.
    EventsLost {
        /// How many.
        count: u32,
    },
}
