#include "container_network.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/identity.h"
#include "berth/engine/network_options.h"
#include "berth/engine/network_resolver.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/firewall.h"
#include "berth/network/ipam.h"
#include "berth/network/netns.h"
#include "berth/network/ports.h"
#include "berth/network/route_netlink.h"
#include "process_identity.h"
#include "rootless_network.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <exception>
#include <fcntl.h>
#include <map>
#include <set>
#include <thread>

namespace berth::engine {

namespace {

using nlohmann::json;

std::string env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

// 15 characters at most (IFNAMSIZ), distinct per container and network.
std::string host_veth_name(const std::string& id, const std::string& network) {
    unsigned hash = 2166136261u; // FNV-1a: stable across builds and runs
    for (unsigned char c : network)
        hash = (hash ^ c) * 16777619u;
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%04x", hash & 0xffff);
    return "vb" + id.substr(0, 9) + suffix;
}

std::string table_for_network(const NetworkRecord& network) {
    return "berth-" + network.bridge;
}

std::string table_for_container(const std::string& id) {
    return "berth-c-" + id.substr(0, 16);
}

json port_json(const network::PortMapping& port) {
    return {{"protocol", port.protocol},
            {"host_ip", network::to_string(port.host_ip)},
            {"host_port", port.host_port},
            {"container_port", port.container_port}};
}

// Runs every step, remembers the first failure, rethrows it at the end.
class Undo {
  public:
    template <class Step> void run(Step step) {
        try {
            step();
        } catch (...) {
            if (!first_) first_ = std::current_exception();
        }
    }
    void finish() {
        if (first_) std::rethrow_exception(first_);
    }

