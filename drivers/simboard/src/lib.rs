//! `simboard`: not written yet; see the open issue that builds it.
#![forbid(unsafe_code)]
