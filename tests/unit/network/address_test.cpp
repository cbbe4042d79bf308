#include "berth/base/error.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"
#include "berth/network/firewall.h"
#include "berth/network/ipam.h"
#include "berth/network/ports.h"

#include <gtest/gtest.h>

namespace {

using namespace berth::network;

Ipv4 ip(const char* text) {
    return *parse_ipv4(text);
}

TEST(Address, ParsesAndPrintsIpv4) {
    EXPECT_EQ(ip("10.1.2.3").value, 0x0a010203u);
    EXPECT_EQ(to_string(ip("172.30.0.1")), "172.30.0.1");
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d",
                            "1.2.3.4 ", "-1.2.3.4", "1234.1.1.1"})
        EXPECT_FALSE(parse_ipv4(bad)) << bad;
}

TEST(Address, SubnetsParseStrictly) {
    Subnet subnet = parse_subnet("172.30.0.0/16");
    EXPECT_EQ(subnet.prefix, 16);
    EXPECT_EQ(to_string(subnet.broadcast()), "172.30.255.255");
    EXPECT_EQ(to_string(subnet.first_host()), "172.30.0.1");
    EXPECT_TRUE(subnet.contains(ip("172.30.9.9")));
    EXPECT_FALSE(subnet.contains(ip("172.31.0.1")));
    EXPECT_TRUE(subnet.overlaps(parse_subnet("172.30.5.0/24")));
    EXPECT_FALSE(subnet.overlaps(parse_subnet("172.31.0.0/16")));
    for (const char* bad : {"172.30.0.0", "172.30.0.0/33", "172.30.0.0/", "x/16", "172.30.0.0/1a"})
        EXPECT_THROW(parse_subnet(bad), berth::Error) << bad;
    try {
        parse_subnet("10.1.2.3/16");
        FAIL();
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("10.1.0.0/16"), std::string::npos);
    }
}

TEST(Ipam, GivesTheLowestFreeAddressAfterTheGateway) {
    Subnet subnet = parse_subnet("10.5.0.0/24");
    Ipv4 gateway = subnet.first_host();
    EXPECT_EQ(to_string(*next_free_address(subnet, gateway, {})), "10.5.0.2");
    EXPECT_EQ(to_string(*next_free_address(subnet, gateway, {ip("10.5.0.2"), ip("10.5.0.3")})),
              "10.5.0.4");
    // A released address comes back.
    EXPECT_EQ(to_string(*next_free_address(subnet, gateway, {ip("10.5.0.3")})), "10.5.0.2");
    // A gateway elsewhere in the subnet is skipped, and .1 is usable.
    EXPECT_EQ(to_string(*next_free_address(subnet, ip("10.5.0.9"), {})), "10.5.0.1");
}

TEST(Ipam, FullSubnetHasNoAddress) {
    Subnet subnet = parse_subnet("10.5.0.0/30"); // .1 gateway, .2 the only host
    Ipv4 gateway = subnet.first_host();
    EXPECT_EQ(to_string(*next_free_address(subnet, gateway, {})), "10.5.0.2");
    EXPECT_FALSE(next_free_address(subnet, gateway, {ip("10.5.0.2")}));
    EXPECT_FALSE(next_free_address(parse_subnet("10.5.0.0/31"), gateway, {}));
    // Never the broadcast address.
    std::set<Ipv4> taken;
    Subnet small = parse_subnet("10.6.0.0/29");
    while (auto next = next_free_address(small, small.first_host(), taken))
        taken.insert(*next);
    EXPECT_EQ(taken.size(), 5u);
    EXPECT_FALSE(taken.contains(small.broadcast()));
}

TEST(Ipam, PicksASubnetNoOtherNetworkUses) {
    EXPECT_EQ(to_string(pick_free_subnet({})), "172.30.0.0/16");
    EXPECT_EQ(to_string(pick_free_subnet({parse_subnet("172.30.7.0/24")})), "172.31.0.0/16");
    EXPECT_EQ(to_string(pick_free_subnet({parse_subnet("172.16.0.0/12")})), "10.89.0.0/16");
}

TEST(Ports, ParsesEveryDockerForm) {
    auto full = parse_port_mapping("127.0.0.1:8080:80/udp");
    EXPECT_EQ(to_string(full.host_ip), "127.0.0.1");
    EXPECT_EQ(full.host_port, 8080);
    EXPECT_EQ(full.container_port, 80);
    EXPECT_EQ(full.protocol, "udp");
    auto pair = parse_port_mapping("8080:80");
    EXPECT_EQ(pair.host_ip.value, 0u);
    EXPECT_EQ(pair.host_port, 8080);
    EXPECT_EQ(pair.protocol, "tcp");
    auto alone = parse_port_mapping("80");
    EXPECT_EQ(alone.host_port, 0);
    EXPECT_EQ(alone.container_port, 80);
    auto any_port = parse_port_mapping("127.0.0.1::80");
    EXPECT_EQ(any_port.host_port, 0);
    EXPECT_EQ(to_string(any_port.host_ip), "127.0.0.1");
    EXPECT_EQ(to_string(parse_port_mapping("1.2.3.4:5:6/tcp")), "1.2.3.4:5->6/tcp");
    for (const char* bad : {"", "0", "70000", "80/sctp", "a:80", "8080:", ":80", "1.2.3:8:80",
                            "8000-8001:80", "x", "80/", "[::1]:80:80"})
        EXPECT_THROW(parse_port_mapping(bad), berth::Error) << bad;
}

