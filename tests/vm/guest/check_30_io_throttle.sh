# blockIO.throttleReadBpsDevice becomes io.max and holds: reading 3 MiB from
# brd's RAM disk at 1 MiB/s takes seconds where it would take milliseconds.
id=io
cg=/sys/fs/cgroup/berth-vm/io
if [ ! -b /dev/ram0 ]; then
    skip "io.max on a real block device" "no /dev/ram0 (brd.ko was not in the initramfs)"
    return 0
fi
bundle=$(make_bundle io)
succeeds "run --detach a container with a read limit on /dev/ram0" \
    runtime run --detach --bundle "$bundle" $id
expect "throttleReadBpsDevice is io.max" "1:0 rbps=1048576 wbps=max riops=max wiops=max" \
    "$(cat $cg/io.max)"
start=$(now_cs)
runtime exec $id dd if=/dev/ram0 of=/dev/null bs=64k count=48 iflag=direct 2>/dev/null
elapsed=$(($(now_cs) - start))
# The first slice may run ahead of the rate; 3 MiB cannot take under 1.5 s.
if [ "$elapsed" -ge 150 ]; then pass "reading 3 MiB at 1 MiB/s is throttled (${elapsed}0 ms)"; else
    fail "reading 3 MiB at 1 MiB/s is throttled" "it took ${elapsed}0 ms"
fi
succeeds "delete --force" runtime delete --force $id
