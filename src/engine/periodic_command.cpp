#include "periodic_command.h"

#include "berth/base/syscalls.h"
#include "berth/engine/healthcheck.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace berth::engine {

PeriodicCommand::PeriodicCommand(std::vector<std::string> argv, std::vector<std::string> env,
                                 std::chrono::nanoseconds interval)
    : argv_(std::move(argv)), env_(std::move(env)), interval_(interval) {}

void PeriodicCommand::restart() {
    next_ = std::chrono::steady_clock::now() + interval_;
}

int PeriodicCommand::ms_until_due(int fallback) const {
    if (!active()) return fallback;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    next_ - std::chrono::steady_clock::now())
                    .count();
    if (left < 0) left = 0;
    return fallback >= 0 && left > fallback ? fallback : static_cast<int>(left) + 1;
}

void PeriodicCommand::run_if_due() {
    if (!active() || std::chrono::steady_clock::now() < next_) return;
    if (running_) {
        pollfd done{running_.get(), POLLIN, 0};
        if (::poll(&done, 1, 0) <= 0) return; // the last run goes on: skip this one
        running_.reset();
    }
    next_ = std::chrono::steady_clock::now() + interval_;
    std::vector<char*> args;
    for (const auto& arg : argv_)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
        std::perror("berth monitor: starting a periodic command");
        return;
    }
    if (child == 0) {
        // Not the container's stdio (the monitor's fds 0-2 are /dev/null and its log).
        for (const auto& variable : env_)
            ::putenv(const_cast<char*>(variable.c_str()));
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    running_.reset(pidfd_open(child));
}

PeriodicCommand healthcheck_schedule(const std::string& root, const std::string& run_root,
                                     const std::string& id, const RunRequest& request) {
    std::optional<HealthcheckRequest> check;
    try {
        check = effective_healthcheck(request.healthcheck, std::nullopt);
    } catch (const std::exception&) {
    }
    if (!check) return PeriodicCommand();
    // The monitor is a fork of berth: /proc/self/exe is berth's binary.
    return PeriodicCommand({"/proc/self/exe", "--root", root, "healthcheck", "run", id},
                           {"BERTH_RUNROOT=" + run_root},
                           std::chrono::nanoseconds(check->interval_ns));
}

} // namespace berth::engine
