// Thin wrappers over the system calls glibc 2.36 does not wrap (openat2,
// clone3, pidfd_*, close_range) and fd-returning helpers that throw Error.
#pragma once

#include "berth/base/unique_fd.h"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace berth {

// open(2) that throws "opening PATH: reason"; O_CLOEXEC is always added.
UniqueFd open_fd(const std::string& path, int flags, mode_t mode = 0);
UniqueFd open_at(int dir_fd, const std::string& path, int flags, mode_t mode = 0);

// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved as if
// `root_fd` were "/", so no "..", absolute name or symlink can lead outside it.
// Returns -1 with errno set instead of throwing, for callers that handle ENOENT.
int openat2_in_root(int root_fd, const std::string& path, int flags, mode_t mode = 0);
// The same, throwing "opening PATH inside the container root: reason".
UniqueFd open_in_root(int root_fd, const std::string& path, int flags, mode_t mode = 0);

// clone3(2) with fork semantics (the child continues from here with a copy of
// the address space). Returns the child's pid in the parent, 0 in the child.
// With `pidfd` non-null, CLONE_PIDFD is added and the pidfd stored there.
// With `cgroup_fd` >= 0 the child starts in that cgroup v2 directory
// (CLONE_INTO_CGROUP), with no later move. A side thread (side_thread.h)
// is joined first.
pid_t clone3_fork(std::uint64_t flags, int* pidfd, int exit_signal, int cgroup_fd = -1);

int pidfd_open(pid_t pid);
int pidfd_send_signal(int pidfd, int signal);

// Marks every fd from `first` upwards close-on-exec.
void mark_cloexec_from(int first);

// Closes every fd above stdio but those in `keep` (close_range: no walk
// through /proc/self/fd).
void close_fds_except(std::vector<int> keep);

// A socketpair(AF_UNIX, SOCK_SEQPACKET) with both ends close-on-exec.
void seqpacket_pair(UniqueFd& a, UniqueFd& b);

} // namespace berth