TEST(Ports, RangesAreOneMappingPerPort) {
    auto three = parse_port_mappings("127.0.0.1:8000-8002:80-82/udp");
    ASSERT_EQ(three.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(three[i].host_port, 8000 + i);
        EXPECT_EQ(three[i].container_port, 80 + i);
        EXPECT_EQ(three[i].protocol, "udp");
        EXPECT_EQ(to_string(three[i].host_ip), "127.0.0.1");
    }
    auto free_ports = parse_port_mappings("80-81");
    ASSERT_EQ(free_ports.size(), 2u);
    EXPECT_EQ(free_ports[1].host_port, 0);
    EXPECT_EQ(free_ports[1].container_port, 81);
    EXPECT_EQ(parse_port_mappings("8080:80").size(), 1u);
    for (const char* bad : {"8000-8001:80-82", "82-80", "8002-8000:80-82", "80-", "-80",
                            "8000-8001:80", "0-2:1-3", "80-70000"})
        EXPECT_THROW(parse_port_mappings(bad), berth::Error) << bad;
    EXPECT_THROW(parse_port_mapping("8000-8001:80-81"), berth::Error);
}

TEST(Ports, FreeHostPortIsBindable) {
    EXPECT_GT(free_host_port("tcp"), 0);
    EXPECT_GT(free_host_port("udp"), 0);
}

TEST(Firewall, NetworkTableMasqueradesAndIsolates) {
    NetworkRules rules{"berth-br9", "br9", parse_subnet("10.9.0.0/16"), std::nullopt, false};
    std::string text = network_ruleset(rules);
    EXPECT_NE(text.find("delete table ip berth-br9"), std::string::npos);
    EXPECT_NE(text.find("ip saddr 10.9.0.0/16 oifname != \"br9\" masquerade"), std::string::npos);
    EXPECT_NE(text.find("oifname \"br9\" drop"), std::string::npos);
    EXPECT_EQ(text.find("iifname \"br9\" drop"), std::string::npos);
    rules.internal = true;
    text = network_ruleset(rules);
    EXPECT_EQ(text.find("oifname != \"br9\" masquerade"), std::string::npos);
    EXPECT_NE(text.find("iifname \"br9\" drop"), std::string::npos);
}

TEST(Firewall, Ipv6NetworkGetsAnIp6TableOfTheSameName) {
    NetworkRules rules{"berth-br9", "br9", parse_subnet("10.9.0.0/16"),
                       parse_subnet6("fd00:9::/64"), false};
    std::string text = network_ruleset(rules);
    EXPECT_NE(text.find("delete table ip6 berth-br9"), std::string::npos);
    EXPECT_NE(text.find("table ip6 berth-br9 {"), std::string::npos);
    EXPECT_NE(text.find("ip6 saddr fd00:9::/64 oifname != \"br9\" masquerade"), std::string::npos);
    PublishRules publish{
        "berth-c-abc",
        "br9",
        ip("10.9.0.2"),
        parse_ipv6("fd00:9::2"),
        {parse_port_mapping("8080:80"), parse_port_mapping("127.0.0.1:53:53/udp")}};
    text = publish_ruleset(publish);
    EXPECT_NE(text.find("ip6 daddr != ::1 tcp dport 8080 dnat to [fd00:9::2]:80"),
              std::string::npos);
    // A port on one IPv4 host address has no IPv6 rule.
    EXPECT_EQ(text.find("dport 53 dnat to [fd00:9::2]"), std::string::npos);
}

TEST(Address6, ParsesSubnetsAndHandsOutTheLowestFreeAddress) {
    Subnet6 subnet = parse_subnet6("fd00:1:2:3::/64");
    EXPECT_EQ(to_string(subnet), "fd00:1:2:3::/64");
    EXPECT_EQ(to_string(subnet.first_host()), "fd00:1:2:3::1");
    EXPECT_TRUE(subnet.contains(*parse_ipv6("fd00:1:2:3::ffff")));
    EXPECT_FALSE(subnet.contains(*parse_ipv6("fd00:1:2:4::1")));
    auto gateway = subnet.first_host();
    EXPECT_EQ(to_string(*next_free_address6(subnet, gateway, {})), "fd00:1:2:3::2");
    EXPECT_EQ(to_string(*next_free_address6(subnet, gateway, {*parse_ipv6("fd00:1:2:3::2")})),
              "fd00:1:2:3::3");
    Subnet6 tiny = parse_subnet6("fd00::/120");
    std::set<Ipv6> all;
    for (int i = 2; i < 255; ++i)
        all.insert(tiny.network.with_low64(static_cast<std::uint64_t>(i)));
    EXPECT_FALSE(next_free_address6(tiny, tiny.first_host(), all));
    for (const char* bad : {"fd00::", "fd00::1/64", "fd00::/47", "fd00::/121", "10.0.0.0/8",
                            "fd00::/x", "zz::/64", "fd00::/64/1"})
        EXPECT_THROW(parse_subnet6(bad), berth::Error) << bad;
    EXPECT_FALSE(parse_ipv6("1.2.3.4"));
    EXPECT_FALSE(parse_ipv6("fe80::1%eth0"));
    Subnet6 made = unique_local_subnet("abc");
    EXPECT_EQ(made.network.bytes[0], 0xfd);
    EXPECT_EQ(made.prefix, 64);
    EXPECT_EQ(made, unique_local_subnet("abc"));
    EXPECT_NE(made, unique_local_subnet("abd"));
}

