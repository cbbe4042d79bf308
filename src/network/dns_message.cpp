#include "berth/network/dns_message.h"

#include <cctype>

namespace berth::network {

namespace {

std::uint16_t read_u16(std::string_view data, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(data[at]) << 8) |
                                      static_cast<unsigned char>(data[at + 1]));
}

void put_u16(std::string& out, std::uint16_t value) {
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xff));
}

void put_u32(std::string& out, std::uint32_t value) {
    put_u16(out, static_cast<std::uint16_t>(value >> 16));
    put_u16(out, static_cast<std::uint16_t>(value & 0xffff));
}

constexpr std::size_t header_size = 12;

} // namespace

std::optional<DnsQuestion> parse_dns_query(std::string_view message) {
    if (message.size() < header_size) return std::nullopt;
    std::uint16_t flags = read_u16(message, 2);
    bool is_response = flags & 0x8000;
    int opcode = (flags >> 11) & 0xf;
    if (is_response || opcode != 0) return std::nullopt;
    if (read_u16(message, 4) != 1 || read_u16(message, 6) != 0 || read_u16(message, 8) != 0)
        return std::nullopt;
    DnsQuestion question;
    question.id = read_u16(message, 0);
    std::size_t at = header_size;
    for (;;) {
        if (at >= message.size()) return std::nullopt;
        auto length = static_cast<unsigned char>(message[at++]);
        if (length == 0) break;
        if (length > 63 || at + length > message.size()) return std::nullopt; // pointers too
        if (!question.name.empty()) question.name.push_back('.');
        for (std::size_t i = 0; i < length; ++i)
            question.name.push_back(
                static_cast<char>(std::tolower(static_cast<unsigned char>(message[at + i]))));
        at += length;
        if (question.name.size() > 253) return std::nullopt;
    }
    if (at + 4 > message.size()) return std::nullopt;
    question.type = read_u16(message, at);
    question.klass = read_u16(message, at + 2);
    question.end = at + 4;
    return question;
}

std::string build_dns_answer(std::string_view query, const DnsQuestion& question,
                             const std::vector<Ipv4>& addresses, bool name_exists,
                             std::uint32_t ttl) {
    return build_dns_answer(query, question, addresses, {}, name_exists, ttl);
}

std::string build_dns_answer(std::string_view query, const DnsQuestion& question,
                             const std::vector<Ipv4>& addresses,
                             const std::vector<Ipv6>& addresses6, bool name_exists,
                             std::uint32_t ttl) {
    std::string out;
    put_u16(out, question.id);
    std::uint16_t request_flags = read_u16(query, 2);
    // QR, the query's opcode and RD, then RA; AA as the network's authority.
    std::uint16_t flags = 0x8000 | 0x0400 | (request_flags & 0x0100) | 0x0080;
    if (!name_exists) flags |= 3; // NXDOMAIN
    put_u16(out, flags);
    put_u16(out, 1);
    put_u16(out, static_cast<std::uint16_t>(addresses.size() + addresses6.size()));
    put_u16(out, 0);
    put_u16(out, 0);
    out.append(query.substr(header_size, question.end - header_size));
    for (const auto& address : addresses) {
        put_u16(out, 0xc000 | header_size); // the question's name
        put_u16(out, dns_type_a);
        put_u16(out, dns_class_in);
        put_u32(out, ttl);
        put_u16(out, 4);
        put_u32(out, address.value);
    }
    for (const auto& address : addresses6) {
        put_u16(out, 0xc000 | header_size);
        put_u16(out, dns_type_aaaa);
        put_u16(out, dns_class_in);
        put_u32(out, ttl);
        put_u16(out, 16);
        out.append(reinterpret_cast<const char*>(address.bytes.data()), address.bytes.size());
    }
    return out;
}

} // namespace berth::network
