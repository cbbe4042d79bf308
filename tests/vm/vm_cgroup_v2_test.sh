#!/bin/bash
# Runs berth on a pure cgroup v2 host: boots a qemu guest whose kernel has
# every v1 hierarchy switched off, with an initramfs of busybox, the static
# berth-runtime, the probe, the static cgroups unit tests and the checks in
# guest/. The guest prints one PASS/FAIL/SKIP line per check on its serial
# console and powers off; this script reads those lines.
#
# Exits 0 when every check passed, 1 on any FAIL (or a guest that did not
# finish), 77 when qemu, busybox-static or a kernel cannot be had (ctest's
# SKIP_RETURN_CODE). It leaves nothing behind: qemu is stopped by its pid and
# the scratch directory removed, whatever happens. Only the kernel stays, in
# the cache directory, for the next run.
#
# usage: vm_cgroup_v2_test.sh --runtime BERTH_RUNTIME --probe BERTH_PROBE
#            [--unit-tests VM_CGROUPS_TEST] [--kernel-cache DIR] [--timeout SECONDS]
# Environment: BERTH_VM_ACCEL=kvm to use KVM (default tcg: nested KVM is often
# missing or broken on CI machines, and software emulation is fast enough),
# BERTH_VM_KERNEL (see fetch_kernel.sh), BERTH_VM_KEEP_CONSOLE=FILE to keep
# the guest's whole console output.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")

runtime="" probe="" unit_tests="" cache="${TMPDIR:-/tmp}/berth-vm-kernel" timeout=180
while [ $# -gt 0 ]; do
    case "$1" in
    --runtime) runtime=$2 ;;
    --probe) probe=$2 ;;
    --unit-tests) unit_tests=$2 ;;
    --kernel-cache) cache=$2 ;;
    --timeout) timeout=$2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -x "$runtime" ] && [ -x "$probe" ] || { echo "--runtime and --probe must name the built binaries" >&2; exit 2; }

skip() { echo "SKIP: $*"; exit 77; }
qemu=$(command -v qemu-system-x86_64) || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
# The initramfs has no libc: its busybox must be the static one.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" ||
    skip "no busybox-static (apt-get install busybox-static)"

scratch=$(mktemp -d -t berth-vm.XXXXXX)
qemu_pid=""
# TERM, then KILL after 5 s; always by the pid this script started.
stop_qemu() {
    [ -n "$qemu_pid" ] || return 0
    if kill -0 "$qemu_pid" 2>/dev/null; then
        kill -TERM "$qemu_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$qemu_pid" 2>/dev/null || true
    fi
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}
trap 'stop_qemu; rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM

kernel_dir=$("$here/fetch_kernel.sh" "$cache" 2>"$scratch/fetch.log") ||
    skip "no kernel for the guest: $(cat "$scratch/fetch.log")"

# The initramfs: busybox is /init's shell, the checks live in /guest.
root=$scratch/initramfs
mkdir -p "$root/bin" "$root/usr/local/bin" "$root/guest" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest/init.sh" "$root/init"
cp -r "$here"/guest/*.sh "$here/guest/configs" "$root/guest/"
# Debug information is most of these binaries' size; the guest has no use for it.
strip -o "$root/usr/local/bin/berth-runtime" "$runtime" 2>/dev/null || cp "$runtime" "$root/usr/local/bin/berth-runtime"
cp "$probe" "$root/guest/probe"
if [ -n "$unit_tests" ] && [ -x "$unit_tests" ]; then
    strip -o "$root/guest/vm_cgroups_test" "$unit_tests" 2>/dev/null || cp "$unit_tests" "$root/guest/vm_cgroups_test"
fi
[ ! -f "$kernel_dir/brd.ko" ] || cp "$kernel_dir/brd.ko" "$root/guest/brd.ko"
printf 'root:x:0:0:root:/root:/bin/sh\nrootless:x:1000:1000:rootless:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nrootless:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 755 "$root"/init "$root"/guest/*.sh
# Uncompressed: under emulation, unpacking gzip costs more than it saves.
(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$scratch/initramfs.cpio"

accel=${BERTH_VM_ACCEL:-tcg}
[ "$accel" = kvm ] && cpu=host || cpu=max
console=$scratch/console.log
started=$(date +%s)
# --pdeathsig: should this script itself be killed (ctest's own timeout),
# the kernel stops qemu with it. One vCPU: under emulation it is faster than
# two, and it leaves the host's other cores to the tests running beside it.
setpriv --pdeathsig KILL -- "$qemu" -accel "$accel" -cpu "$cpu" -smp 1 -m 768 \
    -nodefaults -display none -no-reboot -serial "file:$console" \
    -kernel "$kernel_dir/vmlinuz" -initrd "$scratch/initramfs.cpio" \
    -append "console=ttyS0 loglevel=1 panic=-1 rdinit=/init systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all" \
    </dev/null >"$scratch/qemu.log" 2>&1 &
qemu_pid=$!

while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - started)) -lt "$timeout" ]; do
    sleep 1
done
timed_out=""
if kill -0 "$qemu_pid" 2>/dev/null; then timed_out=yes; fi
stop_qemu
elapsed=$(($(date +%s) - started))
[ -z "${BERTH_VM_KEEP_CONSOLE:-}" ] || cp "$console" "$BERTH_VM_KEEP_CONSOLE"

# The verdict, from the console alone.
tr -d '\r' <"$console" | grep -a '^BERTH-VM ' >"$scratch/results" || true
cat "$scratch/results"
passed=$(grep -c '^BERTH-VM PASS ' "$scratch/results" || true)
failed=$(grep -c '^BERTH-VM FAIL ' "$scratch/results" || true)
skipped=$(grep -c '^BERTH-VM SKIP ' "$scratch/results" || true)
problem=""
if ! grep -q '^BERTH-VM START ' "$scratch/results"; then problem="the guest did not boot"
elif [ -n "$timed_out" ]; then problem="the guest was stopped after ${timeout} s"
elif ! grep -q '^BERTH-VM DONE' "$scratch/results"; then problem="the guest ended before its checks did"
fi
if [ -n "$problem" ]; then
    echo "FAIL: $problem; the console's last lines:"
    tr -d '\r' <"$console" | tail -30
    tail -5 "$scratch/qemu.log"
    exit 1
fi
echo "$passed passed, $failed failed, $skipped skipped in ${elapsed} s (boot and checks, $accel, $(cat "$kernel_dir/package" 2>/dev/null || echo "$kernel_dir/vmlinuz"))"
[ "$failed" = 0 ]
