#include "hooks.h"

#include "berth/base/c_strings.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/log.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

void run_hook(const oci::Hook& hook, const std::string& state_json) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw_errno("creating a pipe");
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    std::vector<std::string> args =
        hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv = c_string_array(args);
    std::vector<char*> envp = c_string_array(hook.env);

    // Closed by a successful exec; carries errno when the exec fails, so that
    // a hook that itself exits 127 is not taken for one that never ran.
    int exec_error_fds[2];
    if (::pipe2(exec_error_fds, O_CLOEXEC) < 0) throw_errno("creating a pipe");
    UniqueFd exec_error_read(exec_error_fds[0]), exec_error_write(exec_error_fds[1]);

    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd, SIGCHLD);
    if (pid == 0) {
        // A hook must not outlive a runtime killed while waiting for it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::dup2(read_end.get(), STDIN_FILENO);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        int error = errno;
        [[maybe_unused]] ssize_t ignored = ::write(exec_error_write.get(), &error, sizeof error);
        _exit(127);
    }
    UniqueFd process(pidfd);
    read_end.reset();
    exec_error_write.reset();
    int exec_error = 0;
    ssize_t n;
    do {
        n = ::read(exec_error_read.get(), &exec_error, sizeof exec_error);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof exec_error)) {
        ::waitpid(pid, nullptr, 0);
        throw_errno("could not be executed", exec_error);
    }
    // The hook may exit without reading its stdin; that is its right.
    ::signal(SIGPIPE, SIG_IGN);
    try {
        write_all(write_end.get(), state_json, "the state to the hook");
    } catch (const Error&) {
    }
    write_end.reset();

    int timeout_ms = hook.timeout_seconds ? *hook.timeout_seconds * 1000 : -1;
    pollfd wait_for{process.get(), POLLIN, 0};
    int ready;
    do {
        ready = ::poll(&wait_for, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        pidfd_send_signal(process.get(), SIGKILL);
        ::waitpid(pid, nullptr, 0);
        fail("timed out after " + std::to_string(*hook.timeout_seconds) + " seconds");
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fail("exited with status " + std::to_string(WEXITSTATUS(status)));
    if (WIFSIGNALED(status)) fail("killed by signal " + std::to_string(WTERMSIG(status)));
}

} // namespace

void run_hooks(const std::vector<oci::Hook>& hooks, const char* stage,
               const std::string& state_json) {
    for (const auto& hook : hooks)
        with_context(std::string(stage) + " hook " + hook.path,
                     [&] { run_hook(hook, state_json); });
}

void run_hooks_warning_only(const std::vector<oci::Hook>& hooks, const char* stage,
                            const std::string& state_json) {
    for (const auto& hook : hooks) {
        try {
            run_hooks({hook}, stage, state_json);
        } catch (const Error& error) {
            log::warning(error.what());
        }
    }
}

} // namespace berth::runtime
