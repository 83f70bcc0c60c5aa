//! `dahdi`: a safe API over the DAHDI kernel interface (`/dev/dahdi/*`).
//!
//! DAHDI is the Linux driver stack for analog (FXO/FXS) and digital (E1/T1) telephony
//! cards. This crate opens its devices and speaks its ioctls:
//!
//! - [`Channel`]: a numbered channel ([`Channel::open`], `/dev/dahdi/channel` +
//!   `DAHDI_SPECIFY`) or a pseudo channel ([`Channel::open_pseudo`]). Parameters, block size,
//!   buffering, law, gains, non-blocking frame read/write, events, hook control, dialling,
//!   tones, `IOMUX`, conferences, echo canceller. It implements
//!   [`tel_types::board::VoiceChannel`], the contract the daemon's audio loop is written to.
//! - [`Timer`]: `/dev/dahdi/timer`, a periodic timer in step with the DAHDI clock.
//! - [`Ctl`]: `/dev/dahdi/ctl`, the DAHDI version and span status.
//!
//! # Contract
//!
//! - **Kernel ABI.** Request numbers and struct layouts mirror `include/dahdi/user.h` of
//!   DAHDI 2.11.1 on x86_64 and are pinned by compile-time size asserts and golden tests
//!   (`docs/dahdi-abi.md`). Every raw system call is in the private `sys` module.
//! - **Non-blocking.** Channel fds are opened `O_NONBLOCK | O_CLOEXEC`. "Would block"
//!   (`EAGAIN`) and "event pending" (DAHDI's errno 500 on read/write) are values
//!   ([`ReadOutcome`], [`WriteOutcome`]), never errors. Take the event with
//!   [`Channel::get_event`], then read again. Wait with `poll`/`mio` on the fd: `POLLIN`/
//!   `POLLOUT` for audio, `POLLPRI` for events and timer expiries.
//! - **Real-time.** [`Channel::read`], [`Channel::write`], [`Channel::get_event`] and
//!   [`Channel::hook`] are one system call each and never allocate, lock or log; errors are
//!   `Copy`. Opening and configuring allocate a little and belong in setup.
//! - **Threads.** Every type owns its fd and is `Send`; nothing is shared. Only the thread
//!   that reads a channel should change its hook state, so events and commands stay ordered.
//! - **Time.** The crate reads no clock; only [`Timer::wait`] takes a timeout.
//! - **Errors** ([`Error`]) name the operation, the channel and the errno in a technician's
//!   words: `channel 5: DAHDI_SPECIFY: device busy (another program has this channel open)
//!   [EBUSY]`, `channel 7 is not configured (run dahdi_cfg) [DAHDI_SPECIFY: ENXIO]`.
//!
//! # Example
//!
//! ```
//! use tel_types::board::{ReadOutcome, VoiceChannel};
//! use tel_types::LineEvent;
//!
//! // The audio loop's handling of one channel: audio, or the event that holds it up.
//! fn service<C: VoiceChannel>(ch: &mut C, buf: &mut [u8]) -> Result<Option<LineEvent>, C::Error> {
//!     match ch.read_frame(buf)? {
//!         ReadOutcome::Data(_) | ReadOutcome::WouldBlock => Ok(None),
//!         ReadOutcome::EventPending => ch.next_event(),
//!     }
//! }
//!
//! match dahdi::Channel::open(1) {
//!     Ok(mut ch) => {
//!         let mut buf = [0u8; 320];
//!         let _ = service(&mut ch, &mut buf);
//!     }
//!     // On a machine without DAHDI the error says so.
//!     Err(e) => assert!(e.to_string().starts_with("channel 1")),
//! }
//! ```
#![deny(missing_docs)]

mod channel;
mod ctl;
mod error;
mod event;
mod g711;
mod params;
mod sys;
mod timer;

pub use channel::{Channel, ConfMode, DialMode, Flush, Gains, IoMux, Tone};
pub use ctl::{Ctl, SpanStatus, Version};
pub use error::{Error, Result, Target};
pub use event::Event;
pub use params::{Alarms, BufferInfo, BufferPolicy, HookState, HookTimes, Params, Signalling};
pub use tel_types::board::{ReadOutcome, WriteOutcome};
pub use tel_types::{Hook, Law};
pub use timer::Timer;

/// Where the DAHDI device nodes live.
pub const DEV_DIR: &str = "/dev/dahdi";
