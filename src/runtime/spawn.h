// Bringing the container's init into being: one clone3 with every new
// namespace when nothing is joined; otherwise an intermediate process joins
// the given namespaces first and clones the init as the runtime's child.
#pragma once

#include "berth/base/unique_fd.h"
#include "container_init.h"

#include <sys/types.h>

namespace berth::runtime {

struct SpawnedInit {
    pid_t pid = 0;
    UniqueFd pidfd;
};

// `runtime_sync_fd` is the runtime's end; context.sync_fd the init's.
SpawnedInit spawn_init(const InitContext& context, int runtime_sync_fd);

} // namespace berth::runtime
