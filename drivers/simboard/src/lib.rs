//! `simboard`: a software voice card with simulated lines, offering the same channel contract
//! ([`tel_types::board::VoiceChannel`]) as `drivers/dahdi`.
//!
//! A [`Profile`] (a TOML file in `firmware-stubs/`) describes the cards of an install: FXO
//! trunks, FXS stations and E1 B-channels, law, tone zone, ring cadence, caller ID, line
//! impairments. [`SimBoard::from_profile`] builds the card; [`SimBoard::take_channel`] hands
//! out each port's [`SimChannel`]. On the far end of every trunk the simulated exchange rings
//! with the zone's cadence, sends caller ID and, after the caller hangs up, busy tone (no
//! polarity reversal unless the profile asks); the caller is a scripted [`Persona`]. On the
//! far end of every station is an agent's phone.
//!
//! # Contract
//!
//! - **Channels** ([`SimChannel`]) follow DAHDI: reads and writes never block, return
//!   `WouldBlock` when no frame is ready or the buffers are full, and `EventPending` while a
//!   signalling event waits; blocks are 20 ms frames in the profile's law, or 80 samples
//!   (10 ms) on a channel set so with [`SimChannel::set_io_block`], as DAHDI's
//!   `DAHDI_SET_BLOCKSIZE 80`: one block each way per 10 ms of board time. They never
//!   allocate, lock or block, and they are `Send`: they reach the board only through
//!   lock-free SPSC rings.
//! - **Time**: the board has one clock. Tests, benchmarks and soak runs drive it in virtual
//!   time with [`SimBoard::advance_ms`] (an hour of calls runs in seconds); the daemon drives it
//!   in real time with [`RealTimeClock`] (a 1 ms `timerfd`, no drift). The far ends (the
//!   exchange, callers, agents' phones) are modelled in 20 ms frames whatever the block:
//!   hook commands take effect, and line events happen, at 20 ms frame boundaries; a
//!   10 ms channel gets each frame of line audio as two blocks, the first at the frame's
//!   end and the second 10 ms later.
//! - **Allocation**: the board side allocates when a call starts and while it records what a
//!   persona heard (turn [`BoardOptions::capture_audio`] off for load runs); its per-frame work
//!   does not otherwise allocate. Run the board where that is allowed (not on the audio
//!   thread), or accept it in tests.
//!
//! ```
//! use std::sync::Arc;
//! use simboard::{CallSpec, Persona, Profile, SimBoard, Step};
//! use tel_types::board::{ReadOutcome, VoiceChannel};
//! use tel_types::{CallerId, Hook, LineEvent};
//!
//! let profile = Profile::parse(r#"
//!     [board]
//!     name = "one trunk"
//!     zone = "cn"
//!     [[cards]]
//!     model = "demo"
//!     ports = [{ kind = "fxo-trunk", count = 1 }]
//! "#, "inline.toml").unwrap();
//! let mut board = SimBoard::from_profile(profile);
//! let mut ch = board.take_channel(1).unwrap();
//! let caller = Arc::new(Persona::new("caller", vec![Step::Wait(1000), Step::HangUp]));
//! board.offer_call(1, CallSpec { persona: caller, caller_id: CallerId::default(),
//!                                hold_ms: None, give_up_ms: None, seed: 1 });
//! board.advance_ms(20);
//! let mut buf = [0u8; 160];
//! assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::EventPending);
//! assert_eq!(ch.next_event().unwrap(), Some(LineEvent::RingBegin));   // a burst starts
//! assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::Data(160));
//! assert_eq!(board.advance_until_event(1, 2000), 1000);               // cn: 1 s bursts
//! assert_eq!(ch.next_event().unwrap(), Some(LineEvent::RingOffHook)); // ring detected
//! ch.set_hook(Hook::OffHook).unwrap();          // answer
//! board.advance_ms(2000);                        // the caller hangs up after 1 s
//! assert!(board.far_end_gone(1));                // the exchange now sends busy tone
//! assert_eq!(ch.next_event().unwrap(), None);    // and no polarity reversal
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analysis;
mod audio;
mod board;
mod clock;
mod hearing;
mod load;
mod loadfile;
mod persona;
pub mod personas;
mod profile;
mod rng;

pub use board::{
    BUFFER_FRAMES, BoardOptions, BoardStats, CallRecord, CallSpec, EVENT_QUEUE, Outcome, SimBoard,
    SimChannel, SimError, WireError,
};
pub use clock::RealTimeClock;
pub use hearing::{Heard, Hearing, Note, NoteKind, Span, Timeline};
pub use load::{HoldTime, LoadGenerator, LoadProfile};
pub use persona::{DtmfManner, Persona, Speech, SpeechError, SpeechErrorKind, Step};
pub use profile::{
    CallerIdParams, CallerIdStandard, CallerIdTiming, Card, LineParams, PortGroup, PortType,
    Profile, ProfileError, ProfileErrorKind, Zone,
};
pub use rng::Rng;
