#include "detached_exec.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

// With -t the runtime hands the process's pty master over `listener`; the
// keeper holds it, reading what the process writes into nowhere (as docker
// does for `exec -d -t`), until every holder of the terminal's other end is gone.
UniqueFd receive_terminal(int listener) {
    pollfd ready{listener, POLLIN, 0};
    // The runtime connected and sent before its exec returned: no wait, but
    // a bound for a runtime that did not.
    if (::poll(&ready, 1, 5000) <= 0) fail("exec -d -t: the runtime sent no terminal");
    UniqueFd connection(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) throw_errno("exec -d -t: accepting the runtime's terminal");
    return receive_fd(connection.get(), "exec -d -t: receiving the process's terminal");
}

// The keeper: starts the process, tells the starter how that went (an empty
// report: started), then waits for it. As a child subreaper it also adopts
// what an external runtime's `exec --detach` leaves when it exits.
[[noreturn]] void keep(ContainerRuntime& runtime, runtime::ExecOptions options, int report,
                       const std::string& console_socket) {
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
    UniqueFd terminal;
    try {
        UniqueFd listener;
        if (options.tty) {
            listener = listen_unix(console_socket, "exec -d -t: listening for the terminal");
            options.console_socket = console_socket;
        }
        try {
            runtime.exec(options);
            if (listener) terminal = receive_terminal(listener.get());
        } catch (...) {
            if (listener) ::unlink(console_socket.c_str());
            throw;
        }
        if (listener) ::unlink(console_socket.c_str());
    } catch (const std::exception& error) {
        std::string message = error.what();
        (void)!::write(report, message.data(), message.size());
        ::_exit(1);
    }
    ::close(report);
    // EIO once the process (and all it passed the terminal to) has closed it.
    char sink[4096];
    while (terminal) {
        ssize_t got = ::read(terminal.get(), sink, sizeof sink);
        if (got == 0 || (got < 0 && errno != EINTR)) break;
    }
    terminal.reset();
    while (::wait(nullptr) > 0 || errno == EINTR) {
    }
    ::_exit(0);
}

} // namespace

void exec_detached(ContainerRuntime& runtime, runtime::ExecOptions options,
                   const std::string& run_root) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) < 0) throw_errno("exec -d: creating a pipe");
    UniqueFd report_read(ends[0]), report_write(ends[1]);
    pid_t keeper = ::fork();
    if (keeper < 0) throw_errno("exec -d: forking");
    if (keeper == 0) {
        report_read.reset();
        keep(runtime, std::move(options), report_write.get(),
             run_root + "/exec-tty-" + std::to_string(::getpid()));
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
