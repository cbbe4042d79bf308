#!/usr/bin/env python3
"""Puts phase() timestamps at the steps of `berth run` in a scratch copy of the tree.

Usage (never in the tree you commit from):
    git worktree add --detach ../wt-prof main && cd ../wt-prof
    python3 scripts/phase-profile/instrument.py     # edits this tree
    cmake -S . -B build -DBERTH_TESTS=OFF && cmake --build build --target berth
    BERTH_PHASES=/tmp/phases.log build/src/main/berth run --rm busybox true   # x N
    python3 scripts/phase-profile/analyze.py /tmp/phases.log

Each marker names a line of the source by its text (an anchor), so it
survives most edits; an anchor that no longer matches is reported MISSING.
Every process of a run (CLI, monitor, init until its exec) appends one line
per step to $BERTH_PHASES; analyze.py prints each step's median time.
"""
import os, shutil
here = os.path.dirname(os.path.abspath(__file__))
shutil.copy(os.path.join(here, "phase_trace.h"), "src/base/include/berth/base/phase_trace.h")
P = [
 ("src/main/berth.cpp", "int main(int argc, char** argv) {", "berth main", "after"),
 ("src/cli/container_commands.cpp", "flags->image_and_command = command->remaining();", "cli run callback", "before"),
 ("src/cli/container_commands.cpp", "if (is_run) engine->get_ready_to_start();", "cli engine open", "after"),
 ("src/cli/container_commands.cpp", "if (!is_run) {", "cli created", "before"),
 ("src/engine/pending_monitor.cpp", "::prctl(PR_SET_CHILD_SUBREAPER, 1);", "monitor forked", "after"),
 ("src/engine/pending_monitor.cpp", "Frame frame = receive_frame(control);", "monitor db opened", "before"),
 ("src/engine/pending_monitor.cpp", "// The starter failed (a missing image", "monitor got plan", "before"),
 ("src/engine/pending_monitor.cpp", "if (!control_) fail(\"the container's monitor was started already\");", "cli sending plan", "before"),
 ("src/engine/monitor.cpp", "    if (!plan_.attach_socket.empty()) {", "monitor db updated", "before"),
 ("src/engine/monitor.cpp", "        console_ = runtime_->create(plan_.id", "monitor create call", "before"),
 ("src/engine/monitor.cpp", "    // Only the init may hold the pipes' other ends now", "monitor runtime created", "before"),
 ("src/engine/monitor.cpp", "        restore_stdio();\n        init_pid_ = init;", "monitor meanwhile begin", "before"),
 ("src/engine/monitor.cpp", "    runtime_->start(plan_.id);\n", "monitor runtime started", "after"),
 ("src/engine/monitor.cpp", "    ContainerRecord record = containers().get(plan_.id);\n    const RestartPolicy", "exit handling", "before"),
 ("src/engine/monitor.cpp", "    bool released = false;", "finish begin", "before"),
 ("src/engine/monitor.cpp", "    try {\n        ContainerRecord record = read ? std::move(*read) : containers().get(plan_.id);\n        record.state = ContainerState::exited;", "finish released", "before"),
 ("src/engine/monitor.cpp", "    forward(FrameType::exited, std::to_string(exit_code));\n    close_control();", "finish forwarding", "before"),
 ("src/engine/monitor.cpp", "    database().checkpoint_if_worthwhile();\n}", "finish done", "after1"),
 ("src/engine/relay.cpp", "            init_exited_ = true;", "relay init reaped", "after"),
 ("src/engine/attachment.cpp", "        case FrameType::exited: {", "cli got exited", "after"),
 ("src/engine/attachment.cpp", "            while (!receive_frame(socket_.get()).closed) {\n            }", "cli socket closed", "after"),
 ("src/engine/container_create.cpp", "    image::Image image = store.resolve(request.image);", "create resolved image", "after"),
 ("src/engine/container_create.cpp", "        bool host_network = request.network == \"host\";", "create rootfs mounted", "before"),
 ("src/engine/container_create.cpp", "        nlohmann::json spec = build_oci_spec(request, image_config, inputs);", "create spec built", "after"),
 ("src/runtime/create.cpp", "    oci::Spec spec = load_spec(bundle, config_text);", "rt spec loaded", "after"),
 ("src/runtime/create.cpp", "        cgroup = setup_cgroup(spec, options.id);", "rt cgroup set up", "after"),
 ("src/runtime/create.cpp", "        std::optional<seccomp::Filter> filter = compile_seccomp", "rt seccomp", "after"),
 ("src/runtime/create.cpp", "        SpawnedInit init = spawn_init(context, runtime_end.get());", "rt spawned", "after"),
 ("src/runtime/create.cpp", "                        if (options.while_init_mounts) options.while_init_mounts(init.pid);", "rt meanwhile done", "after"),
 ("src/runtime/create.cpp", "        record.state.status = oci::Status::created;", "rt init created", "before"),
 ("src/runtime/container_cgroup.cpp", "    cgroups::Cgroup cgroup = cgroups::Cgroup::for_container(spec.linux.cgroups_path, id);", "cg placed", "after"),
 ("src/runtime/container_cgroup.cpp", "        cgroup.create();", "cg created", "after"),
 ("src/runtime/container_init.cpp", "        std::string state_json = expect_sync(context.sync_fd, SyncType::go).text;", "init go", "after"),
 ("src/runtime/container_init.cpp", "        UniqueFd root = prepare_rootfs(spec, context.rootfs, mount_context);", "init rootfs prepared", "after"),
 ("src/runtime/container_init.cpp", "        switch_root(context.rootfs, context.no_pivot);", "init pivoted", "after"),
 ("src/runtime/container_init.cpp", "        finish_rootfs(spec);", "init rootfs finished", "after"),
 ("src/runtime/container_init.cpp", "        enter_process(*spec.process, prepared, context.preserve_fds);", "init entered", "after"),
 ("src/runtime/container_init.cpp", "        wait_for_start(context.exec_fifo_fd);", "init started", "after"),
]
for f,anchor,name,where in P:
    if anchor is None: continue
    s=open(f).read()
    if anchor not in s:
        print("MISSING", f, anchor[:50]); continue
    i=s.index(anchor)
    if where=="after":
        j=s.index("\n", i+len(anchor)-1 if anchor.endswith("\n") else i+len(anchor))+1
        indent=" "*(len(anchor)-len(anchor.lstrip(" ")))
        # indent of the anchor line
        ls=s.rfind("\n",0,i)+1; indent=s[ls:i] if s[ls:i].strip()=="" else ""
        if anchor.rstrip().endswith("{"): indent+="    "
        s=s[:j]+f'{indent}phase("{name}");\n'+s[j:]
    elif where=="after1":  # before the last line of the anchor (closing brace)
        k=i+len(anchor)-1
        ls=s.rfind("\n",0,k)+1
        s=s[:ls]+f'    phase("{name}");\n'+s[ls:]
    else:
        ls=s.rfind("\n",0,i)+1
        indent=s[ls:i] if s[ls:i].strip()=="" else ""
        first=anchor.split("\n")[0]; ind2=first[:len(first)-len(first.lstrip(" "))]
        s=s[:ls]+f'{ind2 or indent}phase("{name}");\n'+s[ls:]
    if '#include "berth/base/phase_trace.h"' not in s:
        s='#include "berth/base/phase_trace.h"\n'+s
    open(f,"w").write(s)
