// berth-init: the tiny PID 1 of `berth run --init`, as docker-init (tini).
//
//   berth-init [--] COMMAND [ARG...]
//
// A process that is PID 1 of a pid namespace gets no default signal
// actions, and every orphan of the namespace becomes its child. Most
// programs are not written for that: they ignore SIGTERM and leave zombies.
// berth-init runs the command in a process group of its own, forwards every
// signal it gets to that group, reaps every child, and exits with the
// command's status (128 + N if a signal N killed it) as soon as the command
// exits; the kernel then ends what is left in the namespace.
//
// Static and linked against libc only (no C++ runtime): it is bind-mounted
// into containers whose images may have no libraries at all.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Signals about a fault of berth-init itself: never blocked, never forwarded.
bool is_synchronous(int signal) {
    return signal == SIGFPE || signal == SIGILL || signal == SIGSEGV || signal == SIGBUS ||
           signal == SIGABRT || signal == SIGTRAP || signal == SIGSYS;
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

[[noreturn]] void run_child(char** argv, const sigset_t& original_mask) {
    // Its own group, so that a signal to the group reaches its children too
    // and never berth-init itself.
    ::setpgid(0, 0);
    // With a terminal, the command's group is the foreground one (Ctrl-C reaches it).
    if (::isatty(STDIN_FILENO)) {
        std::signal(SIGTTOU, SIG_IGN);
        ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
        std::signal(SIGTTOU, SIG_DFL);
    }
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    ::execvp(argv[0], argv);
    int error = errno;
    std::fprintf(stderr, "berth-init: exec %s: %s\n", argv[0], std::strerror(error));
    ::_exit(error == ENOENT ? 127 : 126);
}

} // namespace

int main(int argc, char** argv) {
    int first = 1;
    if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
    if (first >= argc) {
        std::fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
        return 2;
    }
    // Outside a new pid namespace, orphans still come to us.
    if (::getpid() != 1) ::prctl(PR_SET_CHILD_SUBREAPER, 1);

    sigset_t all, original;
    ::sigfillset(&all);
    for (int signal = 1; signal < NSIG; ++signal)
        if (is_synchronous(signal)) ::sigdelset(&all, signal);
    ::sigprocmask(SIG_BLOCK, &all, &original);

    pid_t child = ::fork();
    if (child < 0) {
        std::perror("berth-init: fork");
        return 1;
    }
    if (child == 0) run_child(argv + first, original);
    // Both sides set the group, so that no signal comes before it exists.
    ::setpgid(child, child);

    for (;;) {
        siginfo_t info;
        int signal = ::sigwaitinfo(&all, &info);
        if (signal < 0) {
            if (errno == EINTR) continue;
            std::perror("berth-init: sigwaitinfo");
            return 1;
        }
        if (signal != SIGCHLD) {
            // The group first; if the command has left it, the command itself.
            if (::kill(-child, signal) < 0) ::kill(child, signal);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == child) return status_code(status);
    }
}
