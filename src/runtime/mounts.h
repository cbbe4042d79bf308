// Mounting the entries of config.json's "mounts" inside the container root,
// with the fd-based mount API: each target is opened inside the root first,
// and the mount is attached to that fd, so swapping a path component for a
// symlink at the wrong moment cannot move a mount onto the host.
#pragma once

#include "berth/oci/runtime_spec.h"

#include <map>
#include <string>

namespace berth::runtime {

struct MountContext {
    bool in_user_namespace = false;
    bool new_cgroup_namespace = false;
    // Hierarchy mount point → the container's cgroup there, from the runtime:
    // on v1 it moves the init into them while the init mounts.
    std::map<std::string, std::string> cgroup_directories;
};

void mount_entry(int root_fd, const oci::Mount& mount, const MountContext& context);

// Attaches the detached mount `tree_fd` on top of `target_fd`.
void attach_mount(int tree_fd, int target_fd, const std::string& what);

} // namespace berth::runtime
