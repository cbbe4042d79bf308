#!/bin/busybox sh
# The guest's /init, first stage: moves everything from the initramfs onto a
# tmpfs and switches root to it. The runtime's pivot_root refuses a root that
# is the initramfs itself (it has no parent mount), and berth must be tested
# with pivot_root, the way it runs on every real host.
/bin/busybox mkdir -p /proc /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs -o mode=755 root /newroot
for entry in /*; do
    case "$entry" in
    /proc | /dev | /newroot) ;;
    *) /bin/busybox cp -a "$entry" /newroot/ ;;
    esac
done
/bin/busybox mkdir -p /newroot/proc /newroot/dev
/bin/busybox umount /proc
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot /guest/main.sh
