// IPv6 addresses and subnets for bridge networks with --ipv6: the text
// forms users write ("fd00:1::5", "fd00:1::/64"), parsed strictly (and
// fuzzed), and the address arithmetic the IPAM needs. Host parts are walked
// in their low 64 bits, which is all a network of containers ever uses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace berth::network {

struct Ipv6 {
    std::array<std::uint8_t, 16> bytes{}; // network byte order, as netlink and sockets want
    auto operator<=>(const Ipv6&) const = default;
    std::uint64_t low64() const;
    Ipv6 with_low64(std::uint64_t low) const;
};

// The forms inet_pton accepts ("::", "fd00::1", no zone, no prefix); nullopt otherwise.
std::optional<Ipv6> parse_ipv6(std::string_view text);
// The canonical form (RFC 5952: lower case, longest zero run as "::").
std::string to_string(const Ipv6& address);

struct Subnet6 {
    Ipv6 network; // host bits zero
    int prefix = 0;
    auto operator<=>(const Subnet6&) const = default;
    bool contains(const Ipv6& address) const;
    // network + 1, the gateway's place.
    Ipv6 first_host() const;
};

// "addr/n" with n in 48..120 (room for containers, no more than a site);
// Error naming the text when malformed or when host bits are set.
Subnet6 parse_subnet6(std::string_view text);
std::string to_string(const Subnet6& subnet);

// The lowest address of `subnet` after its network address that is neither
// the gateway nor in `taken`; nullopt when none is left.
std::optional<Ipv6> next_free_address6(const Subnet6& subnet, const Ipv6& gateway,
                                       const std::set<Ipv6>& taken);

// A unique local /64 (fdXX:XXXX:XXXX:XXXX::/64) derived from `seed` (a
// network's id), for --ipv6 without an IPv6 --subnet.
Subnet6 unique_local_subnet(std::string_view seed);

} // namespace berth::network
