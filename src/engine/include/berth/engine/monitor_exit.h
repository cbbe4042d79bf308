// The hidden command that a container's berth-monitor execs once the
// container's init has exited (see src/engine/monitor_handoff.h): berth
// records the exit, takes the container apart, and applies the restart
// policy. Not for users: berth's main hands argv over before parsing it.
#pragma once

namespace berth::engine {

inline constexpr const char* monitor_exit_command = "__monitor-exited";

// argv[1] is monitor_exit_command. Returns the process's exit code.
int run_monitor_exit_command(int argc, char** argv);

} // namespace berth::engine
