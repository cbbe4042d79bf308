# One container with every kind of v2 limit (configs/limits.json), seen from
# the host side (the files of its cgroup) and from inside (its cgroup
# namespace), then driven through update, stats, pause, ps, a fork bomb,
# kill --all and delete.
id=limits
cg=/sys/fs/cgroup/berth-vm/limits
bundle=$(make_bundle limits)

succeeds "run --detach a container with memory, pids, cpu, io and device limits" \
    runtime run --detach --bundle "$bundle" $id
pid=$(init_pid $id)
expect "the init sits in the container's cgroup" "0::/berth-vm/limits" "$(cat /proc/"$pid"/cgroup)"
# A fresh v2 host enables no controller below the root: the runtime must.
enabled=$(cat /sys/fs/cgroup/berth-vm/cgroup.subtree_control)
for controller in cpu io memory pids; do
    expect_contains "the runtime enabled $controller for the container" $controller "$enabled"
done

expect "memory.limit is memory.max" 67108864 "$(cat $cg/memory.max)"
expect "memory.swap (memory + swap) is memory.swap.max 0" 0 "$(cat $cg/memory.swap.max)"
expect "pids.limit is pids.max" 32 "$(cat $cg/pids.max)"
expect "cpu.quota and cpu.period are cpu.max" "50000 100000" "$(cat $cg/cpu.max)"
expect "cpu.shares 512 is cpu.weight 20" 20 "$(cat $cg/cpu.weight)"
# BFQ is a module nobody loaded, so the weight goes to iocost's io.weight.
expect "blockIO.weight 500 is io.weight 4950" "default 4950" "$(cat $cg/io.weight)"

# Inside, the cgroup namespace makes the container's cgroup the root.
expect "inside, /proc/self/cgroup is 0::/" "0::/" "$(runtime exec $id /probe cat /proc/self/cgroup)"
expect "inside, /sys/fs/cgroup/memory.max is the limit" 67108864 \
    "$(runtime exec $id /probe cat /sys/fs/cgroup/memory.max)"
expect "inside, /sys/fs/cgroup/pids.max is the limit" 32 \
    "$(runtime exec $id /probe cat /sys/fs/cgroup/pids.max)"
expect_contains "inside, the cgroup tree is read-only" "EROFS" \
    "$(runtime exec $id /probe write /sys/fs/cgroup/pids.max max 2>&1)"

# Device rules are an eBPF program on v2: /dev/kmsg is bind-mounted in but
# not allowed, /dev/null is one of the default devices.
succeeds "the eBPF device program lets /dev/null be written" \
    runtime exec $id /probe write /dev/null x
expect_contains "the eBPF device program denies opening /dev/kmsg" "EPERM" \
    "$(runtime exec $id /probe write /dev/kmsg x 2>&1)"
expect_contains "the eBPF device program denies mknod of c 1:1, even with CAP_MKNOD" \
    "Operation not permitted" "$(runtime exec --cap CAP_MKNOD $id mknod /tmp/mem c 1 1 2>&1)"
succeeds "mknod of a fifo is not a device and works" runtime exec $id mknod /tmp/fifo p

succeeds "update --memory 96m --pids-limit 40 --cpu-quota 25000" \
    runtime update --memory 96m --pids-limit 40 --cpu-quota 25000 $id
expect "update changed memory.max" 100663296 "$(cat $cg/memory.max)"
expect "update changed pids.max" 40 "$(cat $cg/pids.max)"
expect "update changed cpu.max" "25000 100000" "$(cat $cg/cpu.max)"

stats=$(runtime events --stats $id)
expect_contains "events --stats reports the memory figures" '"memory":{' "$stats"
expect_contains "events --stats reports pids.current" '"pids":{"current":1' "$stats"

succeeds "pause" runtime pause $id
expect "pause froze the cgroup (cgroup.events)" 1 "$(keyed $cg/cgroup.events frozen)"
expect "state says paused" paused "$(status_of $id)"
succeeds "resume" runtime resume $id
expect "resume thawed the cgroup (cgroup.events)" 0 "$(keyed $cg/cgroup.events frozen)"
expect "state says running" running "$(status_of $id)"

expect "ps lists the init" "$pid" "$(runtime ps --format json $id | tr -d '[] \n')"

runtime exec --detach $id sh -c 'for i in $(seq 100); do sleep 600 & done; wait' >/dev/null 2>&1
if wait_until 30 '[ "$(keyed $cg/pids.events max)" -gt 0 ]'; then
    pass "a fork bomb runs into pids.max (pids.events max > 0)"
else
    fail "a fork bomb runs into pids.max (pids.events max > 0)" "$(cat $cg/pids.events)"
fi
current=$(cat $cg/pids.current)
if [ "$current" -le 40 ]; then pass "pids.current stays within pids.max ($current)"; else
    fail "pids.current stays within pids.max" "$current processes"
fi

succeeds "kill --all KILL" runtime kill --all $id KILL
if wait_until 10 '[ "$(keyed $cg/cgroup.events populated)" = 0 ]'; then
    pass "kill --all emptied the cgroup"
else
    fail "kill --all emptied the cgroup" "$(cat $cg/cgroup.procs | wc -l) processes left"
fi
wait_until 5 '[ "$(status_of $id)" = stopped ]'
expect "state says stopped" stopped "$(status_of $id)"
succeeds "delete" runtime delete $id
expect "delete removed the container's cgroup" absent "$([ -d $cg ] && echo present || echo absent)"
expect "delete left the parent cgroup" present \
    "$([ -d /sys/fs/cgroup/berth-vm ] && echo present || echo absent)"
