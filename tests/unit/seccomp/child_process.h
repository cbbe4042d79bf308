// Seccomp filters cannot be removed, so every test that loads one does it in
// a forked child and looks at how the child ended.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>

namespace berth::test {

// Runs `body` in a forked child that exits with its return value (125 if it
// throws, after printing why). Returns the wait status.
int run_in_child(const std::function<int()>& body);

// Forks a child running `body` as above and returns its pid, for tests that
// talk to the child while it runs. ChildGuard reaps (or kills) it.
pid_t start_child(const std::function<int()>& body);

class ChildGuard {
  public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    // Kills a child still running when the test gives up on it.
    ~ChildGuard();
    // Waits for the child and returns its wait status.
    int wait();

  private:
    pid_t pid_;
};

// "exited with 3", "killed by signal 31 (Bad system call)".
std::string describe_status(int status);

// In a child: an errno check that says what went wrong on stderr. Returns 0
// when `result` is -1 with `expected` errno (or `result` >= 0 when `expected`
// is 0), else 1.
int expect_errno(long result, int expected, const char* what);

} // namespace berth::test
