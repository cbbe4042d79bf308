// IPv4 addresses and subnets as numbers, with the text forms users write
// ("10.1.2.3", "10.1.0.0/16"). Pure; parsing is strict and fuzzed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::network {

struct Ipv4 {
    std::uint32_t value = 0; // host byte order: 10.0.0.1 is 0x0a000001
    auto operator<=>(const Ipv4&) const = default;
    // Network byte order, as netlink and sockets want it.
    std::uint32_t network_order() const;
};

// Docker's MAC for a container address: 02:42 then the address's four
// bytes, so that an address handed out again keeps its MAC and the host's
// neighbour cache never points at a veth that is gone.
std::array<std::uint8_t, 6> mac_for(Ipv4 address);

// "a.b.c.d" with each part 0..255 and no leading zeros; nullopt otherwise.
std::optional<Ipv4> parse_ipv4(std::string_view text);
std::string to_string(Ipv4 address);

struct Subnet {
    Ipv4 network; // the first address (host bits zero)
    int prefix = 0;
    auto operator<=>(const Subnet&) const = default;

    std::uint32_t mask() const;
    bool contains(Ipv4 address) const;
    bool overlaps(const Subnet& other) const;
    Ipv4 broadcast() const;
    // network + 1, where Docker and podman put the gateway.
    Ipv4 first_host() const;
};

// "a.b.c.d/n", n in 0..32; Error naming the text when malformed or when host
// bits are set ("10.1.2.3/16": give 10.1.0.0/16).
Subnet parse_subnet(std::string_view text);
std::string to_string(const Subnet& subnet);

} // namespace berth::network
