// The container's first process, from clone to exec: everything that happens
// inside the new namespaces before the user's program takes over.
#pragma once

#include "berth/oci/runtime_spec.h"
#include "berth/runtime/seccomp.h"

#include <csignal>
#include <cstdint>
#include <map>
#include <string>

namespace berth::runtime {

struct InitContext {
    const oci::Spec* spec = nullptr;
    std::string rootfs;            // absolute path on the host
    int sync_fd = -1;              // our end of the socket pair with the runtime
    int exec_fifo_fd = -1;         // read end of exec.fifo: `start` writes a byte
    int close_fd = -1;             // the runtime's lock on the state dir: not ours to hold
    int cgroup_fd = -1;            // v2: the init starts in this cgroup (CLONE_INTO_CGROUP)
    int network_namespace_fd = -1; // the new network namespace, made ahead (CreateOptions)
    const seccomp::Filter* seccomp = nullptr; // compiled by the runtime
    int preserve_fds = 0;
    std::string session_keyring; // "_ses.ID"; empty with --no-new-keyring
    bool no_pivot = false;
    bool in_user_namespace = false; // created or joined
    bool new_user_namespace = false;
    std::uint64_t unshare_after_go = 0; // CLONE_NEWCGROUP: once placed in its cgroup
    // Wait after the mounts for the runtime's word (mounts_ready, hooks_done):
    // for prestart hooks, and for the caller's work meanwhile (the network).
    bool pause_after_mounts = false;
    // Hierarchy mount point → the container's cgroup directory (see MountContext).
    std::map<std::string, std::string> cgroup_directories;
    const sigset_t* init_sigmask = nullptr; // restored first: the runtime may block signals
};

// Runs in the cloned child; reports failures over sync_fd. Never returns.
[[noreturn]] void container_init(const InitContext& context) noexcept;

} // namespace berth::runtime
