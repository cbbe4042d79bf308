#include "berth/engine/restart_policy.h"

namespace berth::engine {

bool should_restart(const RestartPolicy& policy, int exit_code, std::int64_t restart_count,
                    bool stopped_by_user) {
    if (stopped_by_user) return false;
    if (policy.name == "always" || policy.name == "unless-stopped") return true;
    if (policy.name == "on-failure")
        return exit_code != 0 &&
               (policy.maximum_retries == 0 || restart_count < policy.maximum_retries);
    return false;
}

std::chrono::milliseconds next_restart_delay(std::chrono::milliseconds previous,
                                             std::chrono::milliseconds ran_for) {
    using std::chrono::milliseconds;
    constexpr milliseconds first(100), longest(60000);
    if (ran_for >= std::chrono::seconds(10) || previous.count() <= 0) return first;
    return std::min(previous * 2, longest);
}

std::string stop_marker_path(const std::string& container_dir) {
    return container_dir + "/stopped-by-user";
}

} // namespace berth::engine
