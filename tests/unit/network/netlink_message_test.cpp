#include "berth/base/error.h"
#include "berth/network/netlink_message.h"

#include <gtest/gtest.h>

#include <cstring>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

namespace {

using namespace berth::network;

TEST(NetlinkMessage, HeaderLengthAndFlagsAreFilledIn) {
    NetlinkMessage message(RTM_NEWLINK, NLM_F_CREATE);
    ifinfomsg info{};
    info.ifi_index = 7;
    message.header(info).attribute(IFLA_IFNAME, "br0");
    message.set_sequence(42);
    auto bytes = message.bytes();
    nlmsghdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    EXPECT_EQ(header.nlmsg_len, bytes.size());
    EXPECT_EQ(header.nlmsg_type, RTM_NEWLINK);
    EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE);
    EXPECT_EQ(header.nlmsg_seq, 42u);
    // 16 header + 16 ifinfomsg + 4 attribute header + "br0\0" (already aligned).
    EXPECT_EQ(bytes.size(), 16u + 16u + 8u);
    auto attributes = parse_attributes(bytes.substr(sizeof header + sizeof info));
    ASSERT_EQ(attributes.size(), 1u);
    EXPECT_EQ(attributes[0].type, IFLA_IFNAME);
    EXPECT_EQ(std::string(attributes[0].payload), std::string("br0\0", 4));
}

TEST(NetlinkMessage, AttributesArePaddedToFourBytes) {
    NetlinkMessage message(RTM_NEWLINK, 0);
    message.attribute_u8(1, 5).attribute(2, "abcde");
    auto bytes = message.bytes();
    EXPECT_EQ(bytes.size() % 4, 0u);
    auto attributes = parse_attributes(bytes.substr(sizeof(nlmsghdr)));
    ASSERT_EQ(attributes.size(), 2u);
    EXPECT_EQ(attributes[0].payload.size(), 1u);
    EXPECT_EQ(attributes[0].payload[0], 5);
    EXPECT_EQ(attributes[1].payload.size(), 6u);
}

TEST(NetlinkMessage, NestedAttributesHoldTheirChildren) {
    NetlinkMessage message(RTM_NEWLINK, 0);
    auto outer = message.begin_nested(IFLA_LINKINFO);
    message.attribute(IFLA_INFO_KIND, "veth");
    auto inner = message.begin_nested(IFLA_INFO_DATA);
    message.attribute_u32(9, 1234);
    message.end_nested(inner);
    message.end_nested(outer);
    message.attribute_u32(IFLA_MTU, 1500);
    auto top = parse_attributes(message.bytes().substr(sizeof(nlmsghdr)));
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].type, IFLA_LINKINFO); // the NESTED bit is masked off
    EXPECT_EQ(top[1].type, IFLA_MTU);
    auto children = parse_attributes(top[0].payload);
    ASSERT_EQ(children.size(), 2u);
    EXPECT_EQ(std::string(children[0].payload.data()), "veth");
    auto grandchildren = parse_attributes(children[1].payload);
    ASSERT_EQ(grandchildren.size(), 1u);
    std::uint32_t value;
    std::memcpy(&value, grandchildren[0].payload.data(), 4);
    EXPECT_EQ(value, 1234u);
}

TEST(NetlinkMessage, AttributeRunningPastTheEndIsRejected) {
    std::string bytes(8, '\0');
    nlattr header{100, 1};
    std::memcpy(bytes.data(), &header, sizeof header);
    EXPECT_THROW(parse_attributes(bytes), berth::Error);
    nlattr tiny{2, 1};
    std::memcpy(bytes.data(), &tiny, sizeof tiny);
    EXPECT_THROW(parse_attributes(bytes), berth::Error);
}

std::string error_message(std::uint32_t sequence, int error) {
    std::string bytes(sizeof(nlmsghdr) + sizeof(nlmsgerr), '\0');
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(bytes.size());
    header.nlmsg_type = NLMSG_ERROR;
    header.nlmsg_seq = sequence;
    nlmsgerr body{};
    body.error = -error;
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + sizeof header, &body, sizeof body);
    return bytes;
}

TEST(NetlinkReplies, ErrorsAndAcknowledgementsAreDecoded) {
    std::string datagram = error_message(3, 0) + error_message(4, 17);
    auto replies = parse_replies(datagram);
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].sequence, 3u);
    EXPECT_EQ(replies[0].error, 0);
    EXPECT_EQ(replies[1].sequence, 4u);
    EXPECT_EQ(replies[1].error, 17);
}

TEST(NetlinkReplies, TruncatedMessageIsRejected) {
    std::string datagram = error_message(1, 0);
    datagram.resize(datagram.size() - 4);
    EXPECT_THROW(parse_replies(datagram), berth::Error);
    std::string short_error = error_message(1, 0).substr(0, sizeof(nlmsghdr) + 2);
    nlmsghdr header;
    std::memcpy(&header, short_error.data(), sizeof header);
    header.nlmsg_len = static_cast<std::uint32_t>(short_error.size());
    std::memcpy(short_error.data(), &header, sizeof header);
    EXPECT_THROW(parse_replies(short_error), berth::Error);
}

} // namespace
