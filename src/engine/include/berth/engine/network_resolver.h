// Name resolution on user-defined networks, as Docker's embedded DNS and
// podman's aardvark-dns do it: one small resolver process per network (the
// berth binary run as `berth network-resolver`), listening on UDP port 53
// of the network's gateway address. It answers A (and empty AAAA) queries
// for the names, aliases and short ids of the network's containers from
// berth.db, forwards every other query to the host's resolvers, and exits
// once the network has no container left. There is no daemon: the first
// container on the network starts it, a lock file keeps it single.
#pragma once

#include "berth/engine/network_store.h"

#include <string>

namespace berth::engine {

// The resolver's body: serves until the network is empty or gone. `ready_fd`
// (>= 0) gets one byte once it listens (or found another resolver running).
int run_network_resolver(const std::string& root, const std::string& run_root,
                         const std::string& network, int ready_fd);

// Starts the network's resolver unless one runs; returns once it listens.
void ensure_network_resolver(const std::string& root, const std::string& run_root,
                             const NetworkRecord& network);

} // namespace berth::engine
