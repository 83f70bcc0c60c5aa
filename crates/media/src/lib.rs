//! `media`: the per-channel real-time audio pipeline (pure, sans-IO).
//!
//! [`channel`] builds one channel's two halves:
//!
//! - a [`Pipeline`] for the **audio thread**, called once per 20 ms frame with the received
//!   frame, filling the frame to transmit: law decode, the receivers (DTMF, call progress,
//!   caller ID, level/voice), DTMF clamping, the recording tap, prompt playback with barge-in,
//!   tones, bridging, gain and the supervisor listen tap. Boards with a shorter I/O block
//!   (DAHDI's 10 ms) call [`Pipeline::process_block`] per block instead: the receivers
//!   still see whole frames, the transmit side is built per block, so a command takes
//!   effect within one block;
//! - a [`ControlHandle`] for the **control thread**: [`ControlHandle::try_send`] of
//!   [`MediaCommand`]s and [`ControlHandle::poll_event`] of [`MediaEvent`]s.
//!
//! # Contract
//!
//! - **Threads.** The two halves talk only through SPSC rings from `ringbuf` (commands in,
//!   events out, tap frames out) and relaxed atomic counters. No locks anywhere.
//! - **Allocation.** Everything is allocated in [`channel`]. Nothing the audio thread calls
//!   on a [`Pipeline`] allocates or frees memory, locks, blocks or logs; `tests/no_alloc.rs`
//!   proves it with a counting allocator. A full ring is never a panic and loses nothing
//!   that matters: a command that does not fit waits in the [`ControlHandle`]'s backlog
//!   ([`ControlHandle::send`], pushed again in order by [`ControlHandle::pump`]); an event
//!   that does not fit waits in one of the pipeline's fixed slots if it is a hook change,
//!   a fault, a hang-up signal or a playback/recording completion (coalesced to the latest
//!   of its kind), and anything else is counted and reported as [`MediaEvent::EventsLost`]
//!   (lost digits also in [`Stats::digits_lost`], so the control side can treat the
//!   caller's input as unreliable).
//! - **Prompts** are a pre-decoded `&'static` [`PromptTable`] built before the loop: the
//!   audio thread only borrows it and never drops it.
//! - **Time** is an argument: each frame carries its [`SampleTime`]; events are stamped
//!   with it. There is no clock here, so tests run in virtual time.
//! - **I/O** is the caller's: hook changes and bridges the pipeline wants come out of
//!   [`Pipeline::poll_line_control`] for the loop to apply to the board.
//!
//! ```
//! use media::{Config, PromptTable};
//! use tel_types::{ChannelId, DigitSet, Law, MediaCommand, MediaEvent, SampleTime};
//!
//! let mut table = PromptTable::new();
//! let welcome = table.push(&[1000; 400]);
//! let prompts: &'static PromptTable = Box::leak(Box::new(table));
//!
//! let mut config = Config::new(ChannelId(1), prompts);
//! config.law = Law::Linear;
//! let (mut pipe, mut ctl) = media::channel(config);
//! ctl.try_send(MediaCommand::Play { prompt: welcome, barge_in: DigitSet::ALL }).unwrap();
//!
//! let (rx, mut tx) = ([0i16; 160], [0i16; 160]);
//! let mut now = SampleTime::ZERO;
//! for _ in 0..3 {
//!     pipe.process(now, &rx, &mut tx, None);
//!     now += 160;
//! }
//! assert_eq!(
//!     ctl.poll_event(),
//!     Some(MediaEvent::PlaybackDone { prompt: welcome, played_samples: 400, barged_in_by: None })
//! );
//!
//! // 10 ms blocks: a prompt sent between two blocks starts with the next one.
//! let (rx, mut tx) = ([0i16; 80], [0i16; 80]);
//! pipe.process_block(now, &rx, &mut tx, None);
//! ctl.try_send(MediaCommand::Play { prompt: welcome, barge_in: DigitSet::ALL }).unwrap();
//! pipe.process_block(now + 80, &rx, &mut tx, None);
//! assert_eq!(tx, [1000; 80]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clamp;
mod codec;
mod control;
mod detect;
mod fifo;
mod gain;
mod pipeline;
mod prompt;
mod tap;
mod tones;

use std::collections::VecDeque;
use std::sync::Arc;

use dsp::dtmf_gen::DtmfGenConfig;
use dsp::dtmf_rx::DtmfConfig;
use dsp::fsk::FskModem;
use dsp::level::VadConfig;
use dsp::zones::ToneZone;
use ringbuf::HeapRb;
use ringbuf::traits::Split;
use tel_types::{ChannelId, Law};

