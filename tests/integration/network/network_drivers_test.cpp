// Networks beyond the IPv4 bridge: IPv6 bridge networks, macvlan and ipvlan
// on a parent link, and the resolver over TCP. Same fixture and leak checks
// as network_cli_test.cpp.

#include "network_fixture.hpp"

namespace {

class NetworkDriversTest : public NetworkTest {};

// network create --ipv6: a second address from the same IPAM, the default
// route, /etc/hosts, AAAA answers, ip6 rules (isolation, -p DNAT), real
// traffic over IPv6 between containers and from the host.
TEST_F(NetworkDriversTest, Ipv6NetworksCarryTrafficNamesAndPublishedPorts) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    std::string prefix6 = "fd00:" + tag + ":21::";
    ASSERT_EQ(berth({"network", "create", "--ipv6", "--subnet", "10.221." + tag + ".0/24",
                     "--subnet", prefix6 + "/64", "six"})
                  .exit_code,
              0);
    ASSERT_EQ(berth({"network", "create", "--ipv6", "--subnet", "10.222." + tag + ".0/24",
                     "--subnet", "fd00:" + tag + ":22::/64", "six-other"})
                  .exit_code,
              0);
    json inspected = json::parse(berth({"network", "inspect", "six"}).out)[0];
    EXPECT_EQ(inspected["EnableIPv6"], true);
    EXPECT_EQ(inspected["IPAM"]["Config"][1]["Gateway"], prefix6 + "1");
    int port = 30000 + ::getpid() % 20000;
    run_detached({"--name", "srv6", "--network", "six", "-p", std::to_string(port) + ":80",
                  "busybox", "sh", "-c",
                  "echo over-ipv6 > /tmp/index.html; httpd -f -p 80 -h /tmp"});
    json endpoints = endpoints_on("six");
    ASSERT_EQ(endpoints.size(), 1u);
    EXPECT_EQ(endpoints.begin().value()["IPv6Address"], prefix6 + "2/64");
    CommandResult client =
        berth({"run", "--rm", "--network", "six", "busybox", "sh", "-c",
               "ip -6 addr show eth0; ip -6 route; cat /etc/hosts; ping -6 -c1 -W3 srv6; "
               "nslookup -type=AAAA srv6; wget -qO- http://[" +
                   prefix6 + "2]/index.html"});
    EXPECT_EQ(client.exit_code, 0) << client;
    EXPECT_NE(client.out.find("inet6 " + prefix6 + "3/64"), std::string::npos) << client.out;
    EXPECT_NE(client.out.find("default via " + prefix6 + "1"), std::string::npos) << client.out;
    EXPECT_NE(client.out.find(prefix6 + "3\t"), std::string::npos) << "hosts: " << client.out;
    EXPECT_NE(client.out.find("1 packets received"), std::string::npos) << client.out;
    EXPECT_NE(client.out.find("Address: " + prefix6 + "2"), std::string::npos) << client.out;
    EXPECT_NE(client.out.find("over-ipv6"), std::string::npos) << client.out;
    // The host reaches the published port on its IPv6 address of the network.
    std::string reply;
    for (int i = 0; i < 50 && reply.empty(); ++i) {
        reply = tcp_exchange6(prefix6 + "1", port, "GET /index.html HTTP/1.0\r\n\r\n");
        if (reply.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(reply.find("over-ipv6"), std::string::npos) << reply;
    // Another IPv6 network cannot reach it.
    CommandResult stranger = berth({"run", "--rm", "--network", "six-other", "busybox", "sh", "-c",
                                    "ping -6 -c1 -W1 " + prefix6 + "2 && echo reached"});
    EXPECT_EQ(stranger.out.find("reached"), std::string::npos) << stranger;
    EXPECT_EQ(berth({"rm", "-f", "srv6"}).exit_code, 0);
    EXPECT_EQ(tcp_exchange6(prefix6 + "1", port, "GET / HTTP/1.0\r\n\r\n"), "");
    // Bad input: one line, nothing made.
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"network", "create", "--subnet", "fd00:1::/64", "bad6"},
          std::vector<std::string>{"network", "create", "--ipv6", "--subnet", "fd00:1::/130",
                                   "bad6"},
          std::vector<std::string>{"network", "create", "--ipv6", "--subnet", "fd00:1::/64",
                                   "--gateway", "fd00:2::1", "bad6"}}) {
        CommandResult failed = berth(bad);
        EXPECT_NE(failed.exit_code, 0) << failed;
        EXPECT_EQ(lines_of(failed.err).size(), 1u) << failed.err;
    }
    EXPECT_NE(berth({"network", "inspect", "bad6"}).exit_code, 0);
    EXPECT_EQ(berth({"network", "rm", "six", "six-other"}).exit_code, 0);
}

