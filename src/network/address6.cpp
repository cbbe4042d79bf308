#include "berth/network/address6.h"

#include "berth/base/error.h"

#include <arpa/inet.h>
#include <charconv>

namespace berth::network {

std::uint64_t Ipv6::low64() const {
    std::uint64_t low = 0;
    for (int i = 8; i < 16; ++i)
        low = low << 8 | bytes[static_cast<std::size_t>(i)];
    return low;
}

Ipv6 Ipv6::with_low64(std::uint64_t low) const {
    Ipv6 out = *this;
    for (int i = 15; i >= 8; --i, low >>= 8)
        out.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(low & 0xff);
    return out;
}

std::optional<Ipv6> parse_ipv6(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    std::string copy(text);
    Ipv6 address;
    if (::inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
    return address;
}

std::string to_string(const Ipv6& address) {
    char text[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, address.bytes.data(), text, sizeof text);
    return text;
}

namespace {

bool bit_set(const Ipv6& address, int bit) {
    return address.bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8) & 1;
}

} // namespace

bool Subnet6::contains(const Ipv6& address) const {
    for (int bit = 0; bit < prefix; ++bit)
        if (bit_set(address, bit) != bit_set(network, bit)) return false;
    return true;
}

Ipv6 Subnet6::first_host() const {
    return network.with_low64(network.low64() + 1);
}

Subnet6 parse_subnet6(std::string_view text) {
    auto slash = text.find('/');
    auto bad = [&](const std::string& why) {
        fail("invalid IPv6 subnet \"" + std::string(text) + "\": " + why);
    };
    if (slash == std::string_view::npos) bad("give address/prefix, as fd00:1::/64");
    auto address = parse_ipv6(text.substr(0, slash));
    if (!address) bad("not an IPv6 address");
    std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
        bad("the prefix is not a number");
    if (prefix < 48 || prefix > 120) bad("the prefix must be between 48 and 120");
    Subnet6 subnet{*address, prefix};
    for (int bit = prefix; bit < 128; ++bit)
        if (bit_set(*address, bit)) bad("host bits are set");
    return subnet;
}

std::string to_string(const Subnet6& subnet) {
    return to_string(subnet.network) + "/" + std::to_string(subnet.prefix);
}

std::optional<Ipv6> next_free_address6(const Subnet6& subnet, const Ipv6& gateway,
                                       const std::set<Ipv6>& taken) {
    std::uint64_t base = subnet.network.low64();
    // Host addresses below 2^(128-prefix), walked in the low 64 bits; at
    // most taken.size() + 2 candidates are ever looked at.
    int host_bits = 128 - subnet.prefix;
    std::uint64_t count = host_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << host_bits) - 1;
    for (std::uint64_t offset = 1; offset < count; ++offset) {
        Ipv6 candidate = subnet.network.with_low64(base + offset);
        if (candidate == gateway || taken.contains(candidate)) continue;
        return candidate;
    }
    return std::nullopt;
}

Subnet6 unique_local_subnet(std::string_view seed) {
    std::uint64_t hash = 1469598103934665603ull; // FNV-1a 64: stable across builds
    for (unsigned char c : seed)
        hash = (hash ^ c) * 1099511628211ull;
    Subnet6 subnet;
    subnet.prefix = 64;
    subnet.network.bytes[0] = 0xfd;
    for (int i = 1; i < 8; ++i, hash >>= 8)
        subnet.network.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(hash);
    return subnet;
}

} // namespace berth::network
