// Why a container start makes a cgroup move that changes nothing, and why
// a `run` makes its container's cgroup before those moves, on the same side
// thread: see warm_up_moves() and make_cgroup_and_warm_up_moves() in cgroups.h.
#include "berth/base/side_thread.h"
#include "berth/runtime/cgroups.h"
#include "hierarchies.h"
#include "path.h"

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <mutex>
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

// Once per process: whether moves are worth warming up here (and where).
bool ready_to_warm_up(const std::string& cgroup_root) {
    static bool done = false;
    if (done) return false;
    done = true;
    std::string procs_file;
    try {
        Host host = Host::detect(cgroup_root);
        // On v2 the runtime clones the init straight into its cgroup: no move.
        if (host.mode == Mode::v2) return false;
        procs_file = own_procs_file(host);
    } catch (const std::exception&) {
        return false; // no cgroups to speak of: nothing will be moved either
    }
    if (procs_file.empty() || procs_file.size() >= sizeof procs_file_path) return false;
    std::memcpy(procs_file_path, procs_file.c_str(), procs_file.size() + 1);
    return true;
}

struct EarlyCgroup {
    std::string cgroups_path, id, cgroup_root;
    bool warm_up = false;
};

void make_cgroup(const EarlyCgroup& early) {
    try {
        Cgroup::for_container(early.cgroups_path, early.id, early.cgroup_root).create();
    } catch (const std::exception&) {
        // Only a head start: the runtime's create makes it, or says why not.
    }
}

// Set once the side thread has made the early cgroup.
struct {
    std::mutex lock;
    std::condition_variable changed;
    bool pending = false;
} early_cgroup;

void make_cgroup_then_keep_moves_warm(void* job) {
    std::unique_ptr<EarlyCgroup> early(static_cast<EarlyCgroup*>(job));
    make_cgroup(*early);
    {
        std::lock_guard<std::mutex> held(early_cgroup.lock);
        early_cgroup.pending = false;
    }
    early_cgroup.changed.notify_all();
    if (early->warm_up) keep_moves_warm(nullptr);
}

} // namespace

void warm_up_moves(const std::string& cgroup_root) {
    // Nothing waits for it, but clone3_fork (side_thread.h).
    if (ready_to_warm_up(cgroup_root)) run_on_side_thread(keep_moves_warm, nullptr);
}

void make_cgroup_and_warm_up_moves(const std::string& cgroups_path, const std::string& id,
                                   const std::string& cgroup_root) {
    auto early = std::make_unique<EarlyCgroup>();
    *early = {cgroups_path, id, cgroup_root, ready_to_warm_up(cgroup_root)};
    early_cgroup.pending = true;
    if (run_on_side_thread(make_cgroup_then_keep_moves_warm, early.get())) {
        early.release(); // the thread's now
        return;
    }
    early_cgroup.pending = false;
    make_cgroup(*early);
}

void wait_for_early_cgroup() {
    std::unique_lock<std::mutex> held(early_cgroup.lock);
    early_cgroup.changed.wait(held, [] { return !early_cgroup.pending; });
}

void stop_warming_moves() {
    ask_side_thread_to_stop();
}

} // namespace berth::runtime::cgroups
