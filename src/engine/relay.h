// berth-monitor's work (see monitor_handoff.h): while the container runs it
// copies the container's output into the json-file log and to an attached
// command, relays that command's input, signals and terminal size, takes
// `berth attach` connections, runs the periodic command, and reaps the init.
// Then it execs the plan's exit command with the init's wait status.
#pragma once

#include "monitor_handoff.h"

#include <chrono>
#include <optional>

namespace berth::engine {

// Returns only if the exit command cannot be exec'd (the caller's exit code).
int run_relay(RelayPlan plan);

// Stage one's short watch (monitor_handoff.h): the same relay, but only
// until `deadline`. The outcome once the init has exited and its output is
// drained; nullopt if it still runs then, with `plan` brought up to date for
// berth-monitor to go on: the attached command's socket may have changed,
// the stdin pipe may have closed (-1), a log line may be unfinished. The
// plan's fds stay open but for those two.
std::optional<RelayOutcome> relay_until(RelayPlan& plan,
                                        std::chrono::steady_clock::time_point deadline);

} // namespace berth::engine
