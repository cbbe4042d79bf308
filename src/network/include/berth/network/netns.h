// Network namespaces held by a file, as CNI and netavark hold them: a new
// namespace bind-mounted onto a file under the engine's run root, so it
// outlives the thread that made it and a container's config.json can join
// it by path before any of the container's processes exist.
#pragma once

#include "berth/base/unique_fd.h"

#include <string>

namespace berth::network {

// A new network namespace, with its loopback up, held at `path` (created;
// its directory must exist). Returns an fd on it. Error if `path` exists.
UniqueFd create_network_namespace(const std::string& path);

// A new network namespace, with its loopback up, held by the returned fd
// alone (made ahead of a container that will start in it).
UniqueFd new_network_namespace();

// Holds the existing namespace `source` (as /proc/PID/ns/net) at `path`
// (created; Error if it exists) by a bind mount. Returns an fd on it.
UniqueFd hold_network_namespace(const std::string& source, const std::string& path);

// Unmounts and deletes what create_network_namespace made at `path`; a path
// that is missing or not mounted is fine (teardown runs after crashes too).
void remove_network_namespace(const std::string& path);

} // namespace berth::network
