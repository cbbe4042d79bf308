// Helpers for tests on the host's real cgroups: the berth-test-<pid>
// parents they work under, and child processes they start and always reap.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace cgroups_test {

// "berth-test-<pid>": every cgroup a test makes sits below one of these.
std::string test_parent_name();

// Every directory named test_parent_name() in the host's hierarchies, at
// their roots or below this process's own cgroup (where relative paths go).
std::vector<std::string> existing_test_parents();

// Removes those directories and any cgroups below them, deepest first.
void remove_test_parents();

// A child that sleeps until signalled; killed and reaped at destruction.
class SleepingChild {
  public:
    SleepingChild();
    ~SleepingChild();
    SleepingChild(const SleepingChild&) = delete;
    SleepingChild& operator=(const SleepingChild&) = delete;

    pid_t pid() const { return pid_; }
    // waitpid's status, once the child is gone.
    int wait();

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

} // namespace cgroups_test
