# The guest is the host berth must be tested on: one cgroup2 tree, every
# controller in it, no v1 hierarchy anywhere.
# busybox's stat has no name for cgroup2's magic number (CGROUP2_SUPER_MAGIC).
expect "cgroup2 is mounted at /sys/fs/cgroup" 63677270 "$(stat -f -c %t /sys/fs/cgroup)"
expect "no v1 hierarchy is mounted" 0 "$(grep -c ' cgroup ' /proc/mounts)"
expect "this shell sits in the v2 root only" "0::/" "$(cat /proc/self/cgroup)"
controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
for controller in cpu io memory pids; do
    expect_contains "v2 offers the $controller controller" "$controller" "$controllers"
done
