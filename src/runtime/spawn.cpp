#include "spawn.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "namespaces.h"
#include "sync_channel.h"

#include <csignal>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

// The flags the init is cloned with; the cgroup namespace waits until the
// init sits in its cgroup, the time namespace needs an intermediate, and a
// network namespace made ahead is entered instead.
std::uint64_t clone_flags(const InitContext& context) {
    std::uint64_t flags = new_namespace_flags(*context.spec) &
                          ~static_cast<std::uint64_t>(CLONE_NEWCGROUP | CLONE_NEWTIME);
    if (context.network_namespace_fd >= 0) flags &= ~static_cast<std::uint64_t>(CLONE_NEWNET);
    return flags;
}

// This thread in the network namespace made ahead, for the clone, and back
// where it was after (the init, which never returns, stays in it).
class InNetworkNamespace {
  public:
    explicit InNetworkNamespace(int netns_fd) {
        if (netns_fd < 0) return;
        original_ = open_fd("/proc/thread-self/ns/net", O_RDONLY);
        if (::setns(netns_fd, CLONE_NEWNET) < 0)
            throw_errno("entering the container's network namespace");
    }
    ~InNetworkNamespace() {
        if (original_) ::setns(original_.get(), CLONE_NEWNET);
    }
    InNetworkNamespace(const InNetworkNamespace&) = delete;
    InNetworkNamespace& operator=(const InNetworkNamespace&) = delete;

  private:
    UniqueFd original_;
};

[[noreturn]] void run_intermediate(const InitContext& context, int runtime_sync_fd) {
    ::close(runtime_sync_fd);
    const oci::Spec& spec = *context.spec;
    try {
        join_namespaces(spec);
        if (new_namespace_flags(spec) & CLONE_NEWTIME) {
            if (::unshare(CLONE_NEWTIME) < 0) throw_errno("creating the time namespace");
            write_time_offsets(spec);
        }
        InNetworkNamespace entered(context.network_namespace_fd);
        // CLONE_PARENT: the init becomes the runtime's child, not ours, so
        // the runtime can wait for it and we can simply exit.
        pid_t pid =
            clone3_fork(clone_flags(context) | CLONE_PARENT, nullptr, SIGCHLD, context.cgroup_fd);
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
        // Left (in this process) at the return; the init never returns.
        InNetworkNamespace entered(context.network_namespace_fd);
        init.pid = clone3_fork(clone_flags(context), &pidfd, SIGCHLD, context.cgroup_fd);
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
