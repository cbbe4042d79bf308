// A container's network, made by its monitor just before the runtime
// creates the container and taken apart when it goes: the netns file, one
// endpoint per network (address from berth.db, veth into the netns, bridge,
// routes), published ports, the /etc/hosts line for its own address. Every
// kernel object is named by an endpoint row written before it is made, so
// teardown (here, or after a crash by sweep_network_leftovers) is driven by
// the rows and is idempotent.
#pragma once

#include "berth/engine/container_store.h"
#include "berth/engine/network_store.h"
#include "berth/engine/run_request.h"
#include "berth/image/database.h"

#include <cstddef>
#include <set>
#include <string>
#include <sys/types.h>

namespace berth::engine {

// Where container `id`'s network namespace file lives under the run root.
std::string netns_path_for(const std::string& run_root, const std::string& id);

// True for modes with endpoints: "bridge" and user-defined networks.
bool uses_endpoints(const std::string& network_mode);

// The network called `name`; "bridge" is created on first use (bridge
// $BERTH_BRIDGE or berth0, subnet $BERTH_BRIDGE_SUBNET or a free one).
NetworkRecord network_for_mode(NetworkStore& store, const std::string& name);

// Sets the network up in the namespace the runtime made for the container's
// init (`init_pid`, created and not yet started). On failure, undoes what it
// made and rethrows.
void connect_container(image::Database& database, const std::string& root,
                       const std::string& run_root, const ContainerRecord& record,
                       const RunRequest& request, const std::string& container_dir, pid_t init_pid);

// Attaches a running container (netns at `netns_path`) to one more network.
void connect_endpoint(NetworkStore& store, const NetworkRecord& network,
                      const std::string& container_id, const std::string& netns_path,
                      const std::vector<std::string>& aliases, bool default_route);

// Removes one endpoint: veth, published-port table, row. Idempotent.
void disconnect_endpoint(NetworkStore& store, const EndpointRecord& endpoint);

// Removes every endpoint of the container and its netns file. Idempotent.
// The veths go with the namespace once no process holds it; `delete_links`
// deletes them now, for when one might (a crash left the container's init).
void disconnect_container(image::Database& database, const std::string& run_root,
                          const std::string& id, bool delete_links = false);

// Endpoints and netns files of containers whose monitor is gone (a crash,
// kill -9 mid-setup), taken apart; how many containers had some. It reads
// every endpoint's monitor (/proc/PID/stat), so it runs where the command
// is O(containers) anyway (ps, the network commands) and when a start fails
// (what is left may hold its address or host port), not at every start.
// `alive`: containers whose monitor the caller has just found alive (a
// listing that reconciled them), not read again.
std::size_t sweep_network_leftovers(image::Database& database, ContainerStore& containers,
                                    const std::string& run_root,
                                    const std::set<std::string>& alive = {});

// Makes sure the network's bridge exists with its gateway address and rules.
void ensure_bridge(const NetworkRecord& network);
// Deletes the network's bridge and rule table.
void remove_bridge(const NetworkRecord& network);

} // namespace berth::engine
