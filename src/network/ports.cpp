#include "berth/network/ports.h"

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#include <charconv>
#include <netinet/in.h>
#include <sys/socket.h>

namespace berth::network {

namespace {

std::uint16_t parse_port(std::string_view digits, std::string_view whole, bool zero_allowed) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        value > 65535 || (value == 0 && !zero_allowed))
        fail("invalid port \"" + std::string(digits) + "\" in -p " + std::string(whole));
    return static_cast<std::uint16_t>(value);
}

struct PortRange {
    std::uint16_t first = 0, last = 0;
    std::size_t size() const { return std::size_t{last} - first + 1; }
};

// "80" or "8000-8002".
PortRange parse_range(std::string_view text, std::string_view whole, bool zero_allowed) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        std::uint16_t port = parse_port(text, whole, zero_allowed);
        return {port, port};
    }
    PortRange range{parse_port(text.substr(0, dash), whole, false),
                    parse_port(text.substr(dash + 1), whole, false)};
    if (range.last < range.first)
        fail("invalid port range \"" + std::string(text) + "\" in -p " + std::string(whole));
    return range;
}

} // namespace

std::vector<PortMapping> parse_port_mappings(std::string_view text) {
    PortMapping base;
    std::string_view rest = text;
    if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
        base.protocol = std::string(rest.substr(slash + 1));
        rest = rest.substr(0, slash);
        if (base.protocol != "tcp" && base.protocol != "udp")
            fail("-p " + std::string(text) + ": the protocol must be tcp or udp");
    }
    if (rest.find('[') != std::string_view::npos)
        fail("-p " + std::string(text) + ": IPv6 host addresses are not supported yet");
    // From the right: containerport, then hostport, then the host address.
    auto last = rest.rfind(':');
    PortRange container =
        parse_range(rest.substr(last == std::string_view::npos ? 0 : last + 1), text, false);
    PortRange host{0, 0};
    bool host_given = false;
    if (last != std::string_view::npos) {
        std::string_view front = rest.substr(0, last);
        auto middle = front.rfind(':');
        std::string_view host_port =
            middle == std::string_view::npos ? front : front.substr(middle + 1);
        if (!host_port.empty()) {
            host = parse_range(host_port, text, true);
            host_given = true;
        }
        if (middle != std::string_view::npos) {
            auto address = parse_ipv4(front.substr(0, middle));
            if (!address)
                fail("-p " + std::string(text) + ": invalid host address \"" +
                     std::string(front.substr(0, middle)) + "\"");
            base.host_ip = *address;
        } else if (host_port.empty()) {
            fail("-p " + std::string(text) + ": give hostport:containerport");
        }
    }
    // Docker's rule: a host range as long as the container's, or none.
    if (host_given && host.size() != container.size()) {
        if (container.size() == 1)
            fail("-p " + std::string(text) +
                 ": a host port range for one container port is not supported yet");
        fail("-p " + std::string(text) + ": invalid ranges specified for container and host ports");
    }
    std::vector<PortMapping> mappings;
    for (std::size_t i = 0; i < container.size(); ++i) {
        PortMapping mapping = base;
        mapping.container_port = static_cast<std::uint16_t>(container.first + i);
        if (host_given && host.first != 0)
            mapping.host_port = static_cast<std::uint16_t>(host.first + i);
        mappings.push_back(mapping);
    }
    return mappings;
}

PortMapping parse_port_mapping(std::string_view text) {
    auto mappings = parse_port_mappings(text);
    if (mappings.size() != 1) fail("-p " + std::string(text) + ": one port expected, not a range");
    return mappings.front();
}

PortMapping parse_exposed_port(std::string_view text) {
    PortMapping mapping = parse_port_mapping(text);
    mapping.host_port = 0;
    return mapping;
}

std::string to_string(const PortMapping& mapping) {
    return to_string(mapping.host_ip) + ":" + std::to_string(mapping.host_port) + "->" +
           std::to_string(mapping.container_port) + "/" + mapping.protocol;
}

std::uint16_t free_host_port(const std::string& protocol) {
    int type = protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    UniqueFd probe(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!probe) throw_errno("choosing a free host port");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    if (::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
        throw_errno("choosing a free host port");
    socklen_t size = sizeof address;
    if (::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &size) < 0)
        throw_errno("choosing a free host port");
    return ntohs(address.sin_port);
}

} // namespace berth::network
