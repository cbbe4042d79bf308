# The init is cloned straight into the container's cgroup (clone3 with
# CLONE_INTO_CGROUP), never forked into the runtime's own first: a runtime
# started from a cgroup whose pids.max is 1 (itself) can fork nothing there,
# yet its container starts.
id=clone-into
launcher=/sys/fs/cgroup/berth-vm-launcher
bundle=$(make_bundle oom clone-into)
sed -i 's|"cgroupsPath": "[^"]*"|"cgroupsPath": "/berth-vm/clone-into"|' "$bundle/config.json"
mkdir -p $launcher
echo 1 >$launcher/pids.max

# The control: a shell moved there cannot start a program and go on (the
# probe: busybox runs its own applets without a fork).
out=$( (echo 0 >$launcher/cgroup.procs && exec sh -c '/guest/probe exit 0; /guest/probe exit 0') 2>&1)
expect_contains "a plain fork from the launcher cgroup fails (pids.max 1)" "fork" "$out"

(echo 0 >$launcher/cgroup.procs && exec "$RUNTIME" --root "$STATE" run --detach \
    --bundle "$bundle" $id) >/tmp/launcher.out 2>&1
expect "run --detach from the launcher cgroup succeeds" "0: " "$?: $(cat /tmp/launcher.out)"
expect "the init sits in the container's cgroup" "0::/berth-vm/clone-into" \
    "$(cat /proc/"$(init_pid $id)"/cgroup 2>&1)"
expect "the launcher cgroup is empty again" "" "$(cat $launcher/cgroup.procs)"
runtime delete --force $id
rmdir $launcher
