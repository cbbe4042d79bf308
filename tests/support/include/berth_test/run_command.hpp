// Running a host command (usually the berth CLI) and capturing its output.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace berth_test {

struct CommandResult {
    int exit_code = -1; // exit status, or 128 + signal number if killed
    std::string out;    // everything written to stdout
    std::string err;    // everything written to stderr
    bool timed_out = false;
};

// Runs argv (argv[0] looked up in $PATH unless it contains '/') with the
// given stdin, capturing stdout and stderr. The child gets its own process
// group, default signal state, and no fds beyond 0-2.
//
// Output is collected until the direct child exits; descendants that keep
// the pipes open (e.g. a detached container) are not waited for.
//
// If the child runs longer than timeout_ms (<= 0: no limit), its process
// group is SIGKILLed, timed_out is set and a non-fatal gtest failure is
// recorded. If argv[0] cannot be executed, exit_code is 127 and err says why.
CommandResult run_command(std::vector<std::string> argv, std::string stdin_data = {},
                          int timeout_ms = 20000);

// For assertion messages: EXPECT_EQ(r.exit_code, 0) << r;
std::ostream& operator<<(std::ostream& os, const CommandResult& result);

} // namespace berth_test
