// Netlink messages as bytes: a builder for requests (header, family header,
// attributes, nested attributes) and a parser for what the kernel sends
// back. Pure code with no socket, so every byte it writes or accepts is unit
// tested and fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::network {

class NetlinkMessage {
  public:
    // A message of `type` (RTM_NEWLINK...) with NLM_F_REQUEST | `flags`.
    NetlinkMessage(std::uint16_t type, std::uint16_t flags);

    // The family header (ifinfomsg, ifaddrmsg, rtmsg) right after nlmsghdr.
    template <class Header> NetlinkMessage& header(const Header& value) {
        append(&value, sizeof value);
        return *this;
    }
    NetlinkMessage& attribute(std::uint16_t type, const void* data, std::size_t size);
    NetlinkMessage& attribute(std::uint16_t type, std::string_view text); // NUL-terminated
    NetlinkMessage& attribute_u32(std::uint16_t type, std::uint32_t value);
    NetlinkMessage& attribute_u8(std::uint16_t type, std::uint8_t value);
    // An attribute whose payload is the attributes added until end_nested.
    std::size_t begin_nested(std::uint16_t type);
    void end_nested(std::size_t start);
    // Raw bytes at the current end (a nested family header, as veth's peer).
    template <class Header> NetlinkMessage& raw(const Header& value) {
        append(&value, sizeof value);
        return *this;
    }

    void set_sequence(std::uint32_t sequence);
    void add_flags(std::uint16_t flags);
    std::uint32_t sequence() const;
    // The whole message, its length field filled in.
    std::string_view bytes() const { return buffer_; }

  private:
    void append(const void* data, std::size_t size);
    void pad();
    std::string buffer_;
};

struct NetlinkAttribute {
    std::uint16_t type = 0; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    std::string_view payload;
};

// The attributes in `data`; Error on a length that runs past its end.
std::vector<NetlinkAttribute> parse_attributes(std::string_view data);
// The first attribute of `type` in `attributes`.
std::optional<std::string_view> find_attribute(const std::vector<NetlinkAttribute>& attributes,
                                               std::uint16_t type);

struct NetlinkReply {
    std::uint16_t type = 0;
    std::uint16_t flags = 0;
    std::uint32_t sequence = 0;
    std::string_view payload; // after nlmsghdr
    // For NLMSG_ERROR: the (positive) errno, 0 for an acknowledgement.
    int error = 0;
};

// The messages in one datagram from the kernel; Error on a truncated one.
std::vector<NetlinkReply> parse_replies(std::string_view datagram);

} // namespace berth::network