pub use control::{ControlHandle, LineSettings, SendError, Sent, Stats};
pub use gain::Gain;
pub use pipeline::{Frame, LineControl, Pipeline};
pub use prompt::PromptTable;
pub use tap::{TapConsumer, TapFrame};
pub use tel_types::{MediaCommand, MediaEvent, SampleTime};

/// How to build one channel's pipeline.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The channel.
    pub id: ChannelId,
    /// How the board codes frames ([`Pipeline::process_coded`]).
    pub law: Law,
    /// The pre-decoded prompts, shared by every channel.
    pub prompts: &'static PromptTable,
    /// Commands the control side can queue before the audio thread takes them.
    pub command_capacity: usize,
    /// Events the audio thread can queue before the control side takes them.
    pub event_capacity: usize,
    /// Frames the recording tap ring holds (0: no recording on this channel).
    pub record_tap_frames: usize,
    /// Frames the listen tap ring holds (0: no listen-in on this channel).
    pub listen_tap_frames: usize,
    /// Gain on transmitted audio.
    pub tx_gain: Gain,
    /// Gain on received audio (before the receivers).
    pub rx_gain: Gain,
    /// Mute DTMF keys in recorded, bridged and listened-to audio (costs 40 ms of delay
    /// there; playback and detection are not delayed).
    pub dtmf_clamp: bool,
    /// The DTMF receiver's limits (ITU-T Q.24 by default).
    pub dtmf_rx: DtmfConfig,
    /// Run the call-progress detector (busy tone = far-end hangup on trunks). Station ports,
    /// whose phones signal on-hook themselves, can turn it off to save CPU.
    pub progress_detection: bool,
    /// The FSK caller-ID receiver's modem (`None`: no FSK caller ID). It listens only while
    /// the line is on-hook; DTMF caller ID before the first ring is always recognised.
    pub caller_id_fsk: Option<FskModem>,
    /// The tone zone for generated tones (and the call-progress detector).
    pub zone: &'static ToneZone,
    /// Level of generated zone tones, dBm0 per frequency.
    pub tone_level_dbm0: f32,
    /// Timing and levels of generated DTMF.
    pub dtmf_tx: DtmfGenConfig,
    /// The silence/voice detector's settings.
    pub vad: VadConfig,
}

impl Config {
    /// Defaults: A-law, 32 commands, 128 events, 1 s of recording tap, 0.5 s of listen tap,
    /// unity gains, DTMF clamping on, tone zone `cn` at -10 dBm0, call progress on, V.23 FSK
    /// caller ID, `dsp`'s DTMF and VAD defaults.
    pub fn new(id: ChannelId, prompts: &'static PromptTable) -> Self {
        Self {
            id,
            law: Law::ALaw,
            prompts,
            command_capacity: 32,
            event_capacity: 128,
            record_tap_frames: 50,
            listen_tap_frames: 25,
            tx_gain: Gain::UNITY,
            rx_gain: Gain::UNITY,
            dtmf_clamp: true,
            dtmf_rx: DtmfConfig::default(),
            progress_detection: true,
            caller_id_fsk: Some(FskModem::V23),
            zone: ToneZone::default_zone(),
            tone_level_dbm0: -10.0,
            dtmf_tx: DtmfGenConfig::default(),
            vad: VadConfig::default(),
        }
    }
}

/// Builds one channel: the [`Pipeline`] for the audio thread and the [`ControlHandle`] for
/// the control thread. All memory either side will use is allocated here.
///
/// # Panics
/// If `command_capacity` or `event_capacity` is 0.
pub fn channel(config: Config) -> (Pipeline, ControlHandle) {
    assert!(config.command_capacity > 0 && config.event_capacity > 0);
    let (cmd_prod, cmd_cons) = HeapRb::new(config.command_capacity).split();
    let (ev_prod, ev_cons) = HeapRb::new(config.event_capacity).split();
    let counters = Arc::new(control::Counters::default());
    let tap = |frames: usize| {
        if frames == 0 {
            return (None, None);
        }
        let (prod, cons) = HeapRb::new(frames).split();
        (Some(tap::TapProducer { prod }), Some(TapConsumer { cons }))
    };
    let (record_prod, record_cons) = tap(config.record_tap_frames);
    let (listen_prod, listen_cons) = tap(config.listen_tap_frames);
    let pipe = Pipeline::new(
        &config,
        pipeline::Parts {
            commands: cmd_cons,
            events: ev_prod,
            counters: Arc::clone(&counters),
            record_tap: record_prod,
            listen_tap: listen_prod,
        },
    );
    let handle = ControlHandle {
        id: config.id,
        commands: cmd_prod,
        events: ev_cons,
        counters,
        record_tap: record_cons,
        listen_tap: listen_cons,
        held: VecDeque::with_capacity(config.event_capacity),
        backlog: VecDeque::new(),
        deferred: 0,
    };
    (pipe, handle)
}
