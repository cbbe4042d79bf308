#!/bin/bash
# fetch_kernel.sh CACHE_DIR: makes sure CACHE_DIR holds a Debian kernel for
# the guest (vmlinuz, and brd.ko for a RAM disk to put io limits on), and
# prints CACHE_DIR. The kernel package is downloaded with apt-get download
# and unpacked there, never installed: the host's own kernel and /boot stay
# as they are. Exits 1 with the reason on stderr when no kernel can be had.
#
# $BERTH_VM_KERNEL names a vmlinuz to use instead (then there is no brd.ko
# unless $BERTH_VM_BRD names one).
set -euo pipefail
cache=${1:?usage: fetch_kernel.sh CACHE_DIR}

if [ -n "${BERTH_VM_KERNEL:-}" ]; then
    mkdir -p "$cache/given"
    cp "$BERTH_VM_KERNEL" "$cache/given/vmlinuz"
    rm -f "$cache/given/brd.ko"
    [ -z "${BERTH_VM_BRD:-}" ] || cp "$BERTH_VM_BRD" "$cache/given/brd.ko"
    echo "$cache/given"
    exit 0
fi
if [ -f "$cache/debian/vmlinuz" ]; then
    echo "$cache/debian"
    exit 0
fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "no apt-get and dpkg-deb to fetch a Debian kernel with" >&2; exit 1; }
[ "$(dpkg --print-architecture)" = amd64 ] ||
    { echo "the guest is x86_64; this host is $(dpkg --print-architecture)" >&2; exit 1; }

# The cloud flavour is a third of the size of the generic one and has every
# cgroup controller built in. The meta package names the versioned one.
image=""
for meta in linux-image-cloud-amd64 linux-image-amd64; do
    image=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -z "$image" ] || break
done
[ -n "$image" ] || { echo "apt knows no linux-image-cloud-amd64 or linux-image-amd64 (apt-get update?)" >&2; exit 1; }

scratch=$(mktemp -d -t berth-vm-kernel.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# apt downloads as its _apt user where it can; let it write here.
chmod 755 "$scratch"
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$scratch"; fi
(cd "$scratch" && apt-get download -q "$image" >"$scratch/apt.log" 2>&1) ||
    { echo "apt-get download $image failed: $(tail -3 "$scratch/apt.log")" >&2; exit 1; }
dpkg-deb -x "$scratch"/linux-image-*.deb "$scratch/unpacked"

# Assemble beside the cache and rename into place: a parallel run sees the
# whole kernel or none of it.
mkdir -p "$cache"
staging=$(mktemp -d "$cache/.staging.XXXXXX")
cp "$scratch"/unpacked/boot/vmlinuz-* "$staging/vmlinuz"
brd=$(find "$scratch/unpacked/lib/modules" -name brd.ko | head -1)
[ -z "$brd" ] || cp "$brd" "$staging/brd.ko"
echo "$image" >"$staging/package"
chmod 755 "$staging"
mv -T "$staging" "$cache/debian" 2>/dev/null || rm -rf "$staging"
echo "$cache/debian"
