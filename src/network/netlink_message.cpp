#include "berth/network/netlink_message.h"

#include "berth/base/error.h"

#include <cstring>
#include <linux/netlink.h>

namespace berth::network {

namespace {

constexpr std::size_t aligned(std::size_t size) {
    return (size + NLMSG_ALIGNTO - 1) & ~static_cast<std::size_t>(NLMSG_ALIGNTO - 1);
}

nlmsghdr* header_of(std::string& buffer) {
    return reinterpret_cast<nlmsghdr*>(buffer.data());
}

} // namespace

NetlinkMessage::NetlinkMessage(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_len = sizeof header;
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    buffer_.assign(reinterpret_cast<const char*>(&header), sizeof header);
}

void NetlinkMessage::append(const void* data, std::size_t size) {
    buffer_.append(static_cast<const char*>(data), size);
    pad();
}

void NetlinkMessage::pad() {
    buffer_.resize(aligned(buffer_.size()), '\0');
    header_of(buffer_)->nlmsg_len = static_cast<std::uint32_t>(buffer_.size());
}

NetlinkMessage& NetlinkMessage::attribute(std::uint16_t type, const void* data, std::size_t size) {
    if (NLA_HDRLEN + size > 0xffff) fail("netlink attribute too large");
    nlattr header{};
    header.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + size);
    header.nla_type = type;
    buffer_.append(reinterpret_cast<const char*>(&header), sizeof header);
    buffer_.append(static_cast<const char*>(data), size);
    pad();
    return *this;
}

NetlinkMessage& NetlinkMessage::attribute(std::uint16_t type, std::string_view text) {
    std::string terminated(text);
    return attribute(type, terminated.c_str(), terminated.size() + 1);
}

NetlinkMessage& NetlinkMessage::attribute_u32(std::uint16_t type, std::uint32_t value) {
    return attribute(type, &value, sizeof value);
}

NetlinkMessage& NetlinkMessage::attribute_u8(std::uint16_t type, std::uint8_t value) {
    return attribute(type, &value, sizeof value);
}

std::size_t NetlinkMessage::begin_nested(std::uint16_t type) {
    std::size_t start = buffer_.size();
    attribute(static_cast<std::uint16_t>(type | NLA_F_NESTED), nullptr, 0);
    return start;
}

void NetlinkMessage::end_nested(std::size_t start) {
    std::size_t length = buffer_.size() - start;
    if (length > 0xffff) fail("nested netlink attribute too large");
    auto* header = reinterpret_cast<nlattr*>(buffer_.data() + start);
    header->nla_len = static_cast<std::uint16_t>(length);
}

void NetlinkMessage::set_sequence(std::uint32_t sequence) {
    header_of(buffer_)->nlmsg_seq = sequence;
}

void NetlinkMessage::add_flags(std::uint16_t flags) {
    header_of(buffer_)->nlmsg_flags |= flags;
}

std::uint32_t NetlinkMessage::sequence() const {
    return reinterpret_cast<const nlmsghdr*>(buffer_.data())->nlmsg_seq;
}

std::vector<NetlinkAttribute> parse_attributes(std::string_view data) {
    std::vector<NetlinkAttribute> attributes;
    while (data.size() >= NLA_HDRLEN) {
        nlattr header;
        std::memcpy(&header, data.data(), sizeof header);
        if (header.nla_len < NLA_HDRLEN || header.nla_len > data.size())
            fail("malformed netlink attribute: length " + std::to_string(header.nla_len) +
                 " with " + std::to_string(data.size()) + " bytes left");
        attributes.push_back({static_cast<std::uint16_t>(header.nla_type & NLA_TYPE_MASK),
                              data.substr(NLA_HDRLEN, header.nla_len - NLA_HDRLEN)});
        data.remove_prefix(std::min(data.size(), aligned(header.nla_len)));
    }
    return attributes;
}

std::optional<std::string_view> find_attribute(const std::vector<NetlinkAttribute>& attributes,
                                               std::uint16_t type) {
    for (const auto& attribute : attributes)
        if (attribute.type == type) return attribute.payload;
    return std::nullopt;
}

std::vector<NetlinkReply> parse_replies(std::string_view datagram) {
    std::vector<NetlinkReply> replies;
    while (datagram.size() >= sizeof(nlmsghdr)) {
        nlmsghdr header;
        std::memcpy(&header, datagram.data(), sizeof header);
        if (header.nlmsg_len < sizeof header || header.nlmsg_len > datagram.size())
            fail("malformed netlink message: length " + std::to_string(header.nlmsg_len) +
                 " with " + std::to_string(datagram.size()) + " bytes left");
        NetlinkReply reply;
        reply.type = header.nlmsg_type;
        reply.flags = header.nlmsg_flags;
        reply.sequence = header.nlmsg_seq;
        reply.payload = datagram.substr(sizeof header, header.nlmsg_len - sizeof header);
        if (reply.type == NLMSG_ERROR) {
            nlmsgerr error;
            if (reply.payload.size() < sizeof error.error)
                fail("malformed netlink error message: too short");
            std::memcpy(&error.error, reply.payload.data(), sizeof error.error);
            reply.error = -error.error;
        }
        replies.push_back(reply);
        datagram.remove_prefix(std::min(datagram.size(), aligned(header.nlmsg_len)));
    }
    return replies;
}

} // namespace berth::network
