#include "berth/engine/network_store.h"

#include "berth/base/error.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/ipam.h"

#include <set>

namespace berth::engine {

namespace {

// Append only: a shipped migration never changes, a new one is added.
const std::vector<std::string> migrations = {
    "CREATE TABLE networks ("
    " name TEXT PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " bridge TEXT NOT NULL UNIQUE,"
    " subnet TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " internal INTEGER NOT NULL DEFAULT 0,"
    " created TEXT NOT NULL);"
    "CREATE TABLE network_endpoints ("
    " container_id TEXT NOT NULL,"
    " network TEXT NOT NULL,"
    " address TEXT NOT NULL,"
    " interface TEXT NOT NULL,"
    " host_veth TEXT NOT NULL UNIQUE,"
    " netns_path TEXT NOT NULL,"
    " nft_table TEXT NOT NULL DEFAULT '',"
    " ports TEXT NOT NULL DEFAULT '[]',"
    " aliases TEXT NOT NULL DEFAULT '[]',"
    " PRIMARY KEY (container_id, network),"
    " UNIQUE (network, address))",
    // Networks a container joined with `network connect`, besides its
    // --network: wired again at every start, as Docker keeps them.
    "CREATE TABLE container_networks ("
    " container_id TEXT NOT NULL,"
    " network TEXT NOT NULL,"
    " aliases TEXT NOT NULL DEFAULT '[]',"
    " PRIMARY KEY (container_id, network))",
    // IPv6 (network create --ipv6): a second subnet and gateway, a second
    // address per endpoint, unique per network as the IPv4 one.
    "ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE network_endpoints ADD COLUMN address6 TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX network_endpoints_address6 ON network_endpoints (network, address6)"
    " WHERE address6 != ''",
    // Drivers other than bridge: macvlan and ipvlan on a parent link.
    "ALTER TABLE networks ADD COLUMN driver TEXT NOT NULL DEFAULT 'bridge';"
    "ALTER TABLE networks ADD COLUMN parent TEXT NOT NULL DEFAULT ''",
};

constexpr const char* network_columns =
    "name, id, bridge, subnet, gateway, internal, created, subnet6, gateway6, driver, parent";
constexpr const char* endpoint_columns = "container_id, network, address, interface, host_veth, "
                                         "netns_path, nft_table, ports, aliases, address6";

NetworkRecord read_network(const image::Statement& row) {
    return {row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.integer(5) != 0,
            row.text(6), row.text(7), row.text(8), row.text(9), row.text(10)};
}

EndpointRecord read_endpoint(const image::Statement& row) {
    return {row.text(0), row.text(1), row.text(2), row.text(3), row.text(4),
            row.text(5), row.text(6), row.text(7), row.text(8), row.text(9)};
}

std::vector<EndpointRecord> query_endpoints(image::Database& database, const std::string& where,
                                            const std::string& argument) {
    image::Statement statement = database.prepare(std::string("SELECT ") + endpoint_columns +
                                                  " FROM network_endpoints " + where);
    if (!argument.empty()) statement.bind(1, argument);
    std::vector<EndpointRecord> found;
    while (statement.step())
        found.push_back(read_endpoint(statement));
    return found;
}

} // namespace

NetworkStore::NetworkStore(image::Database& database) : database_(database) {
    database_.migrate("network", migrations);
}

void NetworkStore::insert_network(const NetworkRecord& network) {
    network::Subnet subnet = network::parse_subnet(network.subnet);
    database_.transaction([&] {
        for (const auto& other : networks()) {
            if (other.name == network.name)
                fail("network with name " + network.name + " already exists");
            if (network::parse_subnet(other.subnet).overlaps(subnet))
                fail("subnet " + network.subnet + " overlaps network " + other.name + "'s " +
                     other.subnet);
            if (!network.subnet6.empty() && other.subnet6 == network.subnet6)
                fail("subnet " + network.subnet6 + " is network " + other.name + "'s");
            if (other.bridge == network.bridge)
                fail("bridge " + network.bridge + " is network " + other.name + "'s");
        }
        database_
            .prepare(std::string("INSERT INTO networks (") + network_columns +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
            .bind(1, network.name)
            .bind(2, network.id)
            .bind(3, network.bridge)
            .bind(4, network.subnet)
            .bind(5, network.gateway)
            .bind(6, static_cast<std::int64_t>(network.internal))
            .bind(7, network.created)
            .bind(8, network.subnet6)
            .bind(9, network.gateway6)
            .bind(10, network.driver.empty() ? "bridge" : network.driver)
            .bind(11, network.parent)
            .run();
    });
}

std::optional<NetworkRecord> NetworkStore::find_network(const std::string& name_or_id) {
    if (name_or_id.empty()) return std::nullopt;
    for (const char* where : {"WHERE name = ?1", "WHERE id = ?1"}) {
        image::Statement statement =
            database_.prepare(std::string("SELECT ") + network_columns + " FROM networks " + where);
        statement.bind(1, name_or_id);
        if (statement.step()) return read_network(statement);
    }
    std::vector<NetworkRecord> matches;
    for (auto& network : networks())
        if (network.id.starts_with(name_or_id)) matches.push_back(network);
    if (matches.size() > 1) fail("network " + name_or_id + " is ambiguous: give more of the id");
    if (matches.empty()) return std::nullopt;
    return matches.front();
}

std::vector<NetworkRecord> NetworkStore::networks() {
    image::Statement statement = database_.prepare(std::string("SELECT ") + network_columns +
                                                   " FROM networks ORDER BY name");
    std::vector<NetworkRecord> found;
    while (statement.step())
        found.push_back(read_network(statement));
    return found;
}

void NetworkStore::remove_network(const std::string& name) {
    database_.transaction([&] {
        database_.prepare("DELETE FROM container_networks WHERE network = ?1").bind(1, name).run();
        database_.prepare("DELETE FROM networks WHERE name = ?1").bind(1, name).run();
    });
}

EndpointRecord NetworkStore::allocate(EndpointRecord endpoint) {
    database_.transaction([&] {
        auto network = find_network(endpoint.network);
        if (!network) fail("network " + endpoint.network + " not found");
        network::Subnet subnet = network::parse_subnet(network->subnet);
        auto gateway = network::parse_ipv4(network->gateway);
        if (!gateway) fail("network " + network->name + " has a bad gateway " + network->gateway);
        // Only the addresses: the network may have a thousand endpoints.
        std::set<network::Ipv4> taken;
        std::set<network::Ipv6> taken6;
        image::Statement held =
            database_.prepare("SELECT address, address6 FROM network_endpoints WHERE network = ?1");
        held.bind(1, network->name);
        while (held.step()) {
            if (auto address = network::parse_ipv4(held.text(0))) taken.insert(*address);
            if (auto address6 = network::parse_ipv6(held.text(1))) taken6.insert(*address6);
        }
        auto address = network::next_free_address(subnet, *gateway, taken);
        if (!address) fail("network " + network->name + " has no free address left");
        endpoint.address = network::to_string(*address);
        if (!network->subnet6.empty()) {
            network::Subnet6 subnet6 = network::parse_subnet6(network->subnet6);
            auto gateway6 = network::parse_ipv6(network->gateway6);
            if (!gateway6)
                fail("network " + network->name + " has a bad IPv6 gateway " + network->gateway6);
            auto address6 = network::next_free_address6(subnet6, *gateway6, taken6);
            if (!address6) fail("network " + network->name + " has no free IPv6 address left");
            endpoint.address6 = network::to_string(*address6);
        }
        database_
            .prepare(std::string("INSERT INTO network_endpoints (") + endpoint_columns +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
            .bind(1, endpoint.container_id)
            .bind(2, endpoint.network)
            .bind(3, endpoint.address)
            .bind(4, endpoint.interface)
            .bind(5, endpoint.host_veth)
            .bind(6, endpoint.netns_path)
            .bind(7, endpoint.nft_table)
            .bind(8, endpoint.ports_json.empty() ? "[]" : endpoint.ports_json)
            .bind(9, endpoint.aliases_json.empty() ? "[]" : endpoint.aliases_json)
            .bind(10, endpoint.address6)
            .run();
    });
    return endpoint;
}

void NetworkStore::set_ports(const std::string& container_id, const std::string& network,
                             const std::string& nft_table, const std::string& ports_json) {
    database_
        .prepare("UPDATE network_endpoints SET nft_table = ?1, ports = ?2"
                 " WHERE container_id = ?3 AND network = ?4")
        .bind(1, nft_table)
        .bind(2, ports_json)
        .bind(3, container_id)
        .bind(4, network)
        .run();
}

std::vector<EndpointRecord> NetworkStore::endpoints_of_container(const std::string& container_id) {
    return query_endpoints(database_, "WHERE container_id = ?1 ORDER BY interface", container_id);
}

std::vector<EndpointRecord> NetworkStore::endpoints_on_network(const std::string& network) {
    return query_endpoints(database_, "WHERE network = ?1 ORDER BY address", network);
}

std::vector<EndpointRecord> NetworkStore::endpoints() {
    return query_endpoints(database_, "", "");
}

void NetworkStore::add_connection(const std::string& container_id, const std::string& network,
                                  const std::string& aliases_json) {
    database_
        .prepare("INSERT OR REPLACE INTO container_networks (container_id, network, aliases)"
                 " VALUES (?1, ?2, ?3)")
        .bind(1, container_id)
        .bind(2, network)
        .bind(3, aliases_json)
        .run();
}

void NetworkStore::remove_connection(const std::string& container_id, const std::string& network) {
    database_.prepare("DELETE FROM container_networks WHERE container_id = ?1 AND network = ?2")
        .bind(1, container_id)
        .bind(2, network)
        .run();
}

void NetworkStore::forget_container(const std::string& container_id) {
    database_.prepare("DELETE FROM container_networks WHERE container_id = ?1")
        .bind(1, container_id)
        .run();
}

std::vector<std::pair<std::string, std::string>>
NetworkStore::connections_of(const std::string& container_id) {
    image::Statement statement = database_.prepare(
        "SELECT network, aliases FROM container_networks WHERE container_id = ?1 ORDER BY network");
    statement.bind(1, container_id);
    std::vector<std::pair<std::string, std::string>> found;
    while (statement.step())
        found.emplace_back(statement.text(0), statement.text(1));
    return found;
}

void NetworkStore::remove_endpoint(const std::string& container_id, const std::string& network) {
    database_.prepare("DELETE FROM network_endpoints WHERE container_id = ?1 AND network = ?2")
        .bind(1, container_id)
        .bind(2, network)
        .run();
}

} // namespace berth::engine
