// berth-monitor: the part of a container's monitor that waits while the
// container runs (see src/engine/monitor_handoff.h). berth's monitor execs
// it once the container has started:
//
//   berth-monitor --init-pid=PID --stdout=FD ... -- EXIT-COMMAND [ARG...]
//
// Static, with no SQLite and no JSON library, so that each running
// container costs a few hundred KiB of memory rather than a copy of berth.
#include "../engine/relay.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// Every fd but stdio and the plan's closes; those are close-on-exec until
// the exit command is exec'd, so the periodic command inherits none. An
// fd left over from the first stage (a lock, the database) would otherwise
// stay open for as long as the container runs.
void keep_only(std::vector<int> keep) {
    berth::close_fds_except(std::move(keep));
    berth::mark_cloexec_from(3);
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        berth::engine::RelayPlan plan = berth::engine::decode_relay_plan(args);
        std::vector<int> kept{plan.stdout_read, plan.stderr_read, plan.console,
                              plan.stdin_write, plan.control,     plan.attach_listener};
        kept.insert(kept.end(), plan.held_fds.begin(), plan.held_fds.end());
        keep_only(kept);
        // A vanished attached command must not kill the monitor.
        ::signal(SIGPIPE, SIG_IGN);
        return berth::engine::run_relay(std::move(plan));
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth-monitor: %s\n", error.what());
        return 125;
    }
}
