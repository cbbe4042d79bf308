// A process named by pid and start time, so that a recycled pid is never
// mistaken for the monitor or init berth recorded.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace berth::engine {

// /proc/PID/stat's starttime (clock ticks since boot), or 0 if there is no such process.
std::int64_t process_start_time(pid_t pid);

// True if the process runs (a zombie has stopped running) and started at `start_time`.
bool process_alive(pid_t pid, std::int64_t start_time);

} // namespace berth::engine
