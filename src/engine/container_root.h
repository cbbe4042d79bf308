// A container's root filesystem as an fd, for `cp`, `export` and `diff`:
// the running container's own view (its mount namespace, with its volumes),
// or its rootfs, mounted for as long as the object lives if it was not.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"

#include <string>

namespace berth::engine {

class ContainerRoot {
  public:
    // With `with_mounts` and a running container: /proc/PID/root. Else the
    // rootfs at <container_dir>/rootfs (the image and the container's changes).
    ContainerRoot(const ContainerRecord& record, const std::string& container_dir,
                  const std::string& engine_root, bool with_mounts);
    ~ContainerRoot();
    ContainerRoot(const ContainerRoot&) = delete;
    ContainerRoot& operator=(const ContainerRoot&) = delete;
    // An O_PATH directory fd.
    int fd() const { return root_.get(); }

  private:
    UniqueFd root_;
    std::string mounted_dir_;
};

} // namespace berth::engine
