# The OOM killer inside a memory limit: `events` reports the kill, the
# container's init survives a hog it did not start, and a container whose
# init is the hog ends with SIGKILL.
id=oom
cg=/sys/fs/cgroup/berth-vm/oom
hog='x=aaaaaaaa; while :; do x=$x$x; done'
bundle=$(make_bundle oom)

succeeds "run --detach a container limited to 32 MiB without swap" \
    runtime run --detach --bundle "$bundle" $id
runtime events --interval 60s $id >/tmp/oom-events 2>&1 &
events_pid=$!
sleep 0.5 # events reads the OOM count it starts from
runtime exec --detach $id sh -c "$hog" >/dev/null 2>&1
if wait_until 60 'grep -q "\"type\":\"oom\"" /tmp/oom-events'; then
    pass "events reports the OOM kill"
else
    fail "events reports the OOM kill" "$(head -c 300 /tmp/oom-events)"
fi
kill "$events_pid" 2>/dev/null
wait "$events_pid" 2>/dev/null
kills=$(keyed $cg/memory.events oom_kill)
if [ "${kills:-0}" -ge 1 ]; then pass "memory.events counts the OOM kill"; else
    fail "memory.events counts the OOM kill" "$(cat $cg/memory.events)"
fi
expect "the init outlived the hog" running "$(status_of $id)"
succeeds "delete --force" runtime delete --force $id

sed "s|\"args\": \[.*\]|\"args\": [\"sh\", \"-c\", \"$hog\"]|" "$bundle/config.json" >/tmp/hog.json
mv /tmp/hog.json "$bundle/config.json"
runtime run --bundle "$bundle" oom-init >/dev/null 2>&1
expect "run of a container whose init is the hog exits 137 (SIGKILL)" 137 "$?"
runtime delete --force oom-init >/dev/null 2>&1