// -d macvlan and -d ipvlan on a parent link (a dummy one the test makes):
// containers on one network reach each other at their own addresses; no
// bridge, veth or rule of berth's; bad options are one line and make nothing.
TEST_F(NetworkDriversTest, MacvlanAndIpvlanNetworksOnAParentLink) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    std::string parent = "bmv" + std::to_string(::getpid());
    // A veth pair's end as the parent (this kernel may lack the dummy driver).
    ASSERT_EQ(
        run_command({"ip", "link", "add", parent, "type", "veth", "peer", "name", parent + "p"})
            .exit_code,
        0);
    run_command({"ip", "link", "set", parent, "up"});
    run_command({"ip", "link", "set", parent + "p", "up"});
    std::vector<std::string> drivers = {"macvlan"};
    // ipvlan only where the kernel has it.
    if (run_command({"ip", "link", "add", "link", parent, "name", parent + "i", "type", "ipvlan"})
            .exit_code == 0) {
        run_command({"ip", "link", "del", parent + "i"});
        drivers.push_back("ipvlan");
    }
    int third = 0;
    for (const auto& driver : drivers) {
        std::string subnet = "10.22" + std::to_string(3 + third++) + "." + tag + ".";
        CommandResult made = berth({"network", "create", "-d", driver, "-o", "parent=" + parent,
                                    "--subnet", subnet + "0/24", "sub"});
        ASSERT_EQ(made.exit_code, 0) << made;
        EXPECT_EQ(
            trim(berth({"network", "inspect", "--format", "{{.Driver}} {{.Options.parent}}", "sub"})
                     .out),
            std::string(driver) + " " + parent);
        run_detached({"--name", "first", "--network", "sub", "busybox", "sh", "-c",
                      "while true; do nc -l -p 7000 -e echo pong; done"});
        CommandResult client =
            berth({"run", "--rm", "--network", "sub", "busybox", "sh", "-c",
                   "ip -4 addr show eth0; echo hi | nc -w 3 " + subnet + "2 7000"});
        EXPECT_NE(client.out.find("inet " + subnet + "3/24"), std::string::npos) << client;
        EXPECT_NE(client.out.find("pong"), std::string::npos) << driver << ": " << client;
        // The next container gets the address the last one freed, and on
        // macvlan its MAC: it comes up though the kernel may not yet have
        // destroyed the last one's link (EADDRINUSE, once in two runs).
        for (int i = 0; i < 5; ++i) {
            CommandResult again = berth({"run", "--rm", "--network", "sub", "busybox", "true"});
            EXPECT_EQ(again.exit_code, 0) << driver << ": " << again;
        }
        // Ports are a bridge's: refused, and nothing stays.
        CommandResult published =
            berth({"run", "--rm", "--network", "sub", "-p", "80", "busybox", "true"});
        EXPECT_EQ(published.exit_code, 125) << published;
        EXPECT_NE(published.err.find("published ports need a bridge network"), std::string::npos)
            << published;
        EXPECT_EQ(berth({"rm", "-f", "first"}).exit_code, 0);
        EXPECT_EQ(berth({"network", "rm", "sub"}).exit_code, 0);
    }
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"network", "create", "-d", "macvlan", "nosub"},
          std::vector<std::string>{"network", "create", "-d", "macvlan", "-o",
                                   "parent=nonexistent0", "nosub"},
          std::vector<std::string>{"network", "create", "-d", "overlay", "nosub"},
          std::vector<std::string>{"network", "create", "-o", "mtu=9000", "nosub"}}) {
        CommandResult failed = berth(bad);
        EXPECT_NE(failed.exit_code, 0) << failed;
        EXPECT_EQ(lines_of(failed.err).size(), 1u) << failed.err;
    }
    EXPECT_NE(berth({"network", "inspect", "nosub"}).exit_code, 0);
    run_command({"ip", "link", "del", parent});
}

// A query over TCP (2-byte length, then the message), sent by busybox's nc
// from a container: the same A record as over UDP.
TEST_F(NetworkDriversTest, ResolverAnswersOverTcpToo) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    ASSERT_EQ(
        berth({"network", "create", "--subnet", "10.219." + tag + ".0/24", "tcpdns"}).exit_code, 0);
    run_detached({"--name", "named", "--network", "tcpdns", "busybox", "sleep", "60"});
    std::string address = address_of("tcpdns", "named");
    ASSERT_FALSE(address.empty());
    // id 0x1234, RD, one question: "named" IN A; 12 + 7 + 4 = 23 bytes.
    std::string query = "\\000\\027\\022\\064\\001\\000\\000\\001\\000\\000\\000\\000\\000\\000"
                        "\\005named\\000\\000\\001\\000\\001";
    CommandResult asked =
        berth({"run", "--rm", "--network", "tcpdns", "busybox", "sh", "-c",
               "printf '" + query + "' | nc -w 3 10.219." + tag + ".1 53 | od -An -tu1 -v"});
    ASSERT_EQ(asked.exit_code, 0) << asked;
    std::vector<int> bytes;
    std::stringstream numbers(asked.out);
    for (int byte; numbers >> byte;)
        bytes.push_back(byte);
    // Length prefix, the same id, a response with one answer, whose last 4 bytes are the address.
    ASSERT_GE(bytes.size(), 2u + 12u + 16u) << asked.out;
    EXPECT_EQ(bytes[0] << 8 | bytes[1], static_cast<int>(bytes.size()) - 2);
    EXPECT_EQ(bytes[2], 0x12);
    EXPECT_EQ(bytes[3], 0x34);
    EXPECT_TRUE(bytes[4] & 0x80) << "not a response";
    EXPECT_EQ(bytes[9], 1) << "answer count";
    std::string answered;
    for (std::size_t i = bytes.size() - 4; i < bytes.size(); ++i)
        answered += (answered.empty() ? "" : ".") + std::to_string(bytes[i]);
    EXPECT_EQ(answered, address);
    EXPECT_EQ(berth({"rm", "-f", "named"}).exit_code, 0);
    EXPECT_EQ(berth({"network", "rm", "tcpdns"}).exit_code, 0);
}

} // namespace
