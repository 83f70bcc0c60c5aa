//! The control thread's side of a channel: commands in, events out, counters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringbuf::traits::{Consumer, Producer};
use ringbuf::{HeapCons, HeapProd};
use tel_types::{ChannelId, MediaCommand, MediaEvent};

use crate::Gain;
use crate::tap::TapConsumer;

/// What crosses the command ring: the public [`MediaCommand`]s plus the few settings only
/// the daemon changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Command {
    Media(MediaCommand),
    Listen(bool),
    TxGain(Gain),
    RxGain(Gain),
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
            while let Some(ev) = self.events.try_pop() {
                self.held.push_back(ev);
            }
            self.held.retain(|ev| !matches!(ev, MediaEvent::Digit(_)));
        }
        self.commands
            .try_push(Command::Media(cmd))
            .map_err(|_| SendError::Full(cmd))
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
        }
    }
}

impl core::fmt::Debug for ControlHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ControlHandle")
            .field("id", &self.id)
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}
