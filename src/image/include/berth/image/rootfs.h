// A container's root filesystem: an overlay of the image's snapshots (read-
// only lower layers, shared) and a fresh upper and work directory of its
// own. Layers are passed to overlayfs one at a time (fsconfig "lowerdir+",
// Linux 6.8+), so an image may have as many layers as overlayfs allows,
// with no limit from the length of a mount option string.
#pragma once

#include "berth/image/image_store.h"

#include <string>

namespace berth::image {

struct RootfsOptions {
    // The upper is thrown away with the container (`run --rm`): overlayfs's
    // "volatile" skips the sync of the whole upper filesystem that every
    // unmount would otherwise wait for (tens of ms on a busy disk), as
    // podman does for --rm. After a host crash such an upper cannot be
    // mounted again, which a container that is removed never needs.
    bool scratch_upper = false;
};

// Mounts the rootfs at <container_dir>/rootfs, with <container_dir>/upper
// and <container_dir>/work (created fresh if missing; an existing upper is
// kept, so a stopped container restarts with its changes). Unpacks missing
// layers first. Returns the rootfs path.
std::string mount_rootfs(ImageStore& store, const Image& image, const std::string& container_dir,
                         RootfsOptions options = {});
// Unmounts <container_dir>/rootfs if it is mounted; the upper is left alone.
void unmount_rootfs(const std::string& container_dir);

// A read-only view of the image (`berth image mount`) at a directory of the
// store; mounting twice returns the same path. Returns the path.
std::string mount_image(ImageStore& store, const Image& image);
// False if it was not mounted.
bool unmount_image(ImageStore& store, const Image& image);

// True if `path` is the root of a mount.
bool is_mount_point(const std::string& path);

} // namespace berth::image