TEST(Firewall, PublishTableDnatsFromHostAndLoopback) {
    PublishRules rules{"berth-c-abc",
                       "br9",
                       ip("10.9.0.2"),
                       std::nullopt,
                       {parse_port_mapping("8080:80"), parse_port_mapping("127.0.0.1:53:53/udp")}};
    std::string text = publish_ruleset(rules);
    EXPECT_NE(text.find("fib daddr type local tcp dport 8080 dnat to 10.9.0.2:80"),
              std::string::npos);
    EXPECT_NE(text.find("ip daddr 127.0.0.1 udp dport 53 dnat to 10.9.0.2:53"), std::string::npos);
    EXPECT_NE(text.find("hook output"), std::string::npos);
    rules.ports.clear();
    EXPECT_EQ(publish_ruleset(rules).find("chain"), std::string::npos);
}

} // namespace

#include "berth/network/dns_message.h"

namespace {

std::string dns_query(const std::string& name, std::uint16_t type, std::uint16_t id = 0x1234) {
    std::string out = {static_cast<char>(id >> 8),
                       static_cast<char>(id & 0xff),
                       0x01,
                       0x00,
                       0,
                       1,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0};
    std::size_t start = 0;
    while (start <= name.size()) {
        auto dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        out.push_back(static_cast<char>(dot - start));
        out += name.substr(start, dot - start);
        start = dot + 1;
    }
    out.push_back(0);
    out += {static_cast<char>(type >> 8), static_cast<char>(type & 0xff), 0, 1};
    return out;
}

TEST(Dns, ParsesOneQuestionQueries) {
    auto question = berth::network::parse_dns_query(dns_query("Web.Local", 1));
    ASSERT_TRUE(question);
    EXPECT_EQ(question->id, 0x1234);
    EXPECT_EQ(question->name, "web.local");
    EXPECT_EQ(question->type, berth::network::dns_type_a);
    std::string query = dns_query("web", 1);
    for (std::size_t cut = 0; cut < query.size(); ++cut)
        EXPECT_FALSE(berth::network::parse_dns_query(query.substr(0, cut))) << cut;
    std::string response = query;
    response[2] = static_cast<char>(0x81);
    EXPECT_FALSE(berth::network::parse_dns_query(response));
    std::string pointer = query;
    pointer[12] = static_cast<char>(0xc0);
    EXPECT_FALSE(berth::network::parse_dns_query(pointer));
}

TEST(Dns, AnswersWithARecordsOrNxdomain) {
    using namespace berth::network;
    std::string query = dns_query("web", dns_type_a);
    auto question = *parse_dns_query(query);
    std::string answer = build_dns_answer(query, question, {*parse_ipv4("10.1.2.3")}, true);
    ASSERT_EQ(answer.size(), query.size() + 16);
    EXPECT_EQ(answer.substr(0, 2), query.substr(0, 2));
    EXPECT_EQ(static_cast<unsigned char>(answer[2]) & 0x80, 0x80); // a response
    EXPECT_EQ(answer[3] & 0x0f, 0);                                // NOERROR
    EXPECT_EQ(answer[7], 1);                                       // one answer
    EXPECT_EQ(answer.substr(answer.size() - 4), std::string("\x0a\x01\x02\x03", 4));
    std::string missing = build_dns_answer(query, question, {}, false);
    EXPECT_EQ(missing[3] & 0x0f, 3);
    EXPECT_EQ(missing[7], 0);
}

TEST(Dns, AnswersWithAaaaRecords) {
    using namespace berth::network;
    std::string query = dns_query("web", dns_type_aaaa);
    auto question = *parse_dns_query(query);
    Ipv6 address = *parse_ipv6("fd00::2");
    std::string answer = build_dns_answer(query, question, {}, {address}, true);
    ASSERT_EQ(answer.size(), query.size() + 28);
    EXPECT_EQ(answer[7], 1);
    EXPECT_EQ(answer[answer.size() - 28 + 3], dns_type_aaaa); // the record's type
    EXPECT_EQ(answer.substr(answer.size() - 16),
              std::string(reinterpret_cast<const char*>(address.bytes.data()), 16));
}

} // namespace
