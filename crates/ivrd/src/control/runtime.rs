//! The real-time runtime (see `run`).
