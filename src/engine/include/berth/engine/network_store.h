// The network tables of berth.db: networks (name, bridge, subnet, gateway,
// internal) and endpoints (a container's address on a network, with the
// names of everything made for it: host veth, netns file, nft table). An
// endpoint row is written before the kernel objects it names, so whatever a
// crash leaves behind is listed here and can be taken apart. Addresses are
// handed out inside one transaction (BEGIN IMMEDIATE) and guarded by
// UNIQUE(network, address): two containers never share one, whatever runs
// at once.
#pragma once

#include "berth/image/database.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace berth::engine {

struct NetworkRecord {
    std::string name;
    std::string id;
    std::string bridge;
    std::string subnet;  // "172.30.0.0/16"
    std::string gateway; // "172.30.0.1"
    bool internal = false;
    std::string created;
    std::string subnet6;           // "fd00:1::/64" with --ipv6, else ""
    std::string gateway6;          // "fd00:1::1"
    std::string driver = "bridge"; // or macvlan, ipvlan (on `parent`, no bridge of berth's)
    std::string parent;            // macvlan/ipvlan: the host link they hang on
};

struct EndpointRecord {
    std::string container_id;
    std::string network;
    std::string address;   // the container's, without prefix
    std::string interface; // inside the container: eth0, eth1...
    std::string host_veth;
    std::string netns_path;
    std::string nft_table; // "" when the container publishes no port
    std::string
        ports_json; // resolved PortMappings: [{"protocol","host_ip","host_port","container_port"}]
    std::string aliases_json;
    std::string address6; // on a network with IPv6, else ""
};

class NetworkStore {
  public:
    explicit NetworkStore(image::Database& database);

    // Error "network NAME already exists" / on a subnet another network uses.
    void insert_network(const NetworkRecord& network);
    std::optional<NetworkRecord> find_network(const std::string& name_or_id);
    std::vector<NetworkRecord> networks();
    void remove_network(const std::string& name);

    // The lowest free address of `network` for this endpoint (the address
    // field is filled in), recorded in the same transaction. Error if full.
    EndpointRecord allocate(EndpointRecord endpoint);
    void set_ports(const std::string& container_id, const std::string& network,
                   const std::string& nft_table, const std::string& ports_json);
    std::vector<EndpointRecord> endpoints_of_container(const std::string& container_id);
    std::vector<EndpointRecord> endpoints_on_network(const std::string& network);
    std::vector<EndpointRecord> endpoints();
    void remove_endpoint(const std::string& container_id, const std::string& network);

    // Networks joined with `network connect` (network, aliases JSON), kept
    // until `network disconnect` or the container's removal.
    void add_connection(const std::string& container_id, const std::string& network,
                        const std::string& aliases_json);
    void remove_connection(const std::string& container_id, const std::string& network);
    void forget_container(const std::string& container_id);
    std::vector<std::pair<std::string, std::string>>
    connections_of(const std::string& container_id);

    // Runs `body` in one transaction (BEGIN IMMEDIATE): check, then write.
    void transaction(const std::function<void()>& body) { database_.transaction(body); }

  private:
    image::Database& database_;
};

} // namespace berth::engine
