//! The channel contract every voice board offers: DAHDI and the simulated card alike.
//!
//! The daemon's audio loop is generic over [`VoiceChannel`], so everything above the driver
//! runs the same on a real card (`drivers/dahdi`) and on the simulated one
//! (`drivers/simboard`). The contract follows DAHDI's semantics, because those are the ones a
//! real board imposes:
//!
//! - Reads and writes never block. "Would block" and "an event is pending" are values
//!   ([`ReadOutcome`], [`WriteOutcome`]), not errors: while an event is pending, audio stops
//!   until [`VoiceChannel::next_event`] has taken it (DAHDI's errno 500).
//! - Reads and writes move one block in the channel's [`crate::Law`]: 20 ms
//!   ([`crate::FRAME_SAMPLES`] samples) unless the channel reports a shorter block
//!   ([`VoiceChannel::block_samples`], e.g. 80 samples: 10 ms, which DAHDI offers to cut
//!   the wait before a prompt starts).
//! - Only the thread that reads a channel changes its hook state, so events and hook
//!   commands are never reordered.
//!
//! # Real-time
//!
//! Implementations must not allocate, lock, log or block in `read_frame`, `write_frame`,
//! `next_event` or `set_hook`: they run on the audio thread.

use crate::{Hook, Law, LineEvent};

/// What a non-blocking frame read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes of audio were read into the buffer.
    Data(usize),
    /// No audio is ready yet.
    WouldBlock,
    /// A signalling event waits; take it with [`VoiceChannel::next_event`], then read again.
    EventPending,
}

/// What a non-blocking frame write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// `n` bytes were queued for transmission.
    Written(usize),
    /// The transmit buffers are full.
    WouldBlock,
    /// A signalling event waits; take it with [`VoiceChannel::next_event`], then write again.
    EventPending,
}

/// What kind of port a channel is, seen from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PortKind {
    /// An analog trunk from the exchange (an FXO port; DAHDI `fxs*` signalling).
    FxoTrunk,
    /// An analog station for a phone (an FXS port; DAHDI `fxo*` signalling).
    FxsStation,
    /// A digital (E1/T1) bearer channel.
    Digital,
    /// A clear channel or a pseudo channel with no line signalling.
    Clear,
}

/// One voice channel of a board, as the audio thread sees it.
pub trait VoiceChannel {
    /// The driver's error type.
    type Error: std::error::Error;

    /// The channel number (as configured on the board).
    fn number(&self) -> u16;

    /// What kind of port this is.
    fn port_kind(&self) -> PortKind;

    /// How audio is coded in frames read and written.
    fn law(&self) -> Law;

    /// Samples one read or write moves: [`crate::FRAME_SAMPLES`] (20 ms, the default), or
    /// a divisor of it the channel was set to (80: 10 ms blocks). The bytes are
    /// `block_samples() * law().bytes_per_sample()`.
    fn block_samples(&self) -> usize {
        crate::FRAME_SAMPLES
    }

    /// Reads at most one block of received audio into `buf` without blocking.
    ///
    /// # Errors
    /// A driver error that means the channel is unusable (not would-block, not an event).
    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, Self::Error>;

    /// Queues `buf` (one block) for transmission without blocking.
    ///
    /// # Errors
    /// A driver error that means the channel is unusable (not would-block, not an event).
    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome, Self::Error>;

    /// Takes the next pending signalling event, if any.
    ///
    /// # Errors
    /// A driver error that means the channel is unusable.
    fn next_event(&mut self) -> Result<Option<LineEvent>, Self::Error>;

    /// Changes the hook state (answer, hang up, flash, ring a station).
    ///
    /// # Errors
    /// The board refused, e.g. a flash during the debounce after going off-hook.
    fn set_hook(&mut self, hook: Hook) -> Result<(), Self::Error>;
}
