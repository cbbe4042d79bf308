#include "berth/network/ports.h"

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#include <charconv>
#include <netinet/in.h>
#include <sys/socket.h>

namespace berth::network {

namespace {

std::uint16_t parse_port(std::string_view digits, std::string_view whole, bool zero_allowed) {
    if (digits.find('-') != std::string_view::npos)
        fail("-p " + std::string(whole) + ": port ranges are not supported yet");
    unsigned value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        value > 65535 || (value == 0 && !zero_allowed))
        fail("invalid port \"" + std::string(digits) + "\" in -p " + std::string(whole));
    return static_cast<std::uint16_t>(value);
}

} // namespace

PortMapping parse_port_mapping(std::string_view text) {
    PortMapping mapping;
    std::string_view rest = text;
    if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
        mapping.protocol = std::string(rest.substr(slash + 1));
        rest = rest.substr(0, slash);
        if (mapping.protocol != "tcp" && mapping.protocol != "udp")
            fail("-p " + std::string(text) + ": the protocol must be tcp or udp");
    }
    if (rest.find('[') != std::string_view::npos)
        fail("-p " + std::string(text) + ": IPv6 host addresses are not supported yet");
    // From the right: containerport, then hostport, then the host address.
    auto last = rest.rfind(':');
    mapping.container_port =
        parse_port(rest.substr(last == std::string_view::npos ? 0 : last + 1), text, false);
    if (last != std::string_view::npos) {
        std::string_view front = rest.substr(0, last);
        auto middle = front.rfind(':');
        std::string_view host_port =
            middle == std::string_view::npos ? front : front.substr(middle + 1);
        if (!host_port.empty()) mapping.host_port = parse_port(host_port, text, true);
        if (middle != std::string_view::npos) {
            auto address = parse_ipv4(front.substr(0, middle));
            if (!address)
                fail("-p " + std::string(text) + ": invalid host address \"" +
                     std::string(front.substr(0, middle)) + "\"");
            mapping.host_ip = *address;
        } else if (host_port.empty()) {
            fail("-p " + std::string(text) + ": give hostport:containerport");
        }
    }
    return mapping;
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
