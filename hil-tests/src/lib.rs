//! Hardware-in-loop test support.
#![forbid(unsafe_code)]
