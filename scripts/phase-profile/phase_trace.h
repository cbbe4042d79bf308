#pragma once
// A profiling aid: scripts/phase-profile/instrument.py copies this into a
// scratch tree; it is never part of berth's build. phase("step") appends
// "<monotonic time> <pid> step" to $BERTH_PHASES. The fd is kept (above
// 900) so the container's init can still write after its pivot_root.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
inline int phase_fd_open(const char* path) {
    int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 900);
    ::close(fd);
    return high;
}
inline void phase(const char* what) {
    static const char* path = std::getenv("BERTH_PHASES");
    static int fd = -1;
    static pid_t owner = 0;
    if (!path) return;
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[256];
    int n = std::snprintf(line, sizeof line, "%ld.%06ld %d %s\n", (long)ts.tv_sec,
                          ts.tv_nsec / 1000, (int)getpid(), what);
    if (owner != ::getpid()) {
        fd = phase_fd_open(path);
        owner = ::getpid();
    }
    if (fd >= 0 && ::write(fd, line, n) < 0 && errno == EBADF) {
        fd = phase_fd_open(path);
        if (fd >= 0) (void)!::write(fd, line, n);
    }
}
