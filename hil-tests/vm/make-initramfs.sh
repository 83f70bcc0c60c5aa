#!/usr/bin/env bash
# Packs the test VM's initramfs: busybox (static), the DAHDI modules, dahdi_cfg with the
# shared libraries it needs, system.conf, the guest init, and the test binaries given as
# arguments (statically linked). Needs build-modules.sh to have run. With IVRD_EXE and
# IVRD_TEST set (run-vm-tests.sh sets them), also the ivrd daemon, its VM test (both
# dynamically linked: their shared libraries are copied too) and hil-tests/ivrd/.
#   make-initramfs.sh TEST_BINARY...      -> $WORK/initramfs.cpio.gz
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$(cd "$HERE/.." && pwd)/_work}
[ -f "$WORK/modules/dahdi.ko" ] || { echo "make-initramfs: run build-modules.sh first" >&2; exit 1; }
R=$WORK/rootfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/dahdi,proc,sys,dev,tmp,lib/modules/dahdi,lib64,hil/tests}

cp /bin/busybox "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list); do
  [ -e "$R/bin/$applet" ] || ln -s busybox "$R/bin/$applet"
done

cp "$WORK"/modules/*.ko "$R/lib/modules/dahdi/"

# dahdi_cfg (dahdi-tools 3.1.0) and the libraries it links: libtonezone from the extracted
# package, glibc from this (bookworm) host.
T=$WORK/tools
cp "$T/usr/sbin/dahdi_cfg" "$R/usr/sbin/"
mkdir -p "$R/lib/x86_64-linux-gnu"
cp -a "$T"/usr/lib/x86_64-linux-gnu/libtonezone.so* "$R/lib/x86_64-linux-gnu/"
# Copies the shared libraries a binary links (as ldd finds them on this host) into the guest.
copy_libs() {
  LD_LIBRARY_PATH="$T/usr/lib/x86_64-linux-gnu" ldd "$1" |
    awk '/=> \// { print $3 } /^[[:space:]]*\/lib64\// { print $1 }' |
    while read -r lib; do
      case "$lib" in *libtonezone*) continue ;; esac
      mkdir -p "$R$(dirname "$lib")"
      cp -L "$lib" "$R$lib"
    done
}
copy_libs "$R/usr/sbin/dahdi_cfg"

cp "$HERE/system.conf" "$R/etc/dahdi/system.conf"
cp "$HERE/guest-init" "$R/init"
chmod +x "$R/init"
echo 'root:x:0:0:root:/:/bin/sh' > "$R/etc/passwd"

for bin in "$@"; do
  name=$(basename "$bin")
  # cargo names test binaries <target>-<hash>; keep the target name.
  cp "$bin" "$R/hil/tests/${name%-*}"
  strip "$R/hil/tests/${name%-*}"
done

# `ivrd run` on the VM's DAHDI: the daemon, the test that calls it, its config, script and
# the prompts the script plays (from the bundled zh-CN pack).
if [ -n "${IVRD_EXE:-}" ]; then
  ROOT=$(cd "$HERE/../.." && pwd)
  cp "$IVRD_EXE" "$R/usr/bin/ivrd"
  strip "$R/usr/bin/ivrd"
  cp "$IVRD_TEST" "$R/hil/tests/dahdi_vm_call"
  strip "$R/hil/tests/dahdi_vm_call"
  copy_libs "$R/usr/bin/ivrd"
  copy_libs "$R/hil/tests/dahdi_vm_call"
  mkdir -p "$R/hil/ivrd/prompts/zh-CN"
  cp "$HERE/../ivrd/ivrd-vm.toml" "$HERE/../ivrd/vm-line.ivr" "$R/hil/ivrd/"
  for p in welcome enter_order_no goodbye transfer_to_agent; do
    cp "$ROOT/ivr-scripts/prompts/zh-CN/$p.wav" "$R/hil/ivrd/prompts/zh-CN/"
  done
fi

(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initramfs.cpio.gz"
echo "make-initramfs: $(du -h "$WORK/initramfs.cpio.gz" | cut -f1) with $# test binaries"
