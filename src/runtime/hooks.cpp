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
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv = c_string_array(args);
    std::vector<char*> envp = c_string_array(hook.env);

    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd, SIGCHLD);
    if (pid == 0) {
        // A hook must not outlive a runtime killed while waiting for it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::dup2(read_end.get(), STDIN_FILENO);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        _exit(127);
    }
    UniqueFd process(pidfd);
    read_end.reset();
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
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) fail("could not be executed");
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fail("exited with status " + std::to_string(WEXITSTATUS(status)));
    if (WIFSIGNALED(status)) fail("killed by signal " + std::to_string(WTERMSIG(status)));
}

} // namespace

void run_hooks(const std::vector<oci::Hook>& hooks, const char* stage, const std::string& state_json) {
    for (const auto& hook : hooks)
        with_context(std::string(stage) + " hook " + hook.path, [&] { run_hook(hook, state_json); });
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
