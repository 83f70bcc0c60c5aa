#!/usr/bin/env bash
# The whole test suite: the README's test command, and the only thing .ci/run runs.
#
# Runs every step in .ci/steps/ in name order, in this shell, so a step can export
# settings (database URLs) for later ones and register a cleanup with `on_exit`.
# Installs the system packages the steps need with apt when run as root; otherwise it
# prints what to install. Exit status: 0 only if every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export ROOT
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
START=$(date +%s)

CLEANUPS=()
on_exit() { CLEANUPS+=("$*"); }
run_cleanups() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" || true; done
}
trap run_cleanups EXIT

# need_packages PKG...: make sure Debian packages are installed (apt when root).
APT_UPDATED=0
need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "test-all: please install: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ $APT_UPDATED = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  echo "test-all: apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

step() { echo; echo "=== $* ($(($(date +%s) - START)) s)"; }

for s in .ci/steps/*.sh; do
  step "$(basename "$s")"
  # shellcheck source=/dev/null
  . "$s"
done
step "all steps passed in $(($(date +%s) - START)) s"
