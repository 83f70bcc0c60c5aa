#!/usr/bin/env bash
# Runs the hil-tests DAHDI integration tests against the real DAHDI kernel modules, in a
# qemu VM (software emulation, no KVM needed), and fails if any test fails or the VM does
# not finish. Needs the Debian packages listed in `.ci/steps/60-hil-vm.sh` (the CI step
# installs them) and the bookworm apt archive for `apt-get download`.
#
#   hil-tests/run-vm-tests.sh            build modules + tests, boot, run, report
#
# Environment: WORK (default hil-tests/_work), TIMEOUT (qemu wall-clock limit, s, default
# 300), ACCEL (qemu accelerator, default tcg; kvm works on a real Linux box), DUMMY (1:
# load dahdi_dummy as the timing source, the default; 0: the DAHDI core timer alone),
# IVRD (1: also run `ivrd run` against the VM's DAHDI, crates/ivrd/tests/dahdi_vm_call.rs,
# the default; 0: leave it out), ONLY (run only the test binary of this name, e.g.
# ONLY=dahdi_vm_call, while working on one).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export WORK=${WORK:-$HERE/_work}
T0=$(date +%s)
stamp() { echo "run-vm-tests: [$(($(date +%s) - T0)) s] $*"; }

"$HERE/vm/build-modules.sh"
stamp "modules ready"

# The DAHDI integration tests (tests/dahdi_*.rs, tests/no_alloc_dahdi.rs; the others need no DAHDI and run on the
# host), statically linked (the guest has no Rust runtime libraries), in
# their own target dir so the normal build is not invalidated.
mapfile -t BINS < <(cd "$ROOT" &&
  RUSTFLAGS="-C target-feature=+crt-static" CARGO_PROFILE_DEV_DEBUG=0 \
    cargo test -p hil-tests --locked --no-run --tests --target x86_64-unknown-linux-gnu \
    --target-dir "$ROOT/target/hil" --message-format=json 2>/dev/null |
  jq -r 'select(.reason == "compiler-artifact" and .profile.test == true
                and (.target.kind | index("test"))
                and (.target.name | test("^(dahdi_|no_alloc_dahdi)"))) | .executable')
[ ${#BINS[@]} -gt 0 ] || { echo "run-vm-tests: no test binaries built" >&2; exit 1; }
for b in "${BINS[@]}"; do
  if ldd "$b" 2>&1 | grep -q '=>'; then
    echo "run-vm-tests: $b links shared libraries (needs -C target-feature=+crt-static)" >&2
    exit 1
  fi
done
stamp "test binaries: ${BINS[*]##*/}"

# `ivrd run` against the VM's DAHDI: the daemon and the test that plays the exchange and the
# agent's phone (crates/ivrd/tests/dahdi_vm_call.rs). Built like the rest of the workspace
# (target/debug, shared libraries copied into the guest), so after CI step 50 nothing is
# rebuilt; make-initramfs.sh adds them with hil-tests/ivrd/ (config, script, prompts).
export IVRD_EXE="" IVRD_TEST=""
if [ "${IVRD:-1}" != 0 ]; then
  # One build, with the workspace's feature set (as step 50's), gives both: the test and
  # the ivrd binary it runs.
  ivrd_built=$(cd "$ROOT" && cargo test --workspace --locked --test dahdi_vm_call --no-run \
      --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null
                  and (.target.name == "ivrd" or .target.name == "dahdi_vm_call"))
           | "\(.target.name) \(.executable)"')
  IVRD_EXE=$(awk '$1 == "ivrd" { print $2 }' <<< "$ivrd_built")
  IVRD_TEST=$(awk '$1 == "dahdi_vm_call" { print $2 }' <<< "$ivrd_built")
  [ -x "$IVRD_EXE" ] && [ -x "$IVRD_TEST" ] ||
    { echo "run-vm-tests: building ivrd or its VM test failed" >&2; exit 1; }
  stamp "ivrd and dahdi_vm_call built"
fi
expected=$(( ${#BINS[@]} + (${IVRD:-1} != 0) ))
[ -n "${ONLY:-}" ] && expected=1

"$HERE/vm/make-initramfs.sh" "${BINS[@]}"
stamp "initramfs ready"

LOG=$WORK/serial.log
ACCEL=${ACCEL:-tcg}
CPU=max
[ "$ACCEL" = kvm ] && CPU=host
set +e
timeout "${TIMEOUT:-300}" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp 1 -m 512 \
  -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "$WORK/kernel/vmlinuz" -initrd "$WORK/initramfs.cpio.gz" \
  -append "console=ttyS0 loglevel=3 panic=-1 dahdi_dummy=${DUMMY:-1} hil_only=${ONLY:-all}" \
  < /dev/null > "$LOG" 2>&1
QEMU_RC=$?
set -e
# The tests' own output, without the firmware noise before the kernel.
sed -n '/HIL-VM \[/,$p' "$LOG" | tr -d '\r'
stamp "VM finished (qemu exit $QEMU_RC)"

echo "=== hil-vm summary"
grep -a 'HIL-TEST-END' "$LOG" | tr -d '\r' || true
grep -a '^test result:' "$LOG" | tr -d '\r' || true
if ! grep -aq 'HIL-VM-DONE' "$LOG"; then
  echo "run-vm-tests: FAIL: the VM did not finish (timeout or crash; see $LOG)"
  exit 1
fi
done_line=$(grep -a 'HIL-VM-DONE' "$LOG" | tr -d '\r')
if [ "$done_line" != "HIL-VM-DONE failed=0" ]; then
  echo "run-vm-tests: FAIL: $done_line"
  exit 1
fi
ran=$(grep -ac 'HIL-TEST-END' "$LOG")
[ "$ran" -eq "$expected" ] || { echo "run-vm-tests: FAIL: $ran of $expected test binaries ran"; exit 1; }
if grep -aE '^test result:' "$LOG" | grep -vq ' 0 failed'; then
  echo "run-vm-tests: FAIL: a test failed"
  exit 1
fi
stamp "PASS: every DAHDI integration test passed in the VM"
