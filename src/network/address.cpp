#include "berth/network/address.h"

#include "berth/base/error.h"

#include <arpa/inet.h>
#include <charconv>

namespace berth::network {

std::uint32_t Ipv4::network_order() const {
    return htonl(value);
}

std::array<std::uint8_t, 6> mac_for(Ipv4 address) {
    std::uint32_t v = address.value;
    return {0x02,
            0x42,
            static_cast<std::uint8_t>(v >> 24),
            static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
}

std::optional<Ipv4> parse_ipv4(std::string_view text) {
    std::uint32_t value = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (text.empty() || text.front() != '.') return std::nullopt;
            text.remove_prefix(1);
        }
        std::size_t digits = 0;
        while (digits < text.size() && digits < 4 && text[digits] >= '0' && text[digits] <= '9')
            ++digits;
        if (digits == 0 || digits > 3 || (digits > 1 && text.front() == '0')) return std::nullopt;
        unsigned number = 0;
        std::from_chars(text.data(), text.data() + digits, number);
        if (number > 255) return std::nullopt;
        value = (value << 8) | number;
        text.remove_prefix(digits);
    }
    if (!text.empty()) return std::nullopt;
    return Ipv4{value};
}

std::string to_string(Ipv4 address) {
    std::uint32_t v = address.value;
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." +
           std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

std::uint32_t Subnet::mask() const {
    return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}

bool Subnet::contains(Ipv4 address) const {
    return (address.value & mask()) == network.value;
}

bool Subnet::overlaps(const Subnet& other) const {
    return contains(other.network) || other.contains(network);
}

Ipv4 Subnet::broadcast() const {
    return Ipv4{network.value | ~mask()};
}

Ipv4 Subnet::first_host() const {
    return Ipv4{network.value + 1};
}

Subnet parse_subnet(std::string_view text) {
    auto slash = text.find('/');
    auto address = parse_ipv4(text.substr(0, slash));
    int prefix = -1;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (error != std::errc() || end != digits.data() + digits.size() || digits.empty())
            prefix = -1;
    }
    if (!address || prefix < 0 || prefix > 32)
        fail("invalid subnet \"" + std::string(text) + "\": give an IPv4 CIDR as 10.1.0.0/16");
    Subnet subnet{*address, prefix};
    if ((address->value & subnet.mask()) != address->value)
        fail("invalid subnet \"" + std::string(text) + "\": host bits are set (did you mean " +
             to_string(Subnet{Ipv4{address->value & subnet.mask()}, prefix}) + "?)");
    return subnet;
}

std::string to_string(const Subnet& subnet) {
    return to_string(subnet.network) + "/" + std::to_string(subnet.prefix);
}

} // namespace berth::network
