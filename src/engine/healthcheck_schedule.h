// When and how the monitor runs a container's health check: as a command of
// its own (`berth --root ROOT healthcheck run ID`) every interval, so that
// berth-monitor itself stays small and knows nothing of health.
#pragma once

#include "berth/engine/run_request.h"

#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

struct HealthcheckSchedule {
    std::vector<std::string> command;
    int interval_ms = 0;
};

// None when the container has no check (or --no-healthcheck). `berth_exe`
// is berth's binary: the monitor that runs the command is not.
std::optional<HealthcheckSchedule> healthcheck_schedule(const std::string& berth_exe,
                                                        const std::string& root,
                                                        const std::string& id,
                                                        const RunRequest& request);

} // namespace berth::engine
