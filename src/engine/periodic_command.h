// The monitor's hook for a command it runs every interval while the
// container runs (the health check: `berth healthcheck run ID`). The
// command is a child process, so the monitor itself stays small; one run
// at a time, the next one interval after the previous one started.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/engine/run_request.h"

#include <chrono>
#include <string>
#include <vector>

namespace berth::engine {

class PeriodicCommand {
  public:
    PeriodicCommand() = default; // none: never due
    PeriodicCommand(std::vector<std::string> argv, std::vector<std::string> env,
                    std::chrono::nanoseconds interval);

    bool active() const { return !argv_.empty(); }
    // The container (re)started: the first run comes one interval from now.
    void restart();
    // Milliseconds until the next run is due (for poll); `fallback` if none.
    int ms_until_due(int fallback) const;
    // Starts the command if it is due and its last run has ended. Its exit
    // is reaped by the monitor's waitpid(-1) with the rest.
    void run_if_due();

  private:
    std::vector<std::string> argv_;
    std::vector<std::string> env_; // NAME=value set for the command
    std::chrono::nanoseconds interval_{0};
    std::chrono::steady_clock::time_point next_{};
    UniqueFd running_; // a pidfd of the run in progress
};

// `berth --root ROOT healthcheck run ID` every interval of the container's
// check; an inactive PeriodicCommand if it has none.
PeriodicCommand healthcheck_schedule(const std::string& root, const std::string& run_root,
                                     const std::string& id, const RunRequest& request);

} // namespace berth::engine
