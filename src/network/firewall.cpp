#include "berth/network/firewall.h"

#include "berth/base/error.h"
#include "berth/base/files.h"

#include <memory>
#include <nftables/libnftables.h>

namespace berth::network {

namespace {

std::string quoted(const std::string& name) {
    return "\"" + name + "\"";
}

// "add table" then "delete table" in one batch: gone whether it existed or
// not (nft 1.0.6 has no "destroy").
// Both families: a network or container with IPv6 has an ip6 table of the
// same name.
std::string drop_table(const std::string& table) {
    return "add table ip " + table + "\ndelete table ip " + table + "\nadd table ip6 " + table +
           "\ndelete table ip6 " + table + "\n";
}

// The forward and postrouting chains of a network's table, for one family
// ("ip" or "ip6") and its subnet.
std::string network_chains(const NetworkRules& rules, const std::string& family,
                           const std::string& subnet) {
    std::string bridge = quoted(rules.bridge);
    std::string text = "table " + family + " " + rules.table + " {\n";
    text += " chain forward {\n  type filter hook forward priority filter; policy accept;\n";
    // Between containers of this network, and replies to what they opened.
    text += "  iifname " + bridge + " oifname " + bridge + " accept\n";
    text += "  oifname " + bridge + " ct state established,related accept\n";
    if (rules.internal) {
        text += "  oifname " + bridge + " drop\n";
        text += "  iifname " + bridge + " drop\n";
    } else {
        // Published ports (DNAT'd) may come in; nothing else from outside,
        // in particular nothing from another network's bridge.
        text += "  oifname " + bridge + " ct status dnat accept\n";
        text += "  oifname " + bridge + " drop\n";
    }
    text += " }\n";
    text += " chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n";
    if (!rules.internal)
        text += "  " + family + " saddr " + subnet + " oifname != " + bridge + " masquerade\n";
    // The host's loopback to a published port (route_localnet; IPv4 only)
    // and a container to its network's published port through a host
    // address (hairpin): replies must come back through the host.
    if (family == "ip") text += "  oifname " + bridge + " ip saddr 127.0.0.0/8 masquerade\n";
    text +=
        "  oifname " + bridge + " ct status dnat " + family + " saddr " + subnet + " masquerade\n";
    text += " }\n}\n";
    return text;
}

} // namespace

std::string network_ruleset(const NetworkRules& rules) {
    std::string text =
        drop_table(rules.table) + network_chains(rules, "ip", to_string(rules.subnet));
    if (rules.subnet6) text += network_chains(rules, "ip6", to_string(*rules.subnet6));
    return text;
}

std::string publish_ruleset(const PublishRules& rules) {
    std::string text = drop_table(rules.table);
    if (rules.ports.empty()) return text;
    std::string to = to_string(rules.container_ip);
    std::string matches;
    for (const auto& port : rules.ports) {
        std::string destination = port.host_ip.value == 0
                                      ? "fib daddr type local "
                                      : "ip daddr " + to_string(port.host_ip) + " ";
        matches += "  " + destination + port.protocol + " dport " + std::to_string(port.host_port) +
                   " dnat to " + to + ":" + std::to_string(port.container_port) + "\n";
    }
    text += "table ip " + rules.table + " {\n";
    text += " chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n" +
            matches + " }\n";
    text += " chain output {\n  type nat hook output priority -100; policy accept;\n" + matches +
            " }\n}\n";
    if (!rules.container_ip6) return text;
    // The same ports on the host's IPv6 addresses (those published on every
    // address); ::1 has no route_localnet, so it is left out, as Docker
    // without its userland proxy does.
    std::string to6 = "[" + to_string(*rules.container_ip6) + "]";
    std::string matches6;
    for (const auto& port : rules.ports)
        if (port.host_ip.value == 0)
            matches6 += "  fib daddr type local ip6 daddr != ::1 " + port.protocol + " dport " +
                        std::to_string(port.host_port) + " dnat to " + to6 + ":" +
                        std::to_string(port.container_port) + "\n";
    if (matches6.empty()) return text;
    text += "table ip6 " + rules.table + " {\n";
    text += " chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n" +
            matches6 + " }\n";
    text += " chain output {\n  type nat hook output priority -100; policy accept;\n" + matches6 +
            " }\n}\n";
    return text;
}

void run_nft(const std::string& commands) {
    std::unique_ptr<nft_ctx, decltype(&nft_ctx_free)> context(nft_ctx_new(NFT_CTX_DEFAULT),
                                                              &nft_ctx_free);
    if (!context) fail("nftables: cannot create a context");
    nft_ctx_buffer_output(context.get());
    nft_ctx_buffer_error(context.get());
    if (nft_run_cmd_from_buffer(context.get(), commands.c_str()) != 0) {
        std::string message = nft_ctx_get_error_buffer(context.get());
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        fail("nftables: " + message);
    }
}

void delete_nft_table(const std::string& name) {
    run_nft(drop_table(name));
}

void enable_forwarding(const std::string& bridge, bool ipv6) {
    auto set = [](const std::string& knob) {
        if (read_file(knob) != "1\n") write_existing_file(knob, "1");
    };
    set("/proc/sys/net/ipv4/ip_forward");
    if (ipv6) set("/proc/sys/net/ipv6/conf/all/forwarding");
    set("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet");
}

} // namespace berth::network
