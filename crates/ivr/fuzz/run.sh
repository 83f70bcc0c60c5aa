#!/usr/bin/env bash
# Runs both fuzz targets with coverage feedback on a nightly toolchain, without cargo-fuzz:
#   bash crates/ivr/fuzz/run.sh [seconds per target, default 120]
# (With cargo-fuzz installed, `cargo +nightly fuzz run script_parse` does the same.)
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-120}
target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo +nightly build --release --bins --target-dir target/cov --target "$target"
mkdir -p corpus/script_parse corpus/engine_ops
for f in ../../../ivr-scripts/*.ivr ../../../ivr-scripts/lib/*.ivr; do
  cp "$f" "corpus/script_parse/$(echo "$f" | tr / _)"
done
"target/cov/$target/release/script_parse" corpus/script_parse -max_total_time="$secs" -max_len=4096
"target/cov/$target/release/engine_ops" corpus/engine_ops -max_total_time="$secs"
