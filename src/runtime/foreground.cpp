#include "foreground.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

// Puts the caller's terminal in raw mode for the container's own line
// discipline, and restores it on the way out.
class RawTerminal {
  public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }

  private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

void copy_size(int from, int to) {
    winsize size;
    if (::ioctl(from, TIOCGWINSZ, &size) == 0) ::ioctl(to, TIOCSWINSZ, &size);
}

// Moves what is readable from `from` to `to`; false at end of input.
bool pump(int from, int to) {
    char buffer[16384];
    ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    for (ssize_t done = 0; done < n;) {
        ssize_t written = ::write(to, buffer + done, static_cast<size_t>(n - done));
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) return false;
        done += written;
    }
    return true;
}

int exit_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

} // namespace

sigset_t forwarded_signals() {
    sigset_t set;
    ::sigfillset(&set);
    for (int sig : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS,
                    SIGTTIN, SIGTTOU, SIGTSTP})
        ::sigdelset(&set, sig);
    return set;
}

int wait_in_foreground(pid_t pid, int pidfd, int console_master) {
    sigset_t signals = forwarded_signals();
    int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) throw_errno("watching signals");
    UniqueFd signals_fd(signal_fd);
    bool terminal = console_master >= 0;
    RawTerminal raw(STDIN_FILENO);
    if (terminal) copy_size(STDIN_FILENO, console_master);
    bool stdin_open = terminal;

    for (;;) {
        pollfd fds[4] = {
            {pidfd, POLLIN, 0}, {signal_fd, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
        if (terminal) fds[2].fd = console_master;
        if (stdin_open) fds[3].fd = STDIN_FILENO;
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for the container");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(signal_fd, &info, sizeof info) == sizeof info) {
                int sig = static_cast<int>(info.ssi_signo);
                if (sig == SIGCHLD || sig == SIGURG) continue;
                if (sig == SIGWINCH) {
                    if (terminal) copy_size(STDIN_FILENO, console_master);
                    continue;
                }
                pidfd_send_signal(pidfd, sig);
            }
        }
        if (terminal && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
            if (!pump(console_master, STDOUT_FILENO)) terminal = false;
        if (stdin_open && (fds[3].revents & (POLLIN | POLLHUP | POLLERR)))
            if (!pump(STDIN_FILENO, console_master)) stdin_open = false;
        if (fds[0].revents & POLLIN) {
            // Drain what the process wrote before it exited.
            while (terminal) {
                pollfd rest{console_master, POLLIN, 0};
                if (::poll(&rest, 1, 0) <= 0 || !pump(console_master, STDOUT_FILENO)) break;
            }
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return exit_status(status);
        }
    }
}

} // namespace berth::runtime
