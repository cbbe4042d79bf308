#include "process_identity.h"

#include "berth/base/unique_fd.h"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace berth::engine {

namespace {

// The state letter and starttime of /proc/PID/stat; false if unreadable.
// One open and one read into the stack: every command checks each running
// container's monitor (the network sweep, ps), a thousand of them.
bool read_stat(pid_t pid, char& state, std::int64_t& start_time) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char text[1024];
    ssize_t got = ::read(fd.get(), text, sizeof text - 1);
    if (got <= 0) return false;
    text[got] = '\0';
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    const char* close = std::strrchr(text, ')');
    if (!close || close[1] == '\0') return false;
    const char* fields = close + 2;
    unsigned long long start = 0;
    // state is field 3, starttime field 22.
    if (std::sscanf(
            fields,
            "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
            &state, &start) != 2)
        return false;
    start_time = static_cast<std::int64_t>(start);
    return true;
}

} // namespace

std::int64_t process_start_time(pid_t pid) {
    char state;
    std::int64_t start = 0;
    return read_stat(pid, state, start) ? start : 0;
}

bool process_alive(pid_t pid, std::int64_t start_time) {
    if (pid <= 0) return false;
    char state;
    std::int64_t start = 0;
    if (!read_stat(pid, state, start)) return false;
    if (state == 'Z' || state == 'X') return false;
    return start_time == 0 || start == start_time;
}

} // namespace berth::engine
