// run_command: fork/exec with captured stdio and a hard timeout.
#include "berth_test/run_command.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

extern char** environ;

namespace berth_test {
namespace {

// At the end of every test program that runs commands, the host's
// /dev/null must still be its character device: once, a test session left
// a regular file there (every `> /dev/null` then appended to it, and
// containers read it as their stdin). ctest runs each test alone, so the
// failing test names the culprit.
class HostDevNullCheck : public ::testing::Environment {
  public:
    void TearDown() override {
        struct stat st;
        if (::stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
            ADD_FAILURE() << "/dev/null on the host is no longer the null device";
    }
};

[[maybe_unused]] const ::testing::Environment* const host_dev_null_check =
    ::testing::AddGlobalTestEnvironment(new HostDevNullCheck);

using Clock = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

struct Pipe {
    Fd read, write;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe2");
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Resolved in the parent because execvp() is not async-signal-safe, and the
// child of a possibly multi-threaded test must stick to such calls.
std::string find_executable(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    const char* env = std::getenv("PATH");
    std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t end = std::min(path.find(':', pos), path.size());
        std::string dir = end > pos ? path.substr(pos, end - pos) : ".";
        std::string candidate = dir + "/" + name;
        struct stat st;
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        pos = end + 1;
    }
    return name; // execve() will then fail with ENOENT, reported as 127
}

// Puts fd at target with close-on-exec cleared.
void move_fd(int fd, int target) {
    if (fd == target)
        ::fcntl(fd, F_SETFD, 0);
    else
        ::dup2(fd, target);
}

[[noreturn]] void exec_child(const std::string& exe, std::vector<char*>& argv, Pipe& in, Pipe& out,
                             Pipe& err, Pipe& status) {
    move_fd(in.read.get(), 0);
    move_fd(out.write.get(), 1);
    move_fd(err.write.get(), 2);
    // Own process group, so a timeout can kill whatever the child spawned.
    ::setpgid(0, 0);
    // Do not pass on the caller's signal state (SIGPIPE is blocked below,
    // and ignored dispositions would survive exec).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // Fds leaked by the test process must not reach the runtime or, through
    // it, the container, where the probe would report them.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 4096; ++fd)
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::execve(exe.c_str(), argv.data(), environ);
    int e = errno;
    [[maybe_unused]] auto n = ::write(status.write.get(), &e, sizeof e);
    ::_exit(127);
}

// Appends what is readable now to sink; closes fd at EOF or error. Gives up
// at `stop` so a descendant writing nonstop cannot keep us here forever.
void read_available(Fd& fd, std::string& sink, Clock::time_point stop = Clock::time_point::max()) {
    char buf[65536];
    while (Clock::now() < stop) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) {
            sink.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno != EAGAIN) fd.reset();
        return;
    }
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::string join(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv)
        s += (s.empty() ? "" : " ") + a;
    return s;
}

// Blocks SIGPIPE in this thread while feeding stdin (a child that exits
// without reading must give EPIPE, not kill the test), then discards any
// SIGPIPE raised and restores the mask.
class SigpipeGuard {
  public:
    SigpipeGuard() {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe, &old_);
    }
    ~SigpipeGuard() {
        if (!sigismember(&old_, SIGPIPE)) {
            sigset_t pipe, pending;
            sigemptyset(&pipe);
            sigaddset(&pipe, SIGPIPE);
            sigpending(&pending);
            timespec zero{};
            if (sigismember(&pending, SIGPIPE)) ::sigtimedwait(&pipe, nullptr, &zero);
        }
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

  private:
    sigset_t old_;
};

} // namespace

