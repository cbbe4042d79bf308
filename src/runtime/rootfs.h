// The container's root filesystem, in the order runc and crun build it:
// prepare (propagation, mounts, devices) while the host is still visible,
// then switch root, then finish (masked and read-only paths, read-only root).
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/runtime_spec.h"
#include "mounts.h"

#include <string>

namespace berth::runtime {

// Returns an O_PATH fd of the prepared root (a mount point of its own).
UniqueFd prepare_rootfs(const oci::Spec& spec, const std::string& rootfs,
                        const MountContext& context);

// pivot_root into the prepared root, dropping the host's tree; with
// `no_pivot`, MS_MOVE + chroot for roots pivot_root cannot use (initramfs).
void switch_root(const std::string& rootfs, bool no_pivot);

// After the switch: maskedPaths, readonlyPaths, root.readonly.
void finish_rootfs(const oci::Spec& spec);

} // namespace berth::runtime
