// Why a container start makes a cgroup move that changes nothing: see
// warm_up_moves() in cgroups.h.
#include "berth/base/side_thread.h"
#include "berth/runtime/cgroups.h"
#include "hierarchies.h"
#include "path.h"

#include <climits>
#include <cstdio>
#include <cstring>
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

void move_into_own_cgroup(void*) {
    int fd = ::open(procs_file_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    char pid[16];
    int length = std::snprintf(pid, sizeof pid, "%d", static_cast<int>(::getpid()));
    [[maybe_unused]] ssize_t ignored = ::write(fd, pid, static_cast<std::size_t>(length));
    ::close(fd);
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
    run_on_side_thread(move_into_own_cgroup, nullptr);
}

} // namespace berth::runtime::cgroups