CommandResult run_command(std::vector<std::string> argv, std::string stdin_data, int timeout_ms) {
    if (argv.empty()) throw std::invalid_argument("run_command: empty argv");
    const std::string exe = find_executable(argv[0]);
    std::vector<char*> cargv;
    for (auto& arg : argv)
        cargv.push_back(arg.data());
    cargv.push_back(nullptr);

    Pipe in, out, err, exec_status;
    SigpipeGuard sigpipe_guard;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);

    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) exec_child(exe, cargv, in, out, err, exec_status);

    in.read.reset();
    out.write.reset();
    err.write.reset();
    exec_status.write.reset();

    CommandResult result;
    int status = 0;

    // EOF here means exec succeeded (the pipe is close-on-exec); an int
    // means it failed with that errno.
    int exec_errno = 0;
    ssize_t n;
    do
        n = ::read(exec_status.read.get(), &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    if (n == sizeof exec_errno) {
        ::waitpid(pid, &status, 0);
        result.exit_code = 127;
        result.err =
            "run_command: cannot execute " + argv[0] + ": " + std::strerror(exec_errno) + "\n";
        return result;
    }

    set_nonblocking(in.write.get());
    set_nonblocking(out.read.get());
    set_nonblocking(err.read.get());
    if (stdin_data.empty()) in.write.reset();
    size_t stdin_offset = 0;

    // A pidfd lets poll() wake up on child exit; without one (kernel < 5.3)
    // fall back to polling waitpid() every few milliseconds.
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

    bool exited = false;
    for (;;) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        int wait_ms = -1;
        if (timeout_ms > 0) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) break;
            wait_ms = static_cast<int>(left.count()) + 1;
        }
        if (!pidfd.valid()) wait_ms = wait_ms < 0 ? 5 : std::min(wait_ms, 5);

        pollfd fds[4];
        int nfds = 0;
        Fd* owners[4];
        auto watch = [&](Fd& fd, short events) {
            if (fd.valid()) {
                fds[nfds] = {fd.get(), events, 0};
                owners[nfds++] = &fd;
            }
        };
        watch(out.read, POLLIN);
        watch(err.read, POLLIN);
        watch(in.write, POLLOUT);
        watch(pidfd, POLLIN);
        if (::poll(fds, static_cast<nfds_t>(nfds), wait_ms) < 0 && errno != EINTR)
            throw std::system_error(errno, std::generic_category(), "poll");

        for (int i = 0; i < nfds; ++i) {
            if (fds[i].revents == 0) continue;
            if (owners[i] == &out.read)
                read_available(out.read, result.out);
            else if (owners[i] == &err.read)
                read_available(err.read, result.err);
            else if (owners[i] == &in.write) {
                ssize_t w = ::write(in.write.get(), stdin_data.data() + stdin_offset,
                                    stdin_data.size() - stdin_offset);
                if (w > 0) stdin_offset += static_cast<size_t>(w);
                // Done, or the child closed its end (EPIPE): either way stop.
                if (stdin_offset == stdin_data.size() ||
                    (w < 0 && errno != EAGAIN && errno != EINTR))
                    in.write.reset();
            }
            // pidfd readiness is handled by waitpid() at the top of the loop.
        }
    }

    if (!exited) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        result.timed_out = true;
    }
    // Everything the child wrote before exiting is already in the pipes, so
    // one non-blocking pass gets it all; EOF is not awaited (see header).
    const auto drain_stop = Clock::now() + std::chrono::seconds(2);
    if (out.read.valid()) read_available(out.read, result.out, drain_stop);
    if (err.read.valid()) read_available(err.read, result.err, drain_stop);
    result.exit_code = decode_status(status);
    if (result.timed_out) {
        std::string msg = "run_command: '" + join(argv) + "' timed out after " +
                          std::to_string(timeout_ms) + " ms";
        result.err += "\n[" + msg + "]\n";
        ADD_FAILURE() << msg << "\nstdout: " << result.out << "\nstderr: " << result.err;
    }
    return result;
}

std::ostream& operator<<(std::ostream& os, const CommandResult& result) {
    os << "exit_code=" << result.exit_code << (result.timed_out ? " (timed out)" : "")
       << "\n--- stdout ---\n"
       << result.out << "\n--- stderr ---\n"
       << result.err;
    return os;
}

} // namespace berth_test
