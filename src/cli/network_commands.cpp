// berth network create/ls/inspect/rm/connect/disconnect/prune, and berth port.
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/engine/network_resolver.h"
#include "berth/engine/networks.h"

#include <iostream>
#include <map>
#include <memory>

namespace berth::cli {

namespace {

using nlohmann::json;

engine::Networks open_networks(const GlobalOptions& global, bool sweep_leftovers = true) {
    engine::EngineOptions options;
    options.root = global.root;
    return engine::Networks(options, sweep_leftovers);
}

json network_json(engine::Networks& networks, const engine::NetworkRecord& network) {
    json containers = json::object();
    for (const auto& endpoint : networks.endpoints(network.name))
        containers[endpoint.container_id] = {
            {"Name", networks.container_name(endpoint.container_id)},
            {"IPv4Address",
             endpoint.address + "/" + network.subnet.substr(network.subnet.find('/') + 1)},
            {"Interface", endpoint.interface},
            {"HostInterface", endpoint.host_veth},
            {"IPv6Address",
             endpoint.address6.empty()
                 ? ""
                 : endpoint.address6 + "/" + network.subnet6.substr(network.subnet6.find('/') + 1)},
            {"Aliases", json::parse(endpoint.aliases_json, nullptr, false)}};
    json ipam_config = json::array({{{"Subnet", network.subnet}, {"Gateway", network.gateway}}});
    if (!network.subnet6.empty())
        ipam_config.push_back({{"Subnet", network.subnet6}, {"Gateway", network.gateway6}});
    return {{"Name", network.name},
            {"Id", network.id},
            {"Created", network.created},
            {"Driver", network.driver},
            {"Internal", network.internal},
            {"EnableIPv6", !network.subnet6.empty()},
            {"IPAM", {{"Config", ipam_config}}},
            {"Options", network.driver == "bridge"
                            ? json{{"com.docker.network.bridge.name", network.bridge}}
                            : json{{"parent", network.parent}}},
            {"Containers", containers}};
}

std::vector<std::string> port_lines(const engine::EndpointRecord& endpoint,
                                    const std::string& only) {
    std::vector<std::string> lines;
    json ports = json::parse(endpoint.ports_json, nullptr, false);
    if (!ports.is_array()) return lines;
    for (const auto& port : ports) {
        std::string inside = std::to_string(port.value("container_port", 0)) + "/" +
                             port.value("protocol", std::string("tcp"));
        if (!only.empty() && only != inside && only + "/tcp" != inside) continue;
        lines.push_back(inside + " -> " + port.value("host_ip", std::string("0.0.0.0")) + ":" +
                        std::to_string(port.value("host_port", 0)));
    }
    return lines;
}

} // namespace

json network_settings_json(const GlobalOptions& global, const std::string& id) {
    auto networks = open_networks(global);
    json settings = {{"IPAddress", ""},
                     {"Gateway", ""},
                     {"IPPrefixLen", 0},
                     {"Ports", json::object()},
                     {"Networks", json::object()}};
    for (const auto& endpoint : networks.container_endpoints(id)) {
        auto network = networks.get(endpoint.network);
        int prefix = std::stoi(network.subnet.substr(network.subnet.find('/') + 1));
        settings["Networks"][network.name] = {
            {"NetworkID", network.id},
            {"IPAddress", endpoint.address},
            {"IPPrefixLen", prefix},
            {"Gateway", network.gateway},
            {"GlobalIPv6Address", endpoint.address6},
            {"IPv6Gateway", network.gateway6},
            {"Aliases", json::parse(endpoint.aliases_json, nullptr, false)}};
        if (settings["IPAddress"] == "") {
            settings["IPAddress"] = endpoint.address;
            settings["Gateway"] = network.gateway;
            settings["IPPrefixLen"] = prefix;
        }
        json ports = json::parse(endpoint.ports_json, nullptr, false);
        if (!ports.is_array()) continue;
        for (const auto& port : ports) {
            std::string key = std::to_string(port.value("container_port", 0)) + "/" +
                              port.value("protocol", std::string("tcp"));
            settings["Ports"][key].push_back(
                {{"HostIp", port.value("host_ip", std::string("0.0.0.0"))},
                 {"HostPort", std::to_string(port.value("host_port", 0))}});
        }
    }
    return settings;
}

std::vector<std::string> published_ports_text(const GlobalOptions& global,
                                              const std::vector<engine::ContainerRecord>& records) {
    std::vector<std::string> texts(records.size());
    if (records.empty()) return texts;
    // ps's Engine has just swept what killed monitors left.
    auto networks = open_networks(global, false);
    std::multimap<std::string, engine::EndpointRecord> by_container;
    for (auto& endpoint : networks.all_endpoints())
        if (!endpoint.ports_json.empty() && endpoint.ports_json != "[]")
            by_container.emplace(endpoint.container_id, std::move(endpoint));
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (records[i].state != engine::ContainerState::running) continue;
        auto [first, last] = by_container.equal_range(records[i].id);
        for (auto it = first; it != last; ++it) {
            const engine::EndpointRecord& endpoint = it->second;
            json ports = json::parse(endpoint.ports_json, nullptr, false);
            if (!ports.is_array()) continue;
            for (const auto& port : ports) {
                if (!texts[i].empty()) texts[i] += ", ";
                texts[i] += port.value("host_ip", std::string("0.0.0.0")) + ":" +
                            std::to_string(port.value("host_port", 0)) + "->" +
                            std::to_string(port.value("container_port", 0)) + "/" +
                            port.value("protocol", std::string("tcp"));
            }
        }
    }
    return texts;
}

