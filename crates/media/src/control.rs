//! The control thread's side of a channel: commands in, events out, counters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringbuf::traits::{Consumer, Producer};
use ringbuf::{HeapCons, HeapProd};
use tel_types::{ChannelId, MediaCommand, MediaEvent};

use dsp::fsk::FskModem;

use crate::Gain;
use crate::tap::TapConsumer;

/// What crosses the command ring: the public [`MediaCommand`]s plus the few settings only
/// the daemon changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Command {
    Media(MediaCommand),
    Listen(bool),
    TxGain(Gain),
    RxGain(Gain),
    Line(LineSettings),
    Prompts(&'static crate::PromptTable),
}

/// A channel's line settings that a reload can change while the daemon runs: gains and the
/// receivers that depend on the line (busy tone, FSK caller ID). Sent with
/// [`ControlHandle::send_line_settings`]; the daemon sends them only while the channel is idle.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LineSettings {
    /// Gain on received audio (before the receivers).
    pub rx_gain: Gain,
    /// Gain on transmitted audio.
    pub tx_gain: Gain,
    /// Run the call-progress detector (busy tone = far-end hangup).
    pub progress_detection: bool,
    /// The FSK caller-ID receiver's modem (`None`: no FSK caller ID).
    pub caller_id_fsk: Option<FskModem>,
}

impl LineSettings {
    /// Settings from their parts.
    pub fn new(
        rx_gain: Gain,
        tx_gain: Gain,
        progress_detection: bool,
        caller_id_fsk: Option<FskModem>,
    ) -> Self {
        Self {
            rx_gain,
            tx_gain,
            progress_detection,
            caller_id_fsk,
        }
    }

    /// The settings a [`crate::Config`] starts a channel with.
    pub fn from_config(config: &crate::Config) -> Self {
        Self {
            rx_gain: config.rx_gain,
            tx_gain: config.tx_gain,
            progress_detection: config.progress_detection,
            caller_id_fsk: config.caller_id_fsk,
        }
    }
}

/// Counters the audio thread bumps with relaxed atomics and the control thread reads.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Written only by the pipeline's thread (load and store, no locked add).
    pub(crate) frames: AtomicU64,
    pub(crate) events_lost: AtomicU64,
    pub(crate) record_frames_dropped: AtomicU64,
    pub(crate) listen_frames_dropped: AtomicU64,
    pub(crate) line_control_dropped: AtomicU64,
    pub(crate) bad_commands: AtomicU64,
    pub(crate) tx_underruns: AtomicU64,
    pub(crate) digits_lost: AtomicU64,
    pub(crate) held_events: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }
}

/// A snapshot of one channel's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Frames processed.
    pub frames: u64,
    /// Events dropped because the event ring was full.
    pub events_lost: u64,
    /// Recording frames dropped because the writer fell behind.
    pub record_frames_dropped: u64,
    /// Listen-tap frames dropped because the listener fell behind.
    pub listen_frames_dropped: u64,
    /// Hook/bridge requests dropped because the loop did not collect them.
    pub line_control_dropped: u64,
    /// Commands refused: unknown prompt, full prompt queue, recording without a tap.
    pub bad_commands: u64,
    /// Frames where the loop had no transmit frame for the board in time (reported by the
    /// loop through [`crate::Pipeline::count_tx_underrun`]).
    pub tx_underruns: u64,
    /// Of [`Stats::events_lost`], the DTMF digits: input the caller typed and the control
    /// side never saw (the daemon treats it as an input error of the call).
    pub digits_lost: u64,
    /// Events that found the ring full but were kept in the pipeline's fixed per-channel
    /// slots (hook changes, faults, hang-up signals, playback and recording completions)
    /// and delivered once there was room, coalesced to the latest of each kind.
    pub held_events: u64,
}

/// What [`ControlHandle::send`] did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Sent {
    /// It is in the ring.
    Now,
    /// The ring was full (or older commands wait): it waits in the handle's backlog and
    /// goes out, in order, with [`ControlHandle::pump`].
    Deferred,
}

/// Why [`ControlHandle::try_send`] refused a command.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SendError {
    /// The command ring is full (the audio thread is behind); the command is handed back.
    Full(MediaCommand),
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Full(cmd) => write!(f, "command ring full, dropped {cmd:?}"),
        }
    }
}

impl std::error::Error for SendError {}

/// The control thread's end of one channel's pipeline.
///
/// Sends [`MediaCommand`]s and receives [`MediaEvent`]s over lock-free SPSC rings. Lives on
/// one thread at a time (it is `Send`, not `Sync`). Methods here may allocate: this is not
/// the audio thread.
pub struct ControlHandle {
    pub(crate) id: ChannelId,
    pub(crate) commands: HeapProd<Command>,
    pub(crate) events: HeapCons<MediaEvent>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) record_tap: Option<TapConsumer>,
    pub(crate) listen_tap: Option<TapConsumer>,
    pub(crate) held: VecDeque<MediaEvent>,
    /// Commands that did not fit the ring, oldest first (sent again by
    /// [`ControlHandle::pump`]).
    pub(crate) backlog: VecDeque<Command>,
    /// Commands that ever had to wait in the backlog.
    pub(crate) deferred: u64,
}

