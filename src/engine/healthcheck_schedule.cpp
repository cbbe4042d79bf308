#include "healthcheck_schedule.h"

#include "berth/engine/healthcheck.h"

#include <algorithm>

namespace berth::engine {

std::optional<HealthcheckSchedule> healthcheck_schedule(const std::string& berth_exe,
                                                        const std::string& root,
                                                        const std::string& id,
                                                        const RunRequest& request) {
    std::optional<HealthcheckRequest> check;
    try {
        check = effective_healthcheck(request.healthcheck, std::nullopt);
    } catch (const std::exception&) {
        // Checked at create; a record that no longer parses has no check.
    }
    if (!check) return std::nullopt;
    // The command inherits the monitor's environment, BERTH_RUNROOT included.
    return HealthcheckSchedule{
        {berth_exe, "--root", root, "healthcheck", "run", id},
        static_cast<int>(std::max<std::int64_t>(check->interval_ns / 1000000, 1))};
}

} // namespace berth::engine
