// A rootless container's network: slirp4netns, a user-space TCP/IP stack,
// gives the container's namespace a tap device (10.0.2.100/24, gateway
// 10.0.2.2, DNS 10.0.2.3) and carries its traffic through the host's
// sockets; published ports are slirp4netns host forwards, added through its
// API socket. Chosen over pasta because Debian 12 ships a slirp4netns with
// the API socket berth needs (pasta's port options are fixed at start, and
// its Debian 12 version lacks some of them), and podman's rootless default
// on Debian 12 is slirp4netns too.
#pragma once

#include "berth/engine/network_store.h"
#include "berth/engine/run_request.h"

#include <optional>
#include <string>
#include <sys/types.h>

namespace berth::engine {

// The container's address and DNS server inside slirp4netns's network.
inline constexpr const char* slirp_container_address = "10.0.2.100";
inline constexpr const char* slirp_dns_server = "10.0.2.3";

// Starts slirp4netns for the namespace held at `netns_path` and publishes
// the request's ports. slirp4netns ends when this process does (its exit fd)
// or at disconnect_rootless_network.
void connect_rootless_network(const std::string& run_root, const std::string& id,
                              const std::string& netns_path, const RunRequest& request);

// What `berth port`, `ps` and `inspect` show of a rootless container's
// network: an endpoint on the network "slirp4netns" with the ports it
// publishes (kept in <run root>/slirp4netns/<id>.ports while it runs), and
// that network. nullopt when the container has no slirp4netns.
inline constexpr const char* slirp_network_name = "slirp4netns";
std::optional<EndpointRecord> rootless_endpoint(const std::string& run_root, const std::string& id);

// The write end of the running slirp4netns's exit fd (-1: none): the monitor
// holds it for as long as the container runs, berth-monitor included.
int slirp4netns_exit_fd();
NetworkRecord rootless_network_record();

// Stops the container's slirp4netns, if one runs. Idempotent.
void disconnect_rootless_network(const std::string& run_root, const std::string& id);

} // namespace berth::engine
