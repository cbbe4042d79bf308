# Helpers shared by the guest's checks (busybox sh). Sourced, not run.
#
# The host reads the serial console for lines of exactly these shapes, so a
# check reports only through pass, fail and skip:
#   BERTH-VM PASS <check>
#   BERTH-VM FAIL <check>: <what was seen instead>
#   BERTH-VM SKIP <check>: <why>

RUNTIME=/usr/local/bin/berth-runtime
STATE=/run/berth-vm          # the runtime's --root: nothing else uses it
BUNDLES=/var/lib/berth-vm    # one bundle per config in /guest/configs

pass() { echo "BERTH-VM PASS $1"; }
fail() { echo "BERTH-VM FAIL $1: $2"; }
skip() { echo "BERTH-VM SKIP $1: $2"; }

# expect NAME WANTED SEEN
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted '$2', saw '$3'"; fi
}

# expect_contains NAME NEEDLE TEXT
expect_contains() {
    case "$3" in
    *"$2"*) pass "$1" ;;
    *) fail "$1" "no '$2' in '$(echo "$3" | head -c 300)'" ;;
    esac
}

# succeeds NAME COMMAND...: passes when the command exits 0, else shows its
# output. The output goes through a file, not a pipe: a detached container
# inherits it, and a pipe would stay open for as long as the container runs.
succeeds() {
    name=$1
    shift
    if "$@" >/tmp/succeeds.out 2>&1; then pass "$name"; else
        fail "$name" "exit $?: $(head -c 300 /tmp/succeeds.out)"
    fi
}

runtime() { "$RUNTIME" --root "$STATE" "$@"; }

# make_bundle CONFIG [NAME]: a bundle (named CONFIG unless NAME is given)
# whose rootfs holds busybox and the probe, with /guest/configs/CONFIG.json.
make_bundle() {
    bundle=$BUNDLES/${2:-$1}
    mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" \
        "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
    cp /bin/busybox "$bundle/rootfs/bin/busybox"
    for applet in sh sleep seq mknod dd cat; do ln -sf busybox "$bundle/rootfs/bin/$applet"; done
    cp /guest/probe "$bundle/rootfs/probe"
    cp "/guest/configs/$1.json" "$bundle/config.json"
    echo "$bundle"
}

# The value of KEY in a flat "key value" file such as memory.events.
keyed() { awk -v key="$2" '$1 == key { print $2 }' "$1"; }

# Fields of the JSON that `state` prints, read from stdin (there is no jq here).
state_pid() { sed -n 's/^ *"pid": \([0-9]*\),*$/\1/p'; }
state_status() { sed -n 's/^ *"status": "\([a-z]*\)",*$/\1/p'; }
init_pid() { runtime state "$1" | state_pid; }
status_of() { runtime state "$1" | state_status; }

# wait_until SECONDS CONDITION: polls every 0.1 s until the shell code
# CONDITION succeeds; fails once SECONDS have passed.
wait_until() {
    tries=$(($1 * 10))
    while ! eval "$2" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# Centiseconds since boot: busybox date has no sub-second clock.
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
