#!/usr/bin/env bash
# Builds Debian's DAHDI 2.11.1 kernel modules (package dahdi-dkms) for the Debian kernel that
# `linux-headers-amd64` points at, without installing anything into the running kernel, and
# gathers what the test VM needs next to them:
#
#   $WORK/kernel/vmlinuz        the Debian kernel the modules are built for (booted by qemu)
#   $WORK/modules/*.ko          dahdi, dahdi_dummy, dahdi_dynamic, dahdi_dynamic_loc, echocans
#   $WORK/tools/                dahdi-tools (dahdi_cfg ...) and libtonezone, extracted
#   $WORK/dahdi-src/            the dahdi-dkms source tree (include/dahdi/user.h is the ABI)
#   $WORK/kv.env                KV=<kernel ABI>, DAHDI_VERSION=<package version>
#
# Needs (Debian packages): linux-headers-amd64 gcc make libc6-dev kmod.
# Cached: does nothing when $WORK/modules matches the current kernel and dahdi-dkms version.
set -euo pipefail
WORK=${WORK:-$(cd "$(dirname "$0")/.." && pwd)/_work}
mkdir -p "$WORK"
cd "$WORK"
t0=$(date +%s)

# The kernel ABI behind the linux-headers-amd64 meta package, e.g. 6.1.0-56-amd64.
KV=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
  grep -o 'linux-headers-[0-9][^ ,]*-amd64' | head -n1 | sed 's/^linux-headers-//')
[ -n "$KV" ] || { echo "build-modules: cannot tell the kernel version from linux-headers-amd64" >&2; exit 1; }
[ -d "/lib/modules/$KV/build" ] || { echo "build-modules: /lib/modules/$KV/build missing (install linux-headers-$KV)" >&2; exit 1; }
DAHDI_VERSION=$(apt-cache policy dahdi-dkms | sed -n 's/^ *Candidate: *//p')
if { [ -z "$DAHDI_VERSION" ] || [ "$DAHDI_VERSION" = "(none)" ]; } && [ "$(id -u)" = 0 ]; then
  apt-get update -qq # package lists missing (fresh container)
  DAHDI_VERSION=$(apt-cache policy dahdi-dkms | sed -n 's/^ *Candidate: *//p')
fi
[ -n "$DAHDI_VERSION" ] && [ "$DAHDI_VERSION" != "(none)" ] ||
  { echo "build-modules: apt knows no dahdi-dkms (is the bookworm main archive in sources.list?)" >&2; exit 1; }
STAMP="KV=$KV DAHDI_VERSION=$DAHDI_VERSION"
if [ -f modules.stamp ] && [ "$(cat modules.stamp)" = "$STAMP" ] && [ -f kernel/vmlinuz ] && [ -f modules/dahdi.ko ]; then
  echo "build-modules: cached ($STAMP)"
  exit 0
fi
echo "build-modules: $STAMP"

# Fetch the packages as files (nothing is installed).
mkdir -p debs
(cd debs && for p in dahdi-dkms dahdi libtonezone2.0 "linux-image-$KV"; do
  ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q -o APT::Sandbox::User=root "$p" >/dev/null
done)
t1=$(date +%s)

rm -rf x && mkdir -p x/dkms x/tools x/kimg
dpkg -x debs/dahdi-dkms_*.deb x/dkms
dpkg -x debs/dahdi_*.deb x/tools
dpkg -x debs/libtonezone2.0_*.deb x/tools
dpkg -x "debs/linux-image-${KV}_"*.deb x/kimg
rm -rf kernel tools dahdi-src
mkdir -p kernel
cp "x/kimg/boot/vmlinuz-$KV" kernel/vmlinuz
mv x/tools tools
cp -a x/dkms/usr/src/dahdi-* dahdi-src
rm -rf x
t2=$(date +%s)

# The minimal module set for hardware-less testing. dahdi_dummy is commented out upstream
# (Kbuild); Debian builds it through MODULES_EXTRA, and so do we.
cd dahdi-src
make include/dahdi/version.h >/dev/null
make -C "/lib/modules/$KV/build" M="$PWD/drivers/dahdi" DAHDI_INCLUDE="$PWD/include" \
  DAHDI_BUILD_ALL= CONFIG_DAHDI=m CONFIG_DAHDI_DYNAMIC=m CONFIG_DAHDI_DYNAMIC_LOC=m \
  CONFIG_DAHDI_ECHOCAN_MG2=m DAHDI_MODULES_EXTRA="dahdi_dummy.o" HOTPLUG_FIRMWARE=no \
  -j"$(nproc)" modules > ../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
cd ..
rm -rf modules && mkdir modules
find dahdi-src/drivers -name '*.ko' -exec cp {} modules/ \;
for m in dahdi dahdi_dummy dahdi_dynamic dahdi_dynamic_loc dahdi_echocan_mg2; do
  [ -f "modules/$m.ko" ] || { echo "build-modules: $m.ko was not built (see $WORK/build.log)" >&2; exit 1; }
done
printf 'KV=%s\nDAHDI_VERSION=%s\n' "$KV" "$DAHDI_VERSION" > kv.env
echo "$STAMP" > modules.stamp
t3=$(date +%s)
echo "build-modules: download $((t1 - t0)) s, extract $((t2 - t1)) s, build $((t3 - t2)) s;" \
  "vermagic $(modinfo -F vermagic modules/dahdi.ko)"
