# Rootless on a pure v2 host, as user "rootless" (uid 1000) with the config
# `spec --rootless` writes: without a cgroup of its own the container runs
# with a warning and no limits; in a cgroup subtree delegated to the user
# (as systemd delegates user@.service) it gets its limits, as with root.
user_state=/run/berth-vm-rootless
delegated=/sys/fs/cgroup/delegated

# as_user COMMAND ARGS...: runs COMMAND as uid 1000 with no capability.
# (`--`: busybox su would take the command's own options for its.)
as_user() { su -s /bin/sh -c 'exec "$@"' -- rootless sh "$@"; }
user_runtime() { as_user "$RUNTIME" --root "$user_state" "$@"; }

# rootless_bundle NAME CGROUPS_PATH: a bundle owned by the user with the
# config `spec --rootless` writes, made to run the probe with limits there.
rootless_bundle() {
    bundle=$BUNDLES/rootless-$1
    mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" \
        "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
    cp /bin/busybox "$bundle/rootfs/bin/busybox"
    ln -sf busybox "$bundle/rootfs/bin/sh"
    cp /guest/probe "$bundle/rootfs/probe"
    chown -R 1000:1000 "$bundle"
    (cd "$bundle" && as_user "$RUNTIME" spec --rootless)
    sed -i -e 's/"terminal": true/"terminal": false/' \
        -e 's|^\( *\)"sh"$|\1"/probe", "sleep", "600"|' \
        -e "s|^    \"linux\": {\$|&\n        \"cgroupsPath\": \"$2\",\n        \"resources\": {\"pids\": {\"limit\": 16}, \"memory\": {\"limit\": 33554432}},|" \
        "$bundle/config.json"
    echo "$bundle"
}

mkdir -p $user_state
chown 1000:1000 $user_state

# Not delegated: /sys/fs/cgroup/berth-vm is root's.
bundle=$(rootless_bundle denied /berth-vm/rootless)
succeeds "rootless run --detach without a writable cgroup" \
    user_runtime run --detach --bundle "$bundle" denied
expect_contains "it warns that the container gets no cgroup" "no cgroup for a rootless container" \
    "$(cat /tmp/succeeds.out)"
expect "the container is running" running "$(user_runtime state denied | state_status)"
expect "inside, uid 0 is the user" "0 1000 1" \
    "$(user_runtime exec denied /probe cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
succeeds "rootless delete --force" user_runtime delete --force denied
expect "no cgroup was made" absent "$([ -d /sys/fs/cgroup/berth-vm/rootless ] && echo present || echo absent)"

# Delegated: the user owns delegated/ and its cgroup.procs; the runtime is
# started from a leaf below it, since v2 keeps processes out of inner cgroups.
mkdir -p $delegated/launcher
chown 1000:1000 $delegated $delegated/cgroup.procs $delegated/cgroup.subtree_control \
    $delegated/cgroup.threads $delegated/launcher $delegated/launcher/cgroup.procs
bundle=$(rootless_bundle delegated /delegated/ctr)
(echo 0 >$delegated/launcher/cgroup.procs && exec su -s /bin/sh -c 'exec "$@"' -- rootless sh \
    "$RUNTIME" --root $user_state run --detach --bundle "$bundle" delegated) >/tmp/delegated.out 2>&1
expect "rootless run --detach in a delegated cgroup" "0: " "$?: $(cat /tmp/delegated.out)"
expect "the init sits in the delegated cgroup" "0::/delegated/ctr" \
    "$(cat /proc/"$(user_runtime state delegated | state_pid)"/cgroup 2>&1)"
expect "pids.limit is applied in the delegated cgroup" 16 "$(cat $delegated/ctr/pids.max 2>&1)"
expect "memory.limit is applied in the delegated cgroup" 33554432 \
    "$(cat $delegated/ctr/memory.max 2>&1)"
succeeds "rootless pause in a delegated cgroup" user_runtime pause delegated
expect "the delegated cgroup is frozen" 1 "$(keyed $delegated/ctr/cgroup.events frozen)"
succeeds "rootless resume" user_runtime resume delegated
succeeds "rootless delete --force" user_runtime delete --force delegated
expect "delete removed the delegated container cgroup" absent \
    "$([ -d $delegated/ctr ] && echo present || echo absent)"
