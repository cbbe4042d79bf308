#include "spawn.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "namespaces.h"
#include "sync_channel.h"

#include <csignal>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

// The flags the init is cloned with; the cgroup namespace waits until the
// init sits in its cgroup, and the time namespace needs an intermediate.
std::uint64_t clone_flags(const oci::Spec& spec) {
    return new_namespace_flags(spec) & ~static_cast<std::uint64_t>(CLONE_NEWCGROUP | CLONE_NEWTIME);
}

[[noreturn]] void run_intermediate(const InitContext& context, int runtime_sync_fd) {
    ::close(runtime_sync_fd);
    const oci::Spec& spec = *context.spec;
    try {
        join_namespaces(spec);
        if (new_namespace_flags(spec) & CLONE_NEWTIME) {
            if (::unshare(CLONE_NEWTIME) < 0) throw_errno("creating the time namespace");
            write_time_offsets(spec);
        }
        // CLONE_PARENT: the init becomes the runtime's child, not ours, so
        // the runtime can wait for it and we can simply exit.
        pid_t pid =
            clone3_fork(clone_flags(spec) | CLONE_PARENT, nullptr, SIGCHLD, context.cgroup_fd);
        if (pid == 0) container_init(context);
        send_sync(context.sync_fd, SyncType::init_pid, std::to_string(pid));
        _exit(0);
    } catch (const std::exception& error) {
        try {
            send_sync(context.sync_fd, SyncType::error, error.what());
        } catch (...) {
        }
        _exit(1);
    }
}

} // namespace

SpawnedInit spawn_init(const InitContext& context, int runtime_sync_fd) {
    const oci::Spec& spec = *context.spec;
    SpawnedInit init;
    bool needs_intermediate =
        joins_any_namespace(spec) || (new_namespace_flags(spec) & CLONE_NEWTIME);
    if (!needs_intermediate) {
        int pidfd = -1;
        init.pid = clone3_fork(clone_flags(spec), &pidfd, SIGCHLD, context.cgroup_fd);
        if (init.pid == 0) {
            ::close(runtime_sync_fd);
            container_init(context);
        }
        init.pidfd.reset(pidfd);
        return init;
    }
    int stage_pidfd = -1;
    pid_t stage = clone3_fork(0, &stage_pidfd, SIGCHLD);
    if (stage == 0) run_intermediate(context, runtime_sync_fd);
    UniqueFd stage_fd(stage_pidfd);
    SyncMessage message = receive_sync(runtime_sync_fd);
    int status = 0;
    ::waitpid(stage, &status, 0);
    if (message.type != SyncType::init_pid) throw Error(message.text);
    init.pid = static_cast<pid_t>(std::stol(message.text));
    int pidfd = pidfd_open(init.pid);
    if (pidfd < 0) throw_errno("watching the container's init");
    init.pidfd.reset(pidfd);
    return init;
}

} // namespace berth::runtime
