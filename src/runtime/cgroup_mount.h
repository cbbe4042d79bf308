// A "cgroup" entry of config.json's mounts: the container's own view of the
// cgroup tree. On a cgroup v2 host that is a cgroup2 mount (scoped by the
// cgroup namespace); on v1 and hybrid hosts, a tmpfs with each hierarchy's
// part that holds the container bound into it, as runc does.
#pragma once

#include "berth/oci/runtime_spec.h"
#include "mount_options.h"

#include <map>
#include <string>

namespace berth::runtime {

// With a new cgroup namespace, each hierarchy is mounted afresh and shows
// the namespace's root; without, the container's part of the host's tree is
// bound in: `container_directories` (hierarchy mount point → directory) when
// the runtime says where that is, else the part /proc/self/cgroup shows.
void mount_cgroup_tree(int root_fd, const oci::Mount& mount, const MountOptions& options,
                       bool new_cgroup_namespace,
                       const std::map<std::string, std::string>& container_directories,
                       const std::string& what);

} // namespace berth::runtime
