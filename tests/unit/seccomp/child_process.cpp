#include "child_process.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::test {

pid_t start_child(const std::function<int()>& body) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        std::abort();
    }
    if (pid > 0) return pid;
    // Children killed by SIGSYS on purpose would otherwise leave core files.
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    int code = 125;
    try {
        code = body();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "child: %s\n", error.what());
    }
    ::_exit(code);
}

int run_in_child(const std::function<int()>& body) {
    return ChildGuard(start_child(body)).wait();
}

ChildGuard::~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

int ChildGuard::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "wait status " + std::to_string(status);
}

int expect_errno(long result, int expected, const char* what) {
    int actual = errno;
    if (expected == 0 && result >= 0) return 0;
    if (expected != 0 && result == -1 && actual == expected) return 0;
    std::fprintf(stderr, "%s: expected %s, got result %ld errno %d (%s)\n", what,
                 expected ? strerrorname_np(expected) : "success", result, actual,
                 strerrorname_np(actual) ? strerrorname_np(actual) : "?");
    return 1;
}

} // namespace berth::test
