//! Shared helpers for the benchmarks in `benches/benches/`.
#![forbid(unsafe_code)]
