//! Hardware-in-loop tests: the board channel contract, run on a real DAHDI card, on the
//! real DAHDI kernel modules in a VM, or on the simulated card.
//!
//! # Contract
//!
//! - [`contract`] holds the checks every board must pass, generic over a [`contract::LinePair`]
//!   (two lines wired together). They drive the board only through
//!   [`tel_types::board::VoiceChannel`] and advance time only through
//!   [`contract::LinePair::wait_ms`], so they run in real time on DAHDI and in virtual time
//!   on the simulated card.
//! - The checks allocate freely (they are tests, not the audio path) and never spawn threads.
//! - The DAHDI-specific tests live in `tests/` and print `skipped: /dev/dahdi not present`
//!   and pass where there is no DAHDI.
//!
//! ```
//! use hil_tests::contract::{rms, encode, decode};
//! use tel_types::Law;
//! let mut b = [0u8; 2];
//! encode(Law::ALaw, &[1000, -1000], &mut b);
//! let mut back = [0i16; 2];
//! assert_eq!(decode(Law::ALaw, &b, &mut back), 2);
//! assert!((rms(&back) - 1000.0).abs() < 40.0);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod contract;
pub mod dahdi_rig;