impl ControlHandle {
    /// The channel this handle controls.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// Queues a command for the audio thread without blocking.
    ///
    /// [`MediaCommand::FlushDigits`] is carried out here as well: digit events already in the
    /// event ring and not yet taken are dropped (other events keep their order).
    ///
    /// # Errors
    /// [`SendError::Full`] if the ring is full; the caller counts it and decides (the
    /// daemon hangs up that call).
    pub fn try_send(&mut self, cmd: MediaCommand) -> Result<(), SendError> {
        if matches!(cmd, MediaCommand::FlushDigits) {
            self.flush_digit_events();
        }
        self.commands
            .try_push(Command::Media(cmd))
            .map_err(|_| SendError::Full(cmd))
    }

    /// Queues a command for the audio thread; it is never lost. If the ring is full, or
    /// earlier commands are still waiting, it waits in this handle's backlog (which may
    /// allocate: this is the control thread) and [`ControlHandle::pump`] moves it into the
    /// ring once the audio thread has made room, in order. Returns [`Sent::Deferred`] then.
    ///
    /// [`MediaCommand::FlushDigits`] drops the digit events not yet taken at the time of
    /// this call, as with [`ControlHandle::try_send`].
    pub fn send(&mut self, cmd: MediaCommand) -> Sent {
        if matches!(cmd, MediaCommand::FlushDigits) {
            self.flush_digit_events();
        }
        self.enqueue(Command::Media(cmd))
    }

    /// [`ControlHandle::send`] of the supervisor listen tap switch (whole-call recording).
    pub fn send_listen(&mut self, on: bool) -> Sent {
        self.enqueue(Command::Listen(on))
    }

    /// [`ControlHandle::send`] of new line settings (gains, busy-tone detection, FSK caller
    /// ID). The audio thread applies them without allocating.
    pub fn send_line_settings(&mut self, settings: LineSettings) -> Sent {
        self.enqueue(Command::Line(settings))
    }

    /// [`ControlHandle::send`] of another prompt table (a reloaded prompt pack). The
    /// pipeline stops what it plays and takes its prompts from `table` from then on; send
    /// it only between calls. The table is `&'static` (leaked): the audio thread never
    /// frees memory.
    pub fn send_prompt_table(&mut self, table: &'static crate::PromptTable) -> Sent {
        self.enqueue(Command::Prompts(table))
    }

    /// Moves waiting commands into the ring, oldest first, until it is full. Returns how
    /// many still wait.
    pub fn pump(&mut self) -> usize {
        while let Some(cmd) = self.backlog.pop_front() {
            if let Err(cmd) = self.commands.try_push(cmd) {
                self.backlog.push_front(cmd);
                break;
            }
        }
        self.backlog.len()
    }

    /// Commands waiting for room in the ring.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Commands that ever had to wait for room (the ring was full when they were sent).
    pub fn deferred(&self) -> u64 {
        self.deferred
    }

    fn enqueue(&mut self, cmd: Command) -> Sent {
        if self.pump() == 0 && self.commands.try_push(cmd).is_ok() {
            return Sent::Now;
        }
        self.backlog.push_back(cmd);
        self.deferred += 1;
        Sent::Deferred
    }

    fn flush_digit_events(&mut self) {
        while let Some(ev) = self.events.try_pop() {
            self.held.push_back(ev);
        }
        self.held.retain(|ev| !matches!(ev, MediaEvent::Digit(_)));
    }

    /// Takes the next event from the audio thread, if any.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.held.pop_front().or_else(|| self.events.try_pop())
    }

    /// Starts or stops the supervisor listen-only tap (see [`ControlHandle::take_listen_tap`]).
    /// Returns `false` if the command ring is full (nothing changes then).
    pub fn set_listen(&mut self, on: bool) -> bool {
        self.commands.try_push(Command::Listen(on)).is_ok()
    }

    /// Changes the gain applied to transmitted audio. Returns `false` if the ring is full.
    pub fn set_tx_gain(&mut self, gain: Gain) -> bool {
        self.commands.try_push(Command::TxGain(gain)).is_ok()
    }

    /// Changes the gain applied to received audio. Returns `false` if the ring is full.
    pub fn set_rx_gain(&mut self, gain: Gain) -> bool {
        self.commands.try_push(Command::RxGain(gain)).is_ok()
    }

    /// Takes the recording tap's consumer, to move it to the writer thread. `None` if
    /// already taken or the channel was configured without one.
    pub fn take_record_tap(&mut self) -> Option<TapConsumer> {
        self.record_tap.take()
    }

    /// Takes the listen tap's consumer (mixed receive + transmit audio, for a supervisor).
    pub fn take_listen_tap(&mut self) -> Option<TapConsumer> {
        self.listen_tap.take()
    }

    /// A snapshot of the channel's counters.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            frames: get(&c.frames),
            events_lost: get(&c.events_lost),
            record_frames_dropped: get(&c.record_frames_dropped),
            listen_frames_dropped: get(&c.listen_frames_dropped),
            line_control_dropped: get(&c.line_control_dropped),
            bad_commands: get(&c.bad_commands),
            tx_underruns: get(&c.tx_underruns),
            digits_lost: get(&c.digits_lost),
            held_events: get(&c.held_events),
        }
    }
}

impl core::fmt::Debug for ControlHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ControlHandle")
            .field("id", &self.id)
            .field("held", &self.held.len())
            .field("backlog", &self.backlog.len())
            .finish_non_exhaustive()
    }
}
