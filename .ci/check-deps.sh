#!/usr/bin/env bash
# Fails if a crate depends on something DESIGN.md forbids it (normal and build deps,
# transitively; dev-dependencies are the tests' business).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
deps_of() { cargo tree -p "$1" -e normal,build --prefix none --format '{p}' --locked 2>/dev/null | awk '{print $1}' | sort -u; }
forbid() { # crate, forbidden...
  local crate=$1; shift
  local have; have=$(deps_of "$crate")
  [ -n "$have" ] || { echo "check-deps: cannot resolve $crate"; fail=1; return; }
  local f
  for f in "$@"; do
    if grep -qx "$f" <<<"$have"; then
      echo "check-deps: $crate must not depend on $f (DESIGN.md: dependency directions)"
      fail=1
    fi
  done
}
SYSTEM="nix libc mio crossbeam-channel hound env_logger"
OURS_IO="dahdi simboard order-hooks ivrd"
for pure in tel-types dsp media ivr; do
  # shellcheck disable=SC2086
  forbid "$pure" $SYSTEM $OURS_IO
done
forbid tel-types dsp media ivr
forbid dsp media ivr
forbid ivr dsp media
forbid media ivr
for io in dahdi simboard order-hooks; do forbid "$io" ivr ivrd; done
forbid dahdi simboard order-hooks media
forbid simboard dahdi order-hooks media
forbid order-hooks dahdi simboard media dsp
# nothing depends on ivrd
for c in tel-types dsp media ivr order-hooks dahdi simboard benches hil-tests; do forbid "$c" ivrd; done
# unsafe only in drivers/dahdi's sys module (tests' counting allocators excepted)
bad=$(grep -rlE '\bunsafe\b' --include='*.rs' crates drivers benches hil-tests 2>/dev/null \
  | grep -vE '^drivers/dahdi/src/sys(\.rs|/)' | grep -vE '/tests/no_alloc[^/]*\.rs$' || true)
if [ -n "$bad" ]; then echo "check-deps: 'unsafe' outside drivers/dahdi/src/sys: $bad"; fail=1; fi
# The audio thread registers fds through mio's registry: mio must be built without `log`.
if cargo tree --workspace -e features -i mio 2>/dev/null | grep -q 'mio feature "log"'; then
  echo "check-deps: mio is built with its 'log' feature (the audio thread must never log)"; fail=1
fi
[ $fail = 0 ] && echo "check-deps: dependency directions, unsafe placement and mio features OK"
exit $fail