void add_network_commands(CLI::App& app, GlobalOptions& global) {
    CLI::App* group = app.add_subcommand("network", "Manage networks");
    group->require_subcommand(1);

    {
        auto* command = group->add_subcommand("create", "Create a network");
        auto request = std::make_shared<engine::NetworkCreateRequest>();
        auto subnets = std::make_shared<std::vector<std::string>>();
        auto gateways = std::make_shared<std::vector<std::string>>();
        command->add_option("--subnet", *subnets,
                            "Subnet in CIDR form, IPv4 (default: a free /16) and with --ipv6 an "
                            "IPv6 one (default: a unique local /64)");
        command->add_option("--gateway", *gateways, "Gateway address (default: the first)");
        command->add_flag("--internal", request->internal, "No access from or to the outside");
        command->add_flag("--ipv6", request->ipv6, "IPv6 addresses too");
        command->add_option("-d,--driver", request->driver, "bridge, macvlan or ipvlan");
        command->add_option("-o,--opt", request->options, "Driver option: parent=LINK");
        command->add_option("NAME", request->name, "The network's name")->required();
        command->callback([&global, request, subnets, gateways] {
            // One of each family, told apart as Docker does: by the colons.
            auto sort_out = [](const std::vector<std::string>& values, std::string& v4,
                               std::string& v6, const char* what) {
                for (const auto& value : values) {
                    std::string& slot = value.find(':') != std::string::npos ? v6 : v4;
                    if (!slot.empty())
                        fail(std::string("give at most one IPv4 and one IPv6 ") + what);
                    slot = value;
                }
            };
            sort_out(*subnets, request->subnet, request->subnet6, "--subnet");
            sort_out(*gateways, request->gateway, request->gateway6, "--gateway");
            auto networks = open_networks(global);
            std::cout << networks.create(*request).id << "\n";
        });
    }
    {
        auto* command = group->add_subcommand("ls", "List networks")->alias("list");
        auto quiet = std::make_shared<bool>(false);
        command->add_flag("-q,--quiet", *quiet, "Only names");
        command->callback([&global, quiet] {
            auto networks = open_networks(global);
            std::vector<std::vector<std::string>> rows = {
                {"NETWORK ID", "NAME", "DRIVER", "SUBNET", "INTERNAL"}};
            for (const auto& network : networks.list()) {
                if (*quiet) {
                    std::cout << network.name << "\n";
                    continue;
                }
                rows.push_back({network.id.substr(0, 12), network.name, network.driver,
                                network.subnet, network.internal ? "true" : "false"});
            }
            if (!*quiet) std::cout << table(rows);
        });
    }
    {
        auto* command = group->add_subcommand("inspect", "Show networks in detail");
        auto names = std::make_shared<std::vector<std::string>>();
        auto format = std::make_shared<std::string>();
        command->add_option("-f,--format", *format, "Go-template-like format for each network");
        command->add_option("NETWORK", *names, "Networks")->required();
        command->callback([&global, names, format] {
            auto networks = open_networks(global);
            json all = json::array();
            for (const auto& name : *names)
                all.push_back(network_json(networks, networks.get(name)));
            print_inspected(all, *format);
        });
    }
    {
        auto* command = group->add_subcommand("rm", "Remove networks")->alias("remove");
        auto names = std::make_shared<std::vector<std::string>>();
        command->add_option("NETWORK", *names, "Networks")->required();
        command->callback([&global, names] {
            auto networks = open_networks(global);
            int failures = 0;
            for (const auto& name : *names) {
                try {
                    networks.remove(name);
                    std::cout << name << "\n";
                } catch (const Error& error) {
                    std::cerr << "berth: " << error.what() << "\n";
                    ++failures;
                }
            }
            if (failures) exit_with(1);
        });
    }
    {
        auto* command = group->add_subcommand("prune", "Remove every unused network");
        auto force = std::make_shared<bool>(false);
        command->add_flag("-f,--force", *force, "Do not ask (berth never asks)");
        command->callback([&global] {
            auto networks = open_networks(global);
            auto removed = networks.prune();
            if (!removed.empty()) std::cout << "Deleted Networks:\n";
            for (const auto& name : removed)
                std::cout << name << "\n";
        });
    }
    {
        auto* command = group->add_subcommand("connect", "Connect a running container");
        auto network = std::make_shared<std::string>();
        auto container = std::make_shared<std::string>();
        auto aliases = std::make_shared<std::vector<std::string>>();
        command->add_option("--alias", *aliases, "Another name on this network")
            ->allow_extra_args(false);
        command->add_option("NETWORK", *network, "Network")->required();
        command->add_option("CONTAINER", *container, "Container")->required();
        command->callback([&global, network, container, aliases] {
            open_networks(global).connect(*network, *container, *aliases);
        });
    }
    {
        auto* command = group->add_subcommand("disconnect", "Disconnect a container");
        auto network = std::make_shared<std::string>();
        auto container = std::make_shared<std::string>();
        auto force = std::make_shared<bool>(false);
        command->add_flag("-f,--force", *force, "Accepted for Docker's sake");
        command->add_option("NETWORK", *network, "Network")->required();
        command->add_option("CONTAINER", *container, "Container")->required();
        command->callback([&global, network, container] {
            open_networks(global).disconnect(*network, *container);
        });
    }

    {
        // The per-network resolver, started by berth itself (network_resolver.h).
        auto* command = app.add_subcommand("network-resolver", "");
        command->group("");
        auto run_root = std::make_shared<std::string>();
        auto network = std::make_shared<std::string>();
        auto ready_fd = std::make_shared<int>(-1);
        command->add_option("--run-root", *run_root)->required();
        command->add_option("--network", *network)->required();
        command->add_option("--ready-fd", *ready_fd);
        command->callback([&global, run_root, network, ready_fd] {
            std::string root = global.root.empty() ? image::default_root() : global.root;
            engine::run_network_resolver(root, *run_root, *network, *ready_fd);
        });
    }

    auto define_port = [&global](CLI::App* command) {
        auto container = std::make_shared<std::string>();
        auto only = std::make_shared<std::string>();
        command->add_option("CONTAINER", *container, "Container")->required();
        command->add_option("PRIVATE_PORT", *only, "Only this port[/proto]");
        command->callback([&global, container, only] {
            auto networks = open_networks(global);
            std::vector<std::string> lines;
            for (const auto& endpoint : networks.container_endpoints(*container))
                for (const auto& line : port_lines(endpoint, *only))
                    lines.push_back(line);
            if (lines.empty() && !only->empty())
                fail("no public port '" + *only + "' published for " + *container);
            for (const auto& line : lines)
                std::cout << (only->empty() ? line : line.substr(line.find("-> ") + 3)) << "\n";
        });
    };
    define_port(app.add_subcommand("port", "List a container's published ports"));
    define_port(container_group(app).add_subcommand("port", "List a container's published ports"));
}

} // namespace berth::cli
