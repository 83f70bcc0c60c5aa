//! `ivrd` library: the parts of the IVR daemon that stand alone, shared by the
//! `ivrd` binary (the daemon and its command-line tools) and the tests.
//!
//! Threading: every module documents its own threads; nothing here starts a
//! thread unless asked to.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cdr;
pub mod config;
pub mod dimension;
pub mod metrics;
pub mod prompt_wav;
