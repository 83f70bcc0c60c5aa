#!/usr/bin/env bash
# Generates the zh-CN and en prompt packs with espeak-ng (synthesised speech):
# 8 kHz mono A-law WAV (the line's own coding, half the size of 16-bit), silence trimmed, normalised to -6 dBFS.
#   apt install espeak-ng sox; cargo build -p ivrd; bash ivr-scripts/prompts/generate.sh [NAME...]
# With NAMEs, only those prompts are (re)made in both languages (the others stay as they are).
# Texts: prompts.<lang>.txt (script prompts) + `ivrd prompts texts <lang>` (say-back fragments).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ivrd=${IVRD:-$root/target/debug/ivrd}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for lang in zh-CN en; do
  case $lang in zh-CN) voice=cmn; speed=320 ;; en) voice=en-us; speed=250 ;; esac
  { grep -v '^#' "$here/prompts.$lang.txt"; "$ivrd" prompts texts "$lang"; } | while IFS=$'\t' read -r name text; do
    [ -n "$name" ] || continue
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF -- "$name"; then continue; fi
    out="$here/$lang/$name.wav"
    mkdir -p "$(dirname "$out")"
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" -- "$text"
    # Trim leading and trailing silence, shorten pauses to 120 ms, pad 40 ms, normalise.
    sox -q -D "$tmp/raw.wav" "$tmp/trim.wav" silence -l 1 0.01 0.5% -1 0.12 0.5% reverse silence 1 0.01 0.5% reverse pad 0.04 0.04 norm -6
    "$ivrd" prompts convert --alaw "$tmp/trim.wav" "$out" >/dev/null
  done
done
du -sh "$here"
