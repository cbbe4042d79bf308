#include "detached_exec.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

// The keeper: starts the process, tells the starter how that went (an empty
// report: started), then waits for it. As a child subreaper it also adopts
// what an external runtime's `exec --detach` leaves when it exits.
[[noreturn]] void keep(ContainerRuntime& runtime, runtime::ExecOptions options, int report) {
    ::setsid();
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // It outlives the command: no lock or pipe of the command's may stay open
    // with it (a store lock would hold `rmi` off for as long as it runs).
    if (report > 3) ::close_range(3, static_cast<unsigned>(report) - 1, 0);
    ::close_range(static_cast<unsigned>(report) + 1, ~0U, 0);
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        ::dup2(devnull, fd);
    options.detach = true;
    try {
        runtime.exec(options);
    } catch (const std::exception& error) {
        std::string message = error.what();
        (void)!::write(report, message.data(), message.size());
        ::_exit(1);
    }
    ::close(report);
    while (::wait(nullptr) > 0 || errno == EINTR) {
    }
    ::_exit(0);
}

} // namespace

void exec_detached(ContainerRuntime& runtime, runtime::ExecOptions options) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) < 0) throw_errno("exec -d: creating a pipe");
    UniqueFd report_read(ends[0]), report_write(ends[1]);
    pid_t keeper = ::fork();
    if (keeper < 0) throw_errno("exec -d: forking");
    if (keeper == 0) {
        report_read.reset();
        keep(runtime, std::move(options), report_write.get());
    }
    report_write.reset();
    std::string failure;
    char buffer[512];
    for (ssize_t got; (got = ::read(report_read.get(), buffer, sizeof buffer)) != 0;) {
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        failure.append(buffer, static_cast<std::size_t>(got));
    }
    // A failed keeper is gone already; a running one is left to run.
    if (!failure.empty()) {
        ::waitpid(keeper, nullptr, 0);
        fail(failure);
    }
}

} // namespace berth::engine
