// /dev inside the container: the default device nodes every container gets,
// those of linux.devices, and the usual symlinks (/dev/fd, stdin, ptmx...).
#pragma once

#include "berth/oci/runtime_spec.h"

namespace berth::runtime {

// Before pivot_root: the host's /dev is still reachable for bind mounts,
// which a user namespace needs because it may not mknod.
void create_devices(int root_fd, const oci::Spec& spec, bool in_user_namespace);

// True when a mount of config.json covers /dev with the host's own /dev.
bool dev_is_bound_from_host(const oci::Spec& spec);

} // namespace berth::runtime
