// Freezing, thawing and killing every process of a container at once.
#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "control_files.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

namespace berth::runtime::cgroups {

namespace {

constexpr auto freeze_timeout = std::chrono::seconds(5);

// Waits, with growing pauses, until `done` says yes or the timeout passes.
template <class Check> bool wait_until(Check&& done) {
    auto delay = std::chrono::microseconds(200);
    auto deadline = std::chrono::steady_clock::now() + freeze_timeout;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::microseconds(50000));
    }
}

bool v2_frozen(const std::string& directory) {
    return read_keyed_control(directory, "cgroup.events")["frozen"] == 1;
}

} // namespace

std::string Cgroup::freezer_directory(bool& is_v1) const {
    // Hybrid hosts have both; the v1 freezer is the one runc and systemd use there.
    is_v1 = mode_ != Mode::v2 && placements_.count("freezer");
    if (is_v1) return directory("freezer");
    std::string v2 = directory("unified");
    if (!v2.empty() && has_control(v2, "cgroup.freeze")) return v2;
    fail("freezing needs the v1 freezer controller or cgroup v2's cgroup.freeze, and this host "
         "has neither");
}

void Cgroup::freeze() {
    bool is_v1 = false;
    std::string dir = freezer_directory(is_v1);
    with_context("freezing " + dir, [&] {
        if (is_v1) {
            // A task busy in the kernel can keep the state at FREEZING; asking
            // again retries the ones that have not stopped yet.
            bool done = wait_until([&] {
                write_control(dir, "freezer.state", "FROZEN");
                return read_control_trimmed(dir, "freezer.state") == "FROZEN";
            });
            if (done) return;
            write_control(dir, "freezer.state", "THAWED");
        } else {
            write_control(dir, "cgroup.freeze", "1");
            if (wait_until([&] { return v2_frozen(dir); })) return;
            write_control(dir, "cgroup.freeze", "0");
        }
        fail("some processes did not stop within 5 seconds; left them running");
    });
}

void Cgroup::thaw() {
    bool is_v1 = false;
    std::string dir = freezer_directory(is_v1);
    with_context("thawing " + dir, [&] {
        if (is_v1) {
            write_control(dir, "freezer.state", "THAWED");
            return;
        }
        write_control(dir, "cgroup.freeze", "0");
        if (!wait_until([&] { return !v2_frozen(dir); }))
            fail("cgroup.events still says frozen after 5 seconds");
    });
}

bool Cgroup::frozen() const {
    bool is_v1 = false;
    std::string dir = freezer_directory(is_v1);
    if (is_v1) return read_control_trimmed(dir, "freezer.state") == "FROZEN";
    return v2_frozen(dir);
}

void Cgroup::kill_all(int signal) {
    // cgroup.kill (Linux 5.14) kills the whole tree in the kernel, forks and all.
    // Hybrid hosts have it too: every process is in the cgroup2 tree as well.
    std::string v2 = directory("unified");
    if (signal == SIGKILL && !v2.empty() && has_control(v2, "cgroup.kill")) {
        write_control(v2, "cgroup.kill", "1");
        return;
    }
    // Otherwise a frozen cgroup keeps a forking process from slipping a child
    // past the list being signalled. Signals wait in frozen processes and act
    // at the thaw; SIGKILL even kills a v2-frozen one at once.
    bool froze = false;
    try {
        if (!frozen()) {
            freeze();
            froze = true;
        }
    } catch (const Error&) {
        // No freezer, or one that would not freeze: signal them all the same.
    }
    std::string failure;
    for (pid_t pid : pids())
        if (::kill(pid, signal) < 0 && errno != ESRCH && failure.empty())
            failure = "signalling process " + std::to_string(pid) + ": " + std::strerror(errno);
    if (froze) thaw();
    if (!failure.empty()) fail(failure);
}

} // namespace berth::runtime::cgroups
