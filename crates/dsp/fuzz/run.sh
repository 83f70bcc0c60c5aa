#!/usr/bin/env bash
# Runs the DSP fuzz targets with coverage feedback on a nightly toolchain, without cargo-fuzz:
#   bash crates/dsp/fuzz/run.sh [seconds per target, default 60]
# (With cargo-fuzz installed, `cargo +nightly fuzz run wav_parse` does the same.)
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo +nightly build --release --bins --target-dir target/cov --target "$target"
mkdir -p corpus/wav_parse corpus/callerid_parse corpus/receivers
# Seeds: the test WAVs (real telephony files in all three codings).
cp ../tests/data/*.wav corpus/wav_parse/ 2>/dev/null || true
for t in wav_parse callerid_parse receivers; do
  "target/cov/$target/release/$t" "corpus/$t" -max_total_time="$secs" -max_len=65536
done
