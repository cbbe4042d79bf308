// `berth network ...` and `berth port`: user-defined networks and the
// containers on them, over the same berth.db as the engine. Separate from
// Engine so that the two grow apart without touching each other.
#pragma once

#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/network_store.h"
#include "berth/image/database.h"

#include <memory>
#include <string>
#include <vector>

namespace berth::engine {

struct NetworkCreateRequest {
    std::string name;
    std::string subnet;  // "" for a free private /16
    std::string gateway; // "" for the subnet's first address
    bool internal = false;
    bool ipv6 = false;                // --ipv6: a second, IPv6 subnet
    std::string subnet6;              // "" for a unique local /64 made from the network's id
    std::string gateway6;             // "" for the subnet's first address
    std::string driver = "bridge";    // bridge, macvlan or ipvlan
    std::vector<std::string> options; // -o key=value: parent=LINK
};

class Networks {
  public:
    // `sweep_leftovers`: clean up after killed monitors first, as listings
    // do (false where the same command's Engine just did).
    explicit Networks(EngineOptions options, bool sweep_leftovers = true);
    ~Networks();

    NetworkRecord create(const NetworkCreateRequest& request);
    std::vector<NetworkRecord> list();
    NetworkRecord get(const std::string& name_or_id);
    std::vector<EndpointRecord> endpoints(const std::string& network);
    // The container's name for an endpoint's id ("" if gone).
    std::string container_name(const std::string& id);
    // Refuses the default network and a network with containers.
    void remove(const std::string& name_or_id);
    // Networks no container uses, removed; their names.
    std::vector<std::string> prune();
    // A container joins (or leaves) a network: now if it runs, and at every
    // start until it is disconnected or removed.
    void connect(const std::string& network, const std::string& container,
                 const std::vector<std::string>& aliases);
    void disconnect(const std::string& network, const std::string& container);
    // The container's published ports, resolved (endpoint rows' JSON).
    std::vector<EndpointRecord> container_endpoints(const std::string& container);
    // Every container's endpoints in one query (ps lists a thousand containers).
    std::vector<EndpointRecord> all_endpoints();

  private:
    EngineOptions options_;
    std::unique_ptr<image::Database> database_;
    std::unique_ptr<ContainerStore> containers_;
    std::unique_ptr<NetworkStore> store_;
};

} // namespace berth::engine
