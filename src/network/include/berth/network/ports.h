// Published ports as `-p` spells them: "[hostip:][hostport:]containerport[/tcp|udp]",
// each port possibly a range "first-last".
#pragma once

#include "berth/network/address.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::network {

struct PortMapping {
    std::string protocol = "tcp"; // tcp or udp
    Ipv4 host_ip;                 // 0.0.0.0: every host address
    std::uint16_t host_port = 0;  // 0: a free one is chosen when the container starts
    std::uint16_t container_port = 0;
    auto operator<=>(const PortMapping&) const = default;
};

// One -p value, ranges included ("8000-8002:80-82" is three mappings,
// "80-82" three to free host ports); Error with the text on anything
// malformed.
std::vector<PortMapping> parse_port_mappings(std::string_view text);
// One -p value that must be a single port.
PortMapping parse_port_mapping(std::string_view text);
// "8080/tcp" / "53/udp" / "80" (an image's ExposedPorts key) -> a mapping to a free host port.
PortMapping parse_exposed_port(std::string_view text);
// Docker's "0.0.0.0:8080->80/tcp".
std::string to_string(const PortMapping& mapping);

// A free host port for `protocol`, as the kernel picks ephemeral ports.
std::uint16_t free_host_port(const std::string& protocol);

} // namespace berth::network
