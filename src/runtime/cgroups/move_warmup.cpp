// Why a container start makes a cgroup move that changes nothing: see
// warm_up_moves() in cgroups.h.
#include "berth/base/side_thread.h"
#include "berth/runtime/cgroups.h"
#include "hierarchies.h"
#include "path.h"

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace berth::runtime::cgroups {

namespace {

// The cgroup.procs file of this process's own cgroup in one hierarchy
// (any will do: every move takes the same lock), or "" if none is found.
std::string own_procs_file(const Host& host) {
    if (host.mode != Mode::v1) {
        std::string mount = host.cgroup_root + (host.mode == Mode::hybrid ? "/unified" : "");
        return join_below(mount, own_cgroup(host.own_cgroups, "unified")) + "/cgroup.procs";
    }
    for (const auto& [controller, mount] : v1_hierarchies(host.cgroup_root))
        return join_below(mount, own_cgroup(host.own_cgroups, controller)) + "/cgroup.procs";
    return {};
}

// Static: the thread may outlive any caller's frame, and it needs no heap.
char procs_file_path[PATH_MAX];

bool move_into_own_cgroup() {
    int fd = ::open(procs_file_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char pid[16];
    int length = std::snprintf(pid, sizeof pid, "%d", static_cast<int>(::getpid()));
    bool moved = ::write(fd, pid, static_cast<std::size_t>(length)) == length;
    ::close(fd);
    return moved;
}

// The first move waits out a grace period. The lock goes idle again a grace
// period after the last move (and the next move would wait a whole one), so
// the moves go on, a few milliseconds apart, until the caller's container
// has been moved (stop_warming_moves) or for a quarter of a second at most.
void keep_moves_warm(void*) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
    while (!side_thread_asked_to_stop() && std::chrono::steady_clock::now() < deadline) {
        if (!move_into_own_cgroup()) return;
        timespec pause{0, 2'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

} // namespace

void warm_up_moves(const std::string& cgroup_root) {
    static bool done = false;
    if (done) return;
    done = true;
    std::string procs_file;
    try {
        procs_file = own_procs_file(Host::detect(cgroup_root));
    } catch (const std::exception&) {
        return; // no cgroups to speak of: nothing will be moved either
    }
    if (procs_file.empty() || procs_file.size() >= sizeof procs_file_path) return;
    std::memcpy(procs_file_path, procs_file.c_str(), procs_file.size() + 1);
    // Nothing waits for it, but clone3_fork (side_thread.h).
    run_on_side_thread(keep_moves_warm, nullptr);
}

void stop_warming_moves() {
    ask_side_thread_to_stop();
}

} // namespace berth::runtime::cgroups
