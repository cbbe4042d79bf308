// A RUN's --mount flags for the time of its step (internal to src/build):
// what goes into the step's cache key, then, on a miss, the engine mounts
// and what backs them (cache directories under <root>/build-cache held by
// a lock as `sharing=` asks, images of stages mounted read-only, scratch
// copies for `rw` binds, owned secrets on a tmpfs), released by the
// destructor.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/build/run_mount.h"
#include "berth/engine/container_options.h"
#include "berth/image/image_store.h"
#include "build_steps.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace berth::build::detail {

struct MountSource {
    RunMount mount;
    std::string target;                // absolute, in the container
    const SourceTree* tree = nullptr;  // bind from the context
    std::optional<image::Image> image; // bind from a stage or an image
    std::string secret_path;           // secret: the host file; "" when absent
};

class PreparedMounts {
  public:
    PreparedMounts() = default;
    PreparedMounts(const PreparedMounts&) = delete;
    PreparedMounts& operator=(const PreparedMounts&) = delete;
    ~PreparedMounts();

    std::vector<MountSource> sources;
    std::string key; // what the mounts bring, for the step's cache key

    // Makes the mounts real; `store_root` is berth's root, `work_dir` a
    // scratch directory of this step (made if needed, removed after).
    void materialize(const StoreAccess& store, const std::string& store_root,
                     const std::string& work_dir);

    std::vector<engine::MountRequest> requests;
    std::vector<std::string> targets; // absolute, for the placeholders left in the upper

  private:
    StoreAccess store_;
    std::vector<image::Image> mounted_;
    std::vector<UniqueFd> locks_;
    std::string work_dir_;
    std::string secrets_dir_; // a tmpfs
};

} // namespace berth::build::detail
