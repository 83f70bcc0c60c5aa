# The dahdi crate against the real DAHDI 2.11.1 kernel modules (Debian dahdi-dkms), built for
# Debian's bookworm kernel and booted under qemu with software emulation (no KVM needed).
# See hil-tests/README.md. Takes about 1.5 min once the packages are installed.
need_packages linux-headers-amd64 qemu-system-x86 busybox-static kmod cpio gzip gcc make \
  libc6-dev jq
hil_t0=$(date +%s)
bash hil-tests/vm/build-modules.sh
# The golden ABI values of drivers/dahdi against the real include/dahdi/user.h.
gcc -Wall -I hil-tests/_work/dahdi-src/include -o hil-tests/_work/abi-dump hil-tests/vm/abi-dump.c
hil-tests/_work/abi-dump > hil-tests/_work/abi-dump.txt
DAHDI_ABI_DUMP="$PWD/hil-tests/_work/abi-dump.txt" \
  cargo test -p dahdi --locked --lib abi_matches_header_dump -- --nocapture
# The integration tests inside the VM; fails if any test fails or the VM does not finish.
TIMEOUT=${HIL_VM_TIMEOUT:-280} bash hil-tests/run-vm-tests.sh
echo "hil-vm: step took $(($(date +%s) - hil_t0)) s"