  private:
    std::exception_ptr first_;
};

// A macvlan link's MAC comes from its address: the link of a container that
// just had that address may still be on the parent, in a namespace the
// kernel destroys in the background, and until it goes ours cannot come up
// (EADDRINUSE). It goes within milliseconds.
void bring_up(network::RouteNetlink& netlink, const std::string& interface) {
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);;) {
        try {
            netlink.set_up(interface);
            return;
        } catch (const Error& error) {
            if (error.errno_value() != EADDRINUSE || std::chrono::steady_clock::now() > deadline)
                throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void publish_ports(NetworkStore& store, const NetworkRecord& network,
                   const EndpointRecord& endpoint, const NetworkOptions& options) {
    if (options.publish.empty()) return;
    if (network.driver != "bridge")
        fail("published ports need a bridge network: on " + network.driver + " network " +
             network.name + " the container is reached at its own address");
    network::PublishRules rules;
    rules.table = table_for_container(endpoint.container_id);
    rules.bridge = network.bridge;
    rules.container_ip = *network::parse_ipv4(endpoint.address);
    rules.container_ip6 = network::parse_ipv6(endpoint.address6);
    json ports = json::array();
    // Checked and recorded in one transaction: two containers never get one
    // host port, whatever starts at once (as Docker's "port is already allocated").
    store.transaction([&] {
        std::vector<network::PortMapping> taken;
        for (const auto& other : store.endpoints()) {
            if (other.container_id == endpoint.container_id) continue;
            json held = json::parse(other.ports_json, nullptr, false);
            if (!held.is_array()) continue;
            for (const auto& port : held) {
                network::PortMapping mapping;
                mapping.protocol = port.value("protocol", std::string("tcp"));
                mapping.host_ip = network::parse_ipv4(port.value("host_ip", std::string("0.0.0.0")))
                                      .value_or(network::Ipv4{});
                mapping.host_port = port.value("host_port", std::uint16_t{0});
                taken.push_back(mapping);
            }
        }
        auto clashes = [&](const network::PortMapping& wanted) {
            for (const auto& held : taken)
                if (held.protocol == wanted.protocol && held.host_port == wanted.host_port &&
                    (held.host_ip == wanted.host_ip || held.host_ip.value == 0 ||
                     wanted.host_ip.value == 0))
                    return true;
            return false;
        };
        for (const auto& text : options.publish)
            for (network::PortMapping port : network::parse_port_mappings(text)) {
                if (port.host_port == 0) {
                    for (int attempt = 0; attempt < 20 && port.host_port == 0; ++attempt) {
                        port.host_port = network::free_host_port(port.protocol);
                        if (clashes(port)) port.host_port = 0;
                    }
                    if (port.host_port == 0) fail("no free host port for " + text);
                } else if (clashes(port)) {
                    fail("Bind for " + network::to_string(port.host_ip) + ":" +
                         std::to_string(port.host_port) + " failed: port is already allocated");
                }
                taken.push_back(port);
                rules.ports.push_back(port);
                ports.push_back(port_json(port));
            }
        // The row names the table before it exists, so a crash cannot leak it.
        store.set_ports(endpoint.container_id, endpoint.network, rules.table, ports.dump());
    });
    network::run_nft(network::publish_ruleset(rules));
}

void add_hosts_line(const std::string& container_dir, const std::string& address,
                    const std::string& address6) {
    std::string hosts_file = container_dir + "/hosts";
    std::string hostname;
    try {
        hostname = split_lines(read_file(container_dir + "/hostname")).at(0);
    } catch (const std::exception&) {
        return;
    }
    // The line a start before this one added goes (its address may differ).
    std::string own_line = "\t" + hostname;
    std::string kept;
    for (const auto& line : split_lines(read_file(hosts_file)))
        if (!(line.ends_with(own_line) &&
              (network::parse_ipv4(line.substr(0, line.size() - own_line.size())) ||
               network::parse_ipv6(line.substr(0, line.size() - own_line.size())))))
            kept += line + "\n";
    kept += address + own_line + "\n";
    if (!address6.empty()) kept += address6 + own_line + "\n";
    // In place: the container's /etc/hosts is a bind mount of this very file.
    UniqueFd hosts = open_fd(hosts_file, O_WRONLY | O_TRUNC);
    write_all(hosts.get(), kept, hosts_file);
}

// With BERTH_NETWORK_TIMING set, how long a network step took goes to
// stderr (the monitor's log): what bench/network reads.
class StepTimer {
  public:
    explicit StepTimer(const char* step)
        : step_(step), start_(std::chrono::steady_clock::now()),
          enabled_(std::getenv("BERTH_NETWORK_TIMING") != nullptr) {}
    ~StepTimer() {
        if (!enabled_) return;
        std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start_;
        std::fprintf(stderr, "berth network timing: %s %.3f ms\n", step_, took.count());
    }

  private:
    const char* step_;
    std::chrono::steady_clock::time_point start_;
    bool enabled_;
};

} // namespace

std::string netns_path_for(const std::string& run_root, const std::string& id) {
    return run_root + "/netns/" + id;
}

namespace {

// The namespace the runtime made for the init, by its /proc path (the
// monitor is the init's parent: the pid stays the init's until the monitor
// reaps it), its loopback up. A plain file under <run root>/netns names the
// container while it has a network, so that the sweep finds what a killed
// monitor left. No bind mount of the namespace there: each later
// container's new mount namespace is a copy of every mount of the host's
// (a thousand such mounts made each start ~6 ms slower).
std::string mark_container_namespace(const std::string& run_root, const std::string& id,
                                     pid_t init_pid) {
    make_directories(run_root + "/netns", 0700);
    std::string marker = netns_path_for(run_root, id);
    open_fd(marker, O_WRONLY | O_CREAT, 0600);
    std::string netns_path = "/proc/" + std::to_string(init_pid) + "/ns/net";
    network::RouteNetlink(open_fd(netns_path, O_RDONLY).get()).set_up("lo");
    return netns_path;
}

// The same, held by a bind mount of the namespace on that file, which
// slirp4netns is given.
void hold_container_namespace(const std::string& run_root, const std::string& id, pid_t init_pid) {
    make_directories(run_root + "/netns", 0700);
    UniqueFd netns = network::hold_network_namespace(
        "/proc/" + std::to_string(init_pid) + "/ns/net", netns_path_for(run_root, id));
    network::RouteNetlink(netns.get()).set_up("lo");
}

} // namespace

bool uses_endpoints(const std::string& network_mode) {
    return network_mode != "none" && network_mode != "host" &&
           !network_mode.starts_with("container:");
}

NetworkRecord network_for_mode(NetworkStore& store, const std::string& name) {
    if (auto found = store.find_network(name)) return *found;
    if (name != "bridge") fail("network " + name + " not found");
    NetworkRecord network;
    network.name = "bridge";
    network.id = new_container_id();
    network.bridge = env_or("BERTH_BRIDGE", "berth0");
    std::string subnet_text = env_or("BERTH_BRIDGE_SUBNET", "");
    network::Subnet subnet;
    if (!subnet_text.empty()) {
        subnet = network::parse_subnet(subnet_text);
    } else {
        std::set<network::Subnet> used;
        for (const auto& other : store.networks())
            used.insert(network::parse_subnet(other.subnet));
        for (const auto& held : network::RouteNetlink().ipv4_subnets())
            used.insert(held);
        subnet = network::pick_free_subnet(used);
    }
    network.subnet = network::to_string(subnet);
    network.gateway = network::to_string(subnet.first_host());
    network.created = now_rfc3339_nano();
    try {
        store.insert_network(network);
    } catch (const Error&) {
        // Another command made it meanwhile.
        if (auto found = store.find_network(name)) return *found;
        throw;
    }
    return network;
}

void ensure_bridge(const NetworkRecord& network) {
    if (network.driver != "bridge") return; // macvlan, ipvlan: the parent is the host's
    network::RouteNetlink host;
    // A bridge that exists was set up by whoever made it (berth keeps
    // bridges as Docker keeps docker0): nothing more to pay per container.
    if (!host.create_bridge(network.bridge, 0)) return;
    try {
        network::Subnet subnet = network::parse_subnet(network.subnet);
        host.add_address(network.bridge, *network::parse_ipv4(network.gateway), subnet.prefix);
        std::optional<network::Subnet6> subnet6;
        if (!network.subnet6.empty()) {
            subnet6 = network::parse_subnet6(network.subnet6);
            host.add_address6(network.bridge, *network::parse_ipv6(network.gateway6),
                              subnet6->prefix);
        }
        network::enable_forwarding(network.bridge, subnet6.has_value());
        network::run_nft(network::network_ruleset(
            {table_for_network(network), network.bridge, subnet, subnet6, network.internal}));
    } catch (...) {
        try {
            remove_bridge(network);
        } catch (...) {
        }
        throw;
    }
}

void remove_bridge(const NetworkRecord& network) {
    Undo undo;
    undo.run([&] { network::delete_nft_table(table_for_network(network)); });
    undo.run([&] { network::RouteNetlink().delete_link(network.bridge); });
    undo.finish();
}

void connect_endpoint(NetworkStore& store, const NetworkRecord& network,
                      const std::string& container_id, const std::string& netns_path,
                      const std::vector<std::string>& aliases, bool default_route) {
    ensure_bridge(network);
    EndpointRecord endpoint;
    endpoint.container_id = container_id;
    endpoint.network = network.name;
    // The lowest ethN free inside the container (one may have been disconnected).
    std::set<std::string> used;
    for (const auto& other : store.endpoints_of_container(container_id))
        used.insert(other.interface);
    for (int n = 0; endpoint.interface.empty(); ++n)
        if (!used.contains("eth" + std::to_string(n)))
            endpoint.interface = "eth" + std::to_string(n);
    endpoint.host_veth = host_veth_name(container_id, network.name);
    endpoint.netns_path = netns_path;
    endpoint.aliases_json = json(aliases).dump();
    endpoint = store.allocate(endpoint);
    try {
        UniqueFd netns = open_fd(netns_path, O_RDONLY);
        network::RouteNetlink host;
        auto mac = network::mac_for(*network::parse_ipv4(endpoint.address));
        if (network.driver == "bridge") {
            host.create_veth(endpoint.host_veth, network.bridge, 0, endpoint.interface, netns.get(),
                             &mac);
            // A bridge port is no IPv6 host (the bridge is): its link-local
            // address would only add a route per container to the host's table.
            host.stop_ipv6_autoconfiguration(endpoint.host_veth);
        } else { // no host end: the link goes with the namespace
            host.create_sublink(network.driver, network.parent, endpoint.interface, netns.get(),
                                &mac);
        }
        network::RouteNetlink inside(netns.get());
        // Without IPv6 on the network (as Docker's default), the link's
        // autoconfiguration multicasts would reach every container on the
        // bridge: O(containers) work for the kernel at each start.
        if (endpoint.address6.empty()) inside.stop_ipv6_autoconfiguration(endpoint.interface);
        network::Subnet subnet = network::parse_subnet(network.subnet);
        inside.add_address(endpoint.interface, *network::parse_ipv4(endpoint.address),
                           subnet.prefix);
        bring_up(inside, endpoint.interface);
        if (!endpoint.address6.empty())
            inside.add_address6(endpoint.interface, *network::parse_ipv6(endpoint.address6),
                                network::parse_subnet6(network.subnet6).prefix);
        // An internal network has no way out: no default route either.
        if (default_route && !network.internal) {
            inside.add_default_route(*network::parse_ipv4(network.gateway));
            if (!endpoint.address6.empty())
                inside.add_default_route6(*network::parse_ipv6(network.gateway6));
        }
    } catch (...) {
        try {
            disconnect_endpoint(store, endpoint);
        } catch (...) {
        }
        throw;
    }
}

namespace {

// The network of --network, then those `network connect` added.
void connect_to_networks(image::Database& database, const std::string& root,
                         const std::string& run_root, const ContainerRecord& record,
                         const RunRequest& request, const std::string& container_dir,
                         pid_t init_pid) {
    NetworkStore store(database);
    NetworkRecord network = network_for_mode(store, request.network);
    try {
        std::string netns_path = mark_container_namespace(run_root, record.id, init_pid);
        connect_endpoint(store, network, record.id, netns_path, request.network_options.aliases,
                         true);
        auto endpoints = store.endpoints_of_container(record.id);
        if (endpoints.empty()) fail("the container's endpoint vanished");
        publish_ports(store, network, endpoints.front(), request.network_options);
        // The networks `network connect` added, as at the last start.
        for (const auto& [name, aliases_json] : store.connections_of(record.id)) {
            if (name == network.name) continue;
            auto extra = store.find_network(name);
            if (!extra) fail("network " + name + " (connected to this container) not found");
            json aliases = json::parse(aliases_json, nullptr, false);
            connect_endpoint(store, *extra, record.id, netns_path,
                             aliases.is_array() ? aliases.get<std::vector<std::string>>()
                                                : std::vector<std::string>{},
                             false);
            ensure_network_resolver(root, run_root, *extra);
        }
        add_hosts_line(container_dir, endpoints.front().address, endpoints.front().address6);
        // Names on user-defined networks (Docker's default network has none).
        if (network.name != "bridge") ensure_network_resolver(root, run_root, network);
    } catch (...) {
        try {
            // The veths now: the init lives on and holds the namespace (and
            // a second try, after a sweep, makes them again).
            disconnect_container(database, run_root, record.id, true);
        } catch (...) {
        }
        throw;
    }
}

} // namespace

void connect_container(image::Database& database, const std::string& root,
                       const std::string& run_root, const ContainerRecord& record,
                       const RunRequest& request, const std::string& container_dir,
                       pid_t init_pid) {
    if (request.network == "none") {
        // Docker's "none": a namespace of its own with only the loopback, up.
        network::RouteNetlink(
            open_fd("/proc/" + std::to_string(init_pid) + "/ns/net", O_RDONLY).get())
            .set_up("lo");
        return;
    }
    if (!uses_endpoints(request.network)) return;
    StepTimer timer("setup");
    // Left by a start that did not finish (a killed monitor).
    disconnect_container(database, run_root, record.id, true);
    if (rootless()) {
        // No bridge or veth for an unprivileged user: slirp4netns.
        std::string netns_path = netns_path_for(run_root, record.id);
        try {
            hold_container_namespace(run_root, record.id, init_pid);
            connect_rootless_network(run_root, record.id, netns_path, request);
            add_hosts_line(container_dir, slirp_container_address, "");
        } catch (...) {
            try {
                disconnect_container(database, run_root, record.id);
            } catch (...) {
            }
            throw;
        }
        return;
    }
    try {
        connect_to_networks(database, root, run_root, record, request, container_dir, init_pid);
    } catch (const Error&) {
        // What killed monitors left (addresses, host ports) may be in the
        // way: no start pays for a sweep of every container, this one did not
        // succeed without it.
        ContainerStore containers(database);
        if (sweep_network_leftovers(database, containers, run_root) == 0) throw;
        connect_to_networks(database, root, run_root, record, request, container_dir, init_pid);
    }
}

void disconnect_endpoint(NetworkStore& store, const EndpointRecord& endpoint) {
    Undo undo;
    undo.run([&] { network::RouteNetlink().delete_link(endpoint.host_veth); });
    if (!endpoint.nft_table.empty())
        undo.run([&] { network::delete_nft_table(endpoint.nft_table); });
    undo.finish();
    // Only once the kernel objects are gone: the row is how a retry finds them.
    store.remove_endpoint(endpoint.container_id, endpoint.network);
}

void disconnect_container(image::Database& database, const std::string& run_root,
                          const std::string& id, bool delete_links) {
    StepTimer timer("teardown");
    NetworkStore store(database);
    auto endpoints = store.endpoints_of_container(id);
    if (delete_links)
        for (const auto& endpoint : endpoints)
            network::RouteNetlink().delete_link(endpoint.host_veth);
    // The namespace first: once its file is gone and the container's
    // processes are (the runtime killed them), the kernel destroys it and
    // every veth in it, both ends, in the background. Deleting each veth
    // here instead would cost a network-wide RCU sync (10-25 ms) per veth on
    // every container's exit.
    network::remove_network_namespace(netns_path_for(run_root, id));
    Undo undo;
    undo.run([&] { disconnect_rootless_network(run_root, id); });
    for (const auto& endpoint : endpoints)
        undo.run([&] {
            if (!endpoint.nft_table.empty()) network::delete_nft_table(endpoint.nft_table);
            store.remove_endpoint(endpoint.container_id, endpoint.network);
        });
    undo.finish();
}

std::size_t sweep_network_leftovers(image::Database& database, ContainerStore& containers,
                                    const std::string& run_root,
                                    const std::set<std::string>& alive) {
    std::set<std::string> ids;
    NetworkStore store(database);
    for (const auto& endpoint : store.endpoints())
        if (!alive.contains(endpoint.container_id)) ids.insert(endpoint.container_id);
    if (DIR* dir = ::opendir((run_root + "/netns").c_str())) {
        while (dirent* entry = ::readdir(dir))
            if (entry->d_name[0] != '.' && !alive.contains(entry->d_name))
                ids.insert(entry->d_name);
        ::closedir(dir);
    }
    if (ids.empty()) return 0;
    // One query for all the monitors, not one per endpoint (a thousand
    // containers on the bridge).
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> monitors;
    for (const auto& record : containers.list())
        monitors[record.id] = {record.monitor_pid, record.monitor_start_time};
    auto abandoned = [&](const std::string& id) {
        auto monitor = monitors.find(id);
        if (monitor == monitors.end()) return true;
        auto [pid, start_time] = monitor->second;
        return pid == 0 || !process_alive(static_cast<pid_t>(pid), start_time);
    };
    std::size_t swept = 0;
    for (const auto& id : ids) {
        if (!abandoned(id)) continue;
        try {
            disconnect_container(database, run_root, id, true);
            ++swept;
        } catch (const Error& error) {
            std::fprintf(stderr, "berth: cleaning up the network of container %s: %s\n", id.c_str(),
                         error.what());
        }
    }
    return swept;
}

} // namespace berth::engine
