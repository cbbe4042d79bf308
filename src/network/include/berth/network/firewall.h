// berth's nftables rules, through libnftables, in tables of its own that
// never touch anyone else's: one table per network ("berth-<bridge>":
// masquerade out, isolation from other networks, --internal) and one per
// container with published ports ("berth-c-<id>": DNAT from the host's
// addresses and its own loopback). Removing a table removes all its rules at
// once, so teardown (also after a crash) is one command per table.
#pragma once

#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/ports.h"

#include <optional>
#include <string>
#include <vector>

namespace berth::network {

struct NetworkRules {
    std::string table;  // "berth-<bridge>"
    std::string bridge; // the network's bridge
    Subnet subnet;
    std::optional<Subnet6> subnet6; // a network with --ipv6: an ip6 table of the same name
    bool internal = false;          // no way in or out but between its own containers
};

struct PublishRules {
    std::string table; // "berth-c-<short id>"
    std::string bridge;
    Ipv4 container_ip;
    std::optional<Ipv6> container_ip6; // ports on every host address get IPv6 DNAT too
    std::vector<PortMapping> ports;    // host ports chosen already
};

// The nft commands (as `nft -f` reads them) that (re)create the table; pure,
// for unit tests. Each starts by emptying any older table of that name.
std::string network_ruleset(const NetworkRules& rules);
std::string publish_ruleset(const PublishRules& rules);

// Runs nft commands in one transaction; Error with nft's message.
void run_nft(const std::string& commands);
// Deletes tables `ip <name>` and `ip6 <name>` if they exist.
void delete_nft_table(const std::string& name);

// The kernel knobs a bridge network needs: IPv4 forwarding, and
// route_localnet on the bridge so that the host's 127.0.0.1 reaches
// published ports (DNAT in output, as Docker without its userland proxy);
// with `ipv6`, IPv6 forwarding too (as Docker, for every interface).
void enable_forwarding(const std::string& bridge, bool ipv6 = false);

} // namespace berth::network
