// berth-monitor's work (see monitor_handoff.h): while the container runs it
// copies the container's output into the json-file log and to an attached
// command, relays that command's input, signals and terminal size, takes
// `berth attach` connections, runs the periodic command, and reaps the init.
// Then it execs the plan's exit command with the init's wait status.
#pragma once

#include "monitor_handoff.h"

namespace berth::engine {

// Returns only if the exit command cannot be exec'd (the caller's exit code).
int run_relay(RelayPlan plan);

} // namespace berth::engine
