#!/bin/busybox sh
# The guest's init, second stage (pid 1 on a tmpfs root): mounts what a host
# has, runs every check, says DONE and powers off. Whatever happens, the
# guest powers off: the host must never wait for its timeout on a guest that
# has nothing left to say.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/local/bin
mkdir -p /proc /sys /tmp /run /var/lib
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# A block device for io.max to name: brd's RAM disk (a module in Debian's kernels).
[ -f /guest/brd.ko ] && insmod /guest/brd.ko rd_nr=1 rd_size=8192

. /guest/lib.sh
echo "BERTH-VM START at $(cut -d' ' -f1 /proc/uptime) s: kernel $(uname -r), cmdline $(cat /proc/cmdline)"
for check in /guest/check_*.sh; do
    # Each in its own shell, so that one gone wrong cannot end the others.
    sh -c ". /guest/lib.sh; . $check" || fail "$(basename "$check" .sh)" "exited with $?"
done
echo "BERTH-VM DONE at $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
