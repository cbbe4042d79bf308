#include "berth/engine/networks.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/identity.h"
#include "berth/engine/network_resolver.h"
#include "berth/engine/run_request.h"
#include "berth/image/image_store.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/ipam.h"
#include "berth/network/route_netlink.h"
#include "container_network.h"
#include "process_identity.h"
#include "rootless_network.h"

#include <algorithm>
#include <set>

namespace berth::engine {

namespace {

bool valid_network_name(const std::string& name) {
    // Docker's rule for names, as for containers.
    return is_valid_container_name(name) && name.front() != '/';
}

} // namespace

Networks::Networks(EngineOptions options, bool sweep_leftovers) : options_(std::move(options)) {
    if (options_.root.empty()) options_.root = image::default_root();
    if (options_.run_root.empty()) options_.run_root = default_run_root();
    options_.root = absolute_path_of(options_.root);
    options_.run_root = absolute_path_of(options_.run_root);
    make_directories(options_.root, 0710);
    database_ = std::make_unique<image::Database>(options_.root + "/berth.db");
    containers_ = std::make_unique<ContainerStore>(*database_);
    store_ = std::make_unique<NetworkStore>(*database_);
    if (sweep_leftovers) sweep_network_leftovers(*database_, *containers_, options_.run_root);
}

Networks::~Networks() = default;

NetworkRecord Networks::create(const NetworkCreateRequest& request) {
    if (rootless())
        fail("network create: user-defined networks need root (bridges and nftables rules are "
             "the host's); rootless containers get slirp4netns on the default network");
    if (!valid_network_name(request.name))
        fail("invalid network name \"" + request.name +
             "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    if (request.name == "none" || request.name == "host" || request.name == "bridge")
        fail("network name " + request.name + " is reserved");
    if (store_->find_network(request.name))
        fail("network with name " + request.name + " already exists");
    NetworkRecord network;
    network.name = request.name;
    network.id = new_container_id();
    network.bridge = "br-" + network.id.substr(0, 12);
    network.internal = request.internal;
    network.driver = request.driver;
    for (const auto& option : request.options) {
        if (option.starts_with("parent=") && network.driver != "bridge")
            network.parent = option.substr(7);
        else
            fail("network option \"" + option + "\" is not supported (" +
                 (network.driver == "bridge" ? "bridge networks take none" : "give parent=LINK") +
                 ")");
    }
    if (network.driver == "macvlan" || network.driver == "ipvlan") {
        // No bridge of berth's: the containers' links hang on the parent.
        network.bridge = "mv-" + network.id.substr(0, 12);
        if (network.parent.empty())
            fail("a " + network.driver + " network needs -o parent=LINK (a host interface)");
        if (network::RouteNetlink().link_index(network.parent) == 0)
            fail("parent " + network.parent + " of the " + network.driver +
                 " network is not a link of this host");
        if (request.internal || request.ipv6)
            fail("--internal and --ipv6 are for bridge networks (" + network.driver +
                 " networks have the parent's reach)");
    } else if (network.driver != "bridge") {
        fail("network driver " + network.driver +
             " is not supported (berth has bridge, macvlan and ipvlan)");
    }
    network::Subnet subnet;
    if (!request.subnet.empty()) {
        subnet = network::parse_subnet(request.subnet);
        if (subnet.prefix > 30) fail("subnet " + request.subnet + " is too small (at most /30)");
    } else {
        // Free of every other network's and of every address on the host,
        // which also covers other berth roots' bridges.
        std::set<network::Subnet> used;
        for (const auto& other : store_->networks())
            used.insert(network::parse_subnet(other.subnet));
        for (const auto& held : network::RouteNetlink().ipv4_subnets())
            used.insert(held);
        subnet = network::pick_free_subnet(used);
    }
    network.subnet = network::to_string(subnet);
    auto gateway = request.gateway.empty()
                       ? subnet.first_host()
                       : network::parse_ipv4(request.gateway).value_or(network::Ipv4{});
    if (!subnet.contains(gateway) || gateway == subnet.network || gateway == subnet.broadcast())
        fail("gateway " + request.gateway + " is not a host address of subnet " + network.subnet);
    network.gateway = network::to_string(gateway);
    if (!request.ipv6 && (!request.subnet6.empty() || !request.gateway6.empty()))
        fail("an IPv6 --subnet or --gateway needs --ipv6");
    if (request.ipv6) {
        network::Subnet6 subnet6 = request.subnet6.empty()
                                       ? network::unique_local_subnet(network.id)
                                       : network::parse_subnet6(request.subnet6);
        network.subnet6 = network::to_string(subnet6);
        auto gateway6 = request.gateway6.empty() ? std::optional(subnet6.first_host())
                                                 : network::parse_ipv6(request.gateway6);
        if (!gateway6 || !subnet6.contains(*gateway6) || *gateway6 == subnet6.network)
            fail("gateway " + request.gateway6 + " is not a host address of subnet " +
                 network.subnet6);
        network.gateway6 = network::to_string(*gateway6);
    }
    network.created = now_rfc3339_nano();
    store_->insert_network(network);
    return network;
}

std::vector<NetworkRecord> Networks::list() {
    return store_->networks();
}

NetworkRecord Networks::get(const std::string& name_or_id) {
    if (rootless() && name_or_id == slirp_network_name) return rootless_network_record();
    auto network = store_->find_network(name_or_id);
    if (!network) fail("network " + name_or_id + " not found");
    return *network;
}

std::vector<EndpointRecord> Networks::endpoints(const std::string& network) {
    return store_->endpoints_on_network(get(network).name);
}

std::string Networks::container_name(const std::string& id) {
    auto record = containers_->find(id);
    return record ? record->name : "";
}

void Networks::remove(const std::string& name_or_id) {
    NetworkRecord network = get(name_or_id);
    if (network.name == "bridge") fail("bridge is a pre-defined network and cannot be removed");
    auto users = store_->endpoints_on_network(network.name);
    if (!users.empty())
        fail("error while removing network: network " + network.name + " id " + network.id +
             " has active endpoints (" + container_name(users.front().container_id) + ")");
    remove_bridge(network);
    store_->remove_network(network.name);
}

std::vector<std::string> Networks::prune() {
    std::vector<std::string> removed;
    for (const auto& network : store_->networks()) {
        if (network.name == "bridge" || !store_->endpoints_on_network(network.name).empty())
            continue;
        remove_bridge(network);
        store_->remove_network(network.name);
        removed.push_back(network.name);
    }
    return removed;
}

void Networks::connect(const std::string& network_name, const std::string& container,
                       const std::vector<std::string>& aliases) {
    NetworkRecord network = get(network_name);
    ContainerRecord record = containers_->get(container);
    RunRequest request = run_request_from_json(nlohmann::json::parse(record.config_json));
    if (!uses_endpoints(request.network))
        fail("container " + record.name + " runs with --network " + request.network +
             ": it has no network of its own to connect");
    if (request.network == network.name)
        fail("container " + record.name + " is already connected to network " + network.name);
    for (const auto& [name, ignored] : store_->connections_of(record.id))
        if (name == network.name)
            fail("container " + record.name + " is already connected to network " + network.name);
    if (network.name == "bridge" && !aliases.empty())
        fail("network-scoped aliases are only supported for user-defined networks");
    bool running = record.state == ContainerState::running &&
                   process_alive(static_cast<pid_t>(record.monitor_pid), record.monitor_start_time);
    if (running) {
        if (record.pid <= 0) fail("container " + record.name + " has no process to connect");
        connect_endpoint(*store_, network, record.id,
                         "/proc/" + std::to_string(record.pid) + "/ns/net", aliases, false);
        if (network.name != "bridge")
            ensure_network_resolver(options_.root, options_.run_root, network);
    }
    // Kept for the next starts too, as Docker does.
    store_->add_connection(record.id, network.name, nlohmann::json(aliases).dump());
}

void Networks::disconnect(const std::string& network_name, const std::string& container) {
    NetworkRecord network = get(network_name);
    ContainerRecord record = containers_->get(container);
    bool connected = false;
    for (const auto& [name, ignored] : store_->connections_of(record.id))
        connected = connected || name == network.name;
    store_->remove_connection(record.id, network.name);
    for (const auto& endpoint : store_->endpoints_of_container(record.id))
        if (endpoint.network == network.name) {
            disconnect_endpoint(*store_, endpoint);
            return;
        }
    if (!connected)
        fail("container " + record.name + " is not connected to network " + network.name);
}

std::vector<EndpointRecord> Networks::container_endpoints(const std::string& container) {
    std::string id = containers_->get(container).id;
    if (rootless()) {
        if (auto endpoint = rootless_endpoint(options_.run_root, id)) return {*endpoint};
        return {};
    }
    return store_->endpoints_of_container(id);
}

std::vector<EndpointRecord> Networks::all_endpoints() {
    if (!rootless()) return store_->endpoints();
    // A rootless container's one endpoint is slirp4netns's, kept in files.
    std::vector<EndpointRecord> endpoints;
    for (const auto& record : containers_->list())
        if (auto endpoint = rootless_endpoint(options_.run_root, record.id))
            endpoints.push_back(std::move(*endpoint));
    return endpoints;
}

} // namespace berth::engine
