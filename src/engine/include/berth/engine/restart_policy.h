// When a container's monitor starts it again after it exits, and after how
// long: Docker's restart manager rules, as pure functions.
#pragma once

#include "berth/engine/container_options.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace berth::engine {

// Whether to restart after an exit with `exit_code`, having restarted
// `restart_count` times since the last `start`. A stop (or kill) by the
// user ends every policy.
bool should_restart(const RestartPolicy& policy, int exit_code, std::int64_t restart_count,
                    bool stopped_by_user);

// Docker's backoff: 100 ms, doubling at each restart, at most a minute, and
// back to 100 ms after a run of 10 s or more. `previous` is 0 before the first.
std::chrono::milliseconds next_restart_delay(std::chrono::milliseconds previous,
                                             std::chrono::milliseconds ran_for);

// The file `stop`, `kill` and `rm -f` leave in the container's directory so
// that its monitor does not restart it; `start` removes it.
std::string stop_marker_path(const std::string& container_dir);

} // namespace berth::engine
