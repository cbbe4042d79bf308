#include "berth/network/ipam.h"

#include "berth/base/error.h"

namespace berth::network {

std::optional<Ipv4> next_free_address(const Subnet& subnet, Ipv4 gateway,
                                      const std::set<Ipv4>& taken) {
    if (subnet.prefix > 30) return std::nullopt; // no room for a gateway and a host
    std::uint32_t first = subnet.network.value + 1;
    std::uint32_t last = subnet.broadcast().value - 1;
    for (std::uint32_t candidate = first; candidate <= last; ++candidate) {
        Ipv4 address{candidate};
        if (address == gateway || taken.contains(address)) continue;
        return address;
    }
    return std::nullopt;
}

Subnet pick_free_subnet(const std::set<Subnet>& in_use) {
    auto free = [&](const Subnet& candidate) {
        for (const auto& used : in_use)
            if (used.overlaps(candidate)) return false;
        return true;
    };
    for (std::uint32_t second = 30; second <= 31; ++second) {
        Subnet candidate{Ipv4{(172u << 24) | (second << 16)}, 16};
        if (free(candidate)) return candidate;
    }
    for (std::uint32_t second = 89; second <= 255; ++second) {
        Subnet candidate{Ipv4{(10u << 24) | (second << 16)}, 16};
        if (free(candidate)) return candidate;
    }
    fail("no free private subnet left for a new network: give one with --subnet");
}

} // namespace berth::network
