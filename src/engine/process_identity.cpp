#include "process_identity.h"

#include "berth/base/files.h"

#include <cstdio>
#include <string>

namespace berth::engine {

namespace {

// The state letter and starttime of /proc/PID/stat; false if unreadable.
bool read_stat(pid_t pid, char& state, std::int64_t& start_time) {
    std::string text;
    try {
        text = read_file("/proc/" + std::to_string(pid) + "/stat");
    } catch (...) {
        return false;
    }
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos) return false;
    const char* fields = text.c_str() + close + 2;
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
