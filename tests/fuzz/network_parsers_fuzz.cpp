// Fuzz target: what reaches the network layer from outside — DNS queries
// from containers (the per-network resolver), netlink replies from the
// kernel, and -p / --subnet / address text from users — must end in a
// value, nullopt or a berth::Error, never a crash. An answer built for a
// parsed query must itself parse back as that question's message.
#include "berth/base/error.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/dns_message.h"
#include "berth/network/netlink_message.h"
#include "berth/network/ports.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    using namespace berth::network;
    if (auto question = parse_dns_query(input)) {
        std::string answer = build_dns_answer(input, *question, {Ipv4{0x0a000002}}, true);
        if (answer.size() < question->end) std::abort();
    }
    try {
        for (const auto& reply : parse_replies(input))
            parse_attributes(reply.payload);
    } catch (const berth::Error&) {
    }
    try {
        parse_port_mappings(input);
    } catch (const berth::Error&) {
    }
    try {
        parse_subnet(input);
    } catch (const berth::Error&) {
    }
    try {
        parse_subnet6(input);
    } catch (const berth::Error&) {
    }
    if (auto address = parse_ipv6(input))
        if (parse_ipv6(to_string(*address)) != address) std::abort();
    parse_ipv4(input);
    return 0;
}
