#include "berth/base/syscalls.h"

#include "berth/base/error.h"
#include "berth/base/side_thread.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth {

UniqueFd open_fd(const std::string& path, int flags, mode_t mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) throw_errno("opening " + path);
    return UniqueFd(fd);
}

UniqueFd open_at(int dir_fd, const std::string& path, int flags, mode_t mode) {
    int fd = ::openat(dir_fd, path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) throw_errno("opening " + path);
    return UniqueFd(fd);
}

int openat2_in_root(int root_fd, const std::string& path, int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
        fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN); // a concurrent rename raced the lookup
    return static_cast<int>(fd);
}

UniqueFd open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) {
    int fd = openat2_in_root(root_fd, path, flags, mode);
    if (fd < 0) throw_errno("opening " + path + " inside the container root");
    return UniqueFd(fd);
}

pid_t clone3_fork(std::uint64_t flags, int* pidfd, int exit_signal, int cgroup_fd) {
    // No other thread may hold a libc lock at the instant of the copy.
    join_side_thread();
    clone_args args{};
    args.flags = flags;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    }
    // With CLONE_PARENT the kernel takes the exit signal from the caller's
    // own and refuses any other.
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : static_cast<std::uint64_t>(exit_signal);
    if (pidfd) {
        args.flags |= CLONE_PIDFD;
        args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
    }
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) throw_errno("creating the container process (clone3)");
    return static_cast<pid_t>(pid);
}

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int signal) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

void mark_cloexec_from(int first) {
    if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: walk the fds by hand.
    for (int fd = first; fd < 65536; ++fd) {
        int fd_flags = ::fcntl(fd, F_GETFD);
        if (fd_flags >= 0) ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC);
    }
}

void close_fds_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < 0 || static_cast<unsigned>(fd) < next) continue;
        if (static_cast<unsigned>(fd) > next) ::syscall(SYS_close_range, next, fd - 1, 0);
        next = static_cast<unsigned>(fd) + 1;
    }
    ::syscall(SYS_close_range, next, ~0U, 0);
}

void seqpacket_pair(UniqueFd& a, UniqueFd& b) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        throw_errno("creating a socket pair");
    a.reset(fds[0]);
    b.reset(fds[1]);
}

} // namespace berth
